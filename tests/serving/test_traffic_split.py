"""``TrafficSplit``: shares that follow the weights, sticky keys that keep their route across
servers and processes, weights changed on a running server without dropping requests, and
shadow routes that never touch the answer."""

from __future__ import annotations

import asyncio
import collections
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.graph.traffic import TrafficSplit, stable_hash
from fnrun.mock.server import MockRequestError

SHADOW_SEEN: list[Any] = []


class Version:
    def __init__(self, context: Any = None, name: str = "", **kwargs: Any) -> None:
        self.name = name

    def do(self, body: Any) -> Any:
        return {"route": self.name, "x": body.get("x")}


class Shadow:
    def __init__(self, context: Any = None, name: str = "", mode: str = "ok", **kw: Any) -> None:
        self.mode = mode

    def do(self, body: Any) -> Any:
        body["touched"] = True  # a shadow that changes its copy changes nothing else
        SHADOW_SEEN.append(body)
        if self.mode == "fail":
            raise RuntimeError("the shadow broke")
        if self.mode == "hang":
            time.sleep(2)
        return {"route": "shadow"}


class AsyncShadow:
    def __init__(self, context: Any = None, name: str = "", **kw: Any) -> None:
        pass

    async def do(self, body: Any) -> Any:
        SHADOW_SEEN.append(body)
        await asyncio.sleep(5)  # hangs past the mirror timeout
        return {"route": "shadow"}


def _split(engine: str = "sync", **split: Any) -> Any:
    fn = fnrun.new_function("split", kind="serving")
    fn.set_topology("router", TrafficSplit(**split), engine=engine)  # type: ignore[attr-defined]
    for name in ("v1", "v2"):
        fn.add_model(name, class_name=Version, name=name)  # type: ignore[attr-defined]
    return fn


def _router(server: Any) -> TrafficSplit:
    return next(o for o in server.server.compiled.objects if isinstance(o, TrafficSplit))


def _counts(router: TrafficSplit) -> tuple[int, int]:
    return router.mirrored.get("v3", 0), router.mirror_skipped.get("v3", 0)


def _routes(server: Any, bodies: list[Any], **kw: Any) -> collections.Counter[str]:
    return collections.Counter(server.test("/", b, **kw)["route"] for b in bodies)


def test_shares_follow_the_weights() -> None:
    server = _split(weights={"v1": 90, "v2": 10}).to_mock_server(namespace=globals())
    counts = _routes(server, [{"x": i} for i in range(10_000)])
    assert abs(counts["v1"] / 10_000 - 0.9) <= 0.02 and abs(counts["v2"] / 10_000 - 0.1) <= 0.02
    by_path = server.test("/v2/models/v2/infer", {"x": 1})  # a version named by its path
    assert by_path["route"] == "v2"
    assert server.test("/v2/models/", method="GET")["weights"] == {"v1": 90.0, "v2": 10.0}


def test_a_sticky_key_keeps_its_route_across_servers_and_processes() -> None:
    fn = _split(weights={"v1": 50, "v2": 50}, sticky="user.id")
    first = fn.to_mock_server(namespace=globals())
    users = [f"user-{i}" for i in range(200)]
    chosen = {u: first.test("/", {"user": {"id": u}})["route"] for u in users}
    again = fn.to_mock_server(namespace=globals())  # a restart, another replica
    assert {u: again.test("/", {"user": {"id": u}})["route"] for u in users} == chosen
    assert {u: first.test("/", {"user": {"id": u}})["route"] for u in users} == chosen
    assert 0.4 < collections.Counter(chosen.values())["v1"] / len(users) < 0.6
    code = "from fnrun.graph.traffic import stable_hash; print(stable_hash('user-7'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert int(other.stdout) == stable_hash("user-7")  # no per-process hash seed
    header = _split(weights={"v1": 1, "v2": 1}, sticky="x-user").to_mock_server(namespace=globals())
    routes = {header.test("/", {"x": 1}, headers={"x-user": "ann"})["route"] for _ in range(20)}
    assert len(routes) == 1


def test_weights_change_on_a_running_server_without_dropping_requests() -> None:
    server = _split("async", weights={"v1": 100, "v2": 0}).to_mock_server(namespace=globals())

    async def go() -> list[Any]:
        sent = [server.test_async("/", {"x": i}) for i in range(300)]
        change = server.test_async("/v2/split", {"weights": {"v1": 0, "v2": 100}}, method="PUT")
        return await asyncio.gather(*sent[:150], change, *sent[150:])

    answers = asyncio.run(go())
    assert answers[150]["weights"] == {"v1": 0.0, "v2": 100.0}
    routed = [a["route"] for i, a in enumerate(answers) if i != 150]
    assert len(routed) == 300 and set(routed) <= {"v1", "v2"}  # every request answered
    assert _routes(server, [{"x": 1}] * 10) == {"v2": 10}
    with pytest.raises(MockRequestError, match="routes the router does not have: v9"):
        server.test("/v2/split", {"weights": {"v9": 1}}, method="PUT")
    with pytest.raises(MockRequestError, match="must be a number >= 0"):
        server.test("/v2/split", {"weights": {"v1": -1}}, method="PUT")


def test_bad_splits_fail_when_the_graph_is_built() -> None:
    with pytest.raises(InvalidArgumentError, match="must map route names"):
        TrafficSplit(weights={})
    with pytest.raises(InvalidArgumentError, match="share from 0 to 1"):
        TrafficSplit(weights={"v1": 1}, mirror={"v1": 2})
    fn = _split(weights={"v1": 1, "v3": 1})
    with pytest.raises(InvalidArgumentError, match="does not have: v3"):
        fn.to_mock_server(namespace=globals())


