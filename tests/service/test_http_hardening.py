"""A served function under hostile input: no 5xx for client errors, no hangs, still serving.

The server is a real ``fnrun serve`` process (uvicorn) with a flow and a router with a
V2ModelServer; the requests are generated (seeded) and sent over real sockets.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from tests.sockets import count_closed

httpx = pytest.importorskip("httpx", reason="httpx (fnrun[serve]) not installed")
pytest.importorskip("uvicorn", reason="uvicorn (fnrun[serve]) not installed")

CODE = """
from fnrun.serving import V2ModelServer


def echo(body):
    return {"type": type(body).__name__}


def boom(body):
    raise RuntimeError("secret internals")


class Model(V2ModelServer):
    def load(self):
        self.model = len

    def predict(self, request):
        rows = request["inputs"]
        if not isinstance(rows, list):
            return [0]
        return [len(r) if isinstance(r, list) else 1 for r in rows]
"""

HEADER_TIMEOUT = 2.0


def _deploy(tmp_path: Path, name: str, graph: str) -> Iterator[str]:
    code = tmp_path / f"{name}.py"
    code.write_text(CODE)
    fn = fnrun.code_to_function(name, filename=str(code), kind="serving", project="hard")
    if graph == "flow":
        fn.set_topology("flow", engine="sync").to(handler="echo", name="echo").respond()  # type: ignore[attr-defined]
    elif graph == "boom":
        fn.set_topology("flow").to(handler="boom", name="boom").respond()  # type: ignore[attr-defined]
    else:
        fn.add_model("m", class_name="Model", model_path="unused")  # type: ignore[attr-defined]
    url = fn.deploy()  # type: ignore[attr-defined]
    try:
        yield url
    finally:
        fn.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    mp.setenv("FNRUN_HOME", str(home))
    mp.setenv("FNRUN_SERVE_HEADER_TIMEOUT", str(HEADER_TIMEOUT))
    mp.setenv("FNRUN_SERVE_MAX_BODY", str(4 * 1024 * 1024))
    from fnrun.config import reset_settings
    from fnrun.db import reset_run_dbs

    reset_settings()
    reset_run_dbs()
    tmp = tmp_path_factory.mktemp("code")
    gens = [_deploy(tmp, f"h{g}", g) for g in ("flow", "router", "boom")]
    urls = [next(g) for g in gens]
    yield dict(zip(("flow", "router", "boom"), urls, strict=True))
    for g in gens:
        next(g, None)
    mp.undo()
    reset_settings()
    reset_run_dbs()


def _tensor(rng: random.Random) -> dict[str, Any]:
    pick = rng.choice
    shape = pick(
        [
            [1, 4],
            [2, 2],
            [4],
            [1, "4"],
            [-1, 4],
            [1.5, 2],
            "1x4",
            None,
            [],
            [0, 4],
            [10**12, 10**12],
            [True, 4],
        ]
    )
    datatype = pick(["FP64", "FP32", "INT64", "UINT8", "BOOL", "BYTES", "fp64", "COMPLEX", 7, None])
    data = pick(
        [
            [1.0, 2.0, 3.0, 4.0],
            [[1, 2], [3, 4]],
            [[1, 2], [3]],
            [1, [2, 3]],
            ["a", "b"],
            [None, 1],
            [{"x": 1}],
            [True, False, True, True],
            [],
            "1234",
            None,
            [-1, 2, 3, 4],
            [float("1e308"), 1, 2, 3],
        ]
    )
    tensor: dict[str, Any] = {"name": pick(["x", 5, None]), "data": data}
    if shape is not None:
        tensor["shape"] = shape
    if datatype is not None:
        tensor["datatype"] = datatype
    return tensor


def _hostile(rng: random.Random, count: int) -> Iterator[tuple[str, str, bytes, dict[str, str]]]:
    json_types = [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
    ]
    for i in range(count):
        kind = i % 8
        ctype = rng.choice(json_types)
        headers = {"content-type": ctype} if ctype else {}
        if kind == 0:
            depth = rng.choice([200, 5_000, 100_000])
            yield "flow", "/", (b"[" * depth + b"]" * depth), headers
        elif kind == 1:
            yield (
                "flow",
                "/",
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))),
                headers,
            )
        elif kind == 2:
            body = {"inputs": [_tensor(rng) for _ in range(rng.choice([1, 1, 2]))]}
            yield (
                "router",
                "/v2/models/m/infer",
                json.dumps(body).encode(),
                {"content-type": "application/json"},
            )
        elif kind == 3:
            yield (
                "router",
                rng.choice(
                    [
                        "/v2/models/m/infer",
                        "/v2/models/nope/infer",
                        "/v2/models/m/bogus",
                        "/v2/models/m/versions/9/infer",
                    ]
                ),
                json.dumps({"inputs": rng.choice([[[1, 2]], "x", 5, None, {"a": 1}])}).encode(),
                headers,
            )
        elif kind == 4:
            text = json.dumps({"x": rng.random(), "s": "é€😀"})
            enc = rng.choice(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
            yield "flow", "/", text.encode(enc), {"content-type": "application/json"}
        elif kind == 5:
            yield "flow", "/", b'{"a": ' * 3 + b"1", {"content-type": "application/json"}
        elif kind == 6:
            yield (
                "router",
                "/v2/models/m/infer",
                b'{"inputs": [{"data": [1, 2], "shape": [1, 2]',
                {"content-type": "application/json"},
            )
        else:
            yield "flow", "/", b'"{\\"nested\\": [1, 2]}"', {"content-type": "application/json"}


def test_a_thousand_hostile_requests_get_no_5xx_and_no_hang(servers: dict[str, str]) -> None:
    rng = random.Random(20261201)
    statuses: dict[int, int] = {}
    server_errors: list[tuple[str, bytes, str]] = []
    hangs = 0
    with httpx.Client(timeout=10.0) as client:
        for target, path, body, headers in _hostile(rng, 1200):
            try:
                r = client.post(servers[target] + path, content=body, headers=headers)
            except httpx.TimeoutException:
                hangs += 1
                continue
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code >= 500:
                server_errors.append((path, body[:80], r.text[:200]))
            elif r.status_code >= 400:
                assert r.json()["message"], r.text  # a JSON error that says what is wrong
        assert client.post(servers["flow"], json={"ok": 1}).json() == {"type": "dict"}  # alive
    assert hangs == 0
    assert server_errors == [], server_errors[:5]
    assert statuses.get(200, 0) > 100 and statuses.get(400, 0) > 100, statuses


def test_utf16_json_and_case_insensitive_content_types(servers: dict[str, str]) -> None:
    body = json.dumps({"inputs": [[1, 2, 3]]}).encode("utf-16")
    r = httpx.post(
        servers["router"] + "/v2/models/m/infer",
        content=body,
        headers={"content-type": "Application/JSON"},
    )
    assert r.status_code == 200 and r.json()["outputs"] == [3]


def test_bad_tensors_name_the_field(servers: dict[str, str]) -> None:
    url = servers["router"] + "/v2/models/m/infer"
    cases = {
        "inputs[0].shape": {
            "name": "x",
            "shape": [1, "4"],
            "datatype": "FP64",
            "data": [1, 2, 3, 4],
        },
        "inputs[0].datatype": {"name": "x", "shape": [1, 2], "datatype": "COMPLEX", "data": [1, 2]},
        "inputs[0].data": {"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [3]]},
    }
    for field, tensor in cases.items():
        r = httpx.post(url, json={"inputs": [tensor]})
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    wrong_type = {"name": "x", "shape": [1, 2], "datatype": "INT64", "data": ["a", "b"]}
    r = httpx.post(url, json={"inputs": [wrong_type]})
    assert r.status_code == 400 and "does not fit datatype INT64" in r.json()["message"]


def test_limits_body_size_and_depth(servers: dict[str, str]) -> None:
    big = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"
    r = httpx.post(servers["flow"], content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "FNRUN_SERVE_MAX_BODY" in r.json()["hint"]
    deep = b"[" * 101 + b"]" * 101
    r = httpx.post(servers["flow"], content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "deeper than 100" in r.json()["message"]


def test_user_step_failure_is_500_without_traceback(servers: dict[str, str]) -> None:
    r = httpx.post(servers["boom"], json={"x": 1})
    assert r.status_code == 500 and r.json()["step"] == "boom"
    assert "Traceback" not in r.text and "traceback" not in r.json()


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    return socket.create_connection((host, int(port)), timeout=HEADER_TIMEOUT * 4)


def test_websocket_upgrade_gets_a_clear_4xx(servers: dict[str, str]) -> None:
    sock = _raw(servers["flow"])
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400") and b"not supported" in answer


def test_idle_and_slow_loris_connections_are_closed_while_good_requests_flow(
    servers: dict[str, str],
) -> None:
    idle = [_raw(servers["flow"]) for _ in range(50)]
    for i, sock in enumerate(idle):
        if i % 2:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: appl")  # never finished
    answered = []
    with httpx.Client(timeout=5.0) as client:
        for i in range(20):
            answered.append(client.post(servers["flow"], json={"i": i}).status_code)
    assert answered == [200] * 20
    time.sleep(HEADER_TIMEOUT + 1.5)
    assert count_closed(idle) == 50


def test_the_cost_of_one_big_body_is_bounded(servers: dict[str, str]) -> None:
    """One client's big body holds the loop only as long as parsing the largest allowed body
    takes; a larger one is refused from its Content-Length, before it is read."""
    limit = 4 * 1024 * 1024  # the fixture's FNRUN_SERVE_MAX_BODY
    at_limit = json.dumps([random.random() for _ in range(limit // 22)]).encode()
    assert len(at_limit) <= limit
    huge = b"[" + b"1," * (25 * 1024 * 1024) + b"1]"  # ~50 MB
    stalls: list[float] = []

    def send(body: bytes) -> int:
        r = httpx.post(
            servers["flow"], content=body, headers={"content-type": "application/json"}, timeout=60
        )
        return r.status_code

    results: dict[str, int] = {}
    threads = [
        threading.Thread(target=lambda k=k, b=b: results.update({k: send(b)}))
        for k, b in (("at_limit", at_limit), ("huge", huge))
    ]
    for t in threads:
        t.start()
    with httpx.Client(timeout=10.0) as client:
        while any(t.is_alive() for t in threads):
            start = time.perf_counter()
            assert client.post(servers["flow"], json={"x": 1}).status_code == 200
            stalls.append(time.perf_counter() - start)
    for t in threads:
        t.join()
    assert results == {"at_limit": 200, "huge": 413}
    assert max(stalls) < 1.0, max(stalls)  # parsing 4 MiB holds a loop ~0.15 s here