@pytest.mark.parametrize("mode", ["ok", "fail", "hang"])
def test_a_shadow_never_changes_the_answer(mode: str) -> None:
    SHADOW_SEEN.clear()
    fn = _split(weights={"v1": 1}, mirror={"v3": 0.5}, mirror_limit=20)
    fn.add_model("v3", class_name=Shadow, mode=mode)  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())
    start = time.perf_counter()
    answers = [server.test("/", {"x": i}) for i in range(200)]
    took = time.perf_counter() - start
    assert [a for a in answers] == [{"route": "v1", "x": i} for i in range(200)]
    assert took < 1.5  # a hanging shadow (2 s each) never delays the primary
    router = _router(server)
    expected = sum(1 for i in range(200) if stable_hash(f"v3/{i + 1}") < 0.5 * 2**64)
    deadline = time.monotonic() + 10
    while mode != "hang" and sum(_counts(router)) < expected:
        assert time.monotonic() < deadline, router.mirrored
        time.sleep(0.01)
    assert 80 < expected < 120
    if mode != "hang":  # each mirrored request was shadowed, or skipped and counted
        assert sum(_counts(router)) == expected and router.mirrored["v3"] >= 20
        assert all(body.get("touched") for body in SHADOW_SEEN)
    if mode == "fail":
        assert router.mirror_failed["v3"] == router.mirrored["v3"]
    if mode == "hang":  # at most mirror_limit wait; the rest are skipped and counted
        assert router.mirror_skipped["v3"] >= expected - 20
    samples = {
        (name, labels.get("route")): value
        for name, _kind, labels, value in server.server.load_samples("split")
    }
    assert samples[("fnrun_split_requests", "v1")] == 200
    server.close()


def test_an_async_shadow_that_hangs_is_cancelled_at_its_timeout() -> None:
    SHADOW_SEEN.clear()
    fn = _split("async", weights={"v1": 1}, mirror={"v3": 1.0}, mirror_timeout=0.2)
    fn.add_model("v3", class_name=AsyncShadow)  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())

    async def go() -> tuple[list[Any], float]:
        start = time.perf_counter()
        answers = await asyncio.gather(*(server.test_async("/", {"x": i}) for i in range(20)))
        took = time.perf_counter() - start
        await asyncio.sleep(0.5)  # the shadows' timeout passes
        return answers, took

    answers, took = asyncio.run(go())
    assert [a["route"] for a in answers] == ["v1"] * 20 and took < 0.15
    router = _router(server)
    assert router.mirrored["v3"] == 20 and router.mirror_failed["v3"] == 20


def test_over_http_the_split_is_read_changed_with_the_secret_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "versions.py"
    code.write_text(
        "class Version:\n"
        "    def __init__(self, context=None, name='', **kw):\n"
        "        self.name = name\n"
        "    def do(self, body):\n"
        "        return {'route': self.name}\n"
    )
    monkeypatch.setenv("SPLIT_TOKEN", "s3cret-admin-token")  # the server inherits it
    fn = fnrun.code_to_function("split-http", filename=str(code), kind="serving")
    fn.set_topology(  # type: ignore[attr-defined]
        "router", TrafficSplit(weights={"v1": 1, "v2": 0}, admin_secret="SPLIT_TOKEN")
    )
    for name in ("v1", "v2"):
        fn.add_model(name, class_name="Version", name=name)  # type: ignore[attr-defined]
    url = fn.deploy()  # type: ignore[attr-defined]
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.post("/", json={}).json() == {"route": "v1"}
            assert client.get("/v2/split").json()["weights"] == {"v1": 1.0, "v2": 0.0}
            change = {"weights": {"v1": 0, "v2": 1}}
            refused = client.put("/v2/split", json=change)
            assert refused.status_code == 403 and "bearer token" in refused.json()["message"]
            wrong = client.put("/v2/split", json=change, headers={"authorization": "Bearer no"})
            assert wrong.status_code == 403
            ok = client.put("/v2/split", json=change,
                            headers={"authorization": "Bearer s3cret-admin-token"})  # fmt: skip
            assert ok.status_code == 200 and ok.json()["weights"]["v2"] == 1.0
            assert client.post("/", json={}).json() == {"route": "v2"}
            metrics = client.get("/metrics").text
        from typer.testing import CliRunner

        from fnrun.cli import app

        status = CliRunner().invoke(app, ["functions", "status", "--name", "split-http"])
        assert "route v1" in status.output and "1 requests, weight 0" in status.output
        assert "route v2" in status.output and "1 requests, weight 1" in status.output
        assert 'fnrun_split_requests_total{function="split-http",route="v1"} 1' in metrics
        assert 'fnrun_split_requests_total{function="split-http",route="v2"} 1' in metrics
    finally:
        fn.stop()  # type: ignore[attr-defined]


def test_the_serving_page_rows_show_routes_shadows_and_tracking() -> None:
    from fnrun.service.metrics import Metrics
    from fnrun.service.ui.serving_metrics import _rows, _samples

    fn = _split(weights={"v1": 3, "v2": 1}, mirror={"v3": 1.0})
    fn.add_model("v3", class_name=Shadow, mode="fail")  # type: ignore[attr-defined]
    fn.set_tracking("memory://split-page")  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    for i in range(8):
        server.test("/", {"x": i})
    router = _router(server)
    deadline = time.monotonic() + 5
    while router.mirrored.get("v3", 0) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    metrics = Metrics("split")
    metrics.sources.append(lambda: server.server.load_samples("split"))
    rows = dict(_rows(_samples(metrics.render())))
    assert rows["route v1"] == "6 requests, weight 3" and rows["route v2"] == "2 requests, weight 1"
    assert rows["shadow v3"] == "8 sent, 8 failed, 0 skipped"
    assert rows["tracking"].endswith("0 lost")
