"""The HTTP front-end (ASGI app) over a graph, exercised through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.runtimes.functions.serving import graph_server_for
from fnrun.service.serving_app import ServingApp, build_app


class Echo:
    def __init__(self, context: Any, name: str | None = None) -> None:
        pass

    def do_event(self, event: Any) -> Any:
        body = event.body
        event.body = {
            "body": body if not isinstance(body, bytes) else body.decode(),
            "query": event.fields.get("query", {}),
            "method": event.method,
            "path": event.path,
            "h": event.headers.get("x-custom"),
        }
        return event


def boom(body: Any) -> Any:
    raise RuntimeError("step exploded")


def _app(engine: str, handler_step: str = "Echo") -> ServingApp:
    fn = fnrun.new_function("web", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    if handler_step == "Echo":
        graph.to("Echo", name="echo")
    else:
        graph.to(handler="boom", name="boom")
    return ServingApp(graph_server_for(fn, globals()), "web")


def _call(app: ServingApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_paths_methods_query_headers_json_and_binary(engine: str) -> None:
    app = _app(engine)
    r = _call(app, "POST", "/any/path?a=1&b=2&b=3", json={"x": 1}, headers={"x-custom": "c"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {
        "body": {"x": 1},
        "query": {"a": "1", "b": ["2", "3"]},
        "method": "POST",
        "path": "/any/path",
        "h": "c",
    }
    r = _call(
        app,
        "PUT",
        "/bin",
        content=b"\x00\x01raw",
        headers={"content-type": "application/octet-stream"},
    )
    assert r.json()["body"] == "\x00\x01raw" and r.json()["method"] == "PUT"
    r = _call(app, "GET", "/thing", headers={"x-request-id": "req-9"})
    assert r.json()["body"] is None and r.headers["x-fnrun-event-id"] == "req-9"


def test_health_and_metrics_with_per_step_latency() -> None:
    fn = fnrun.new_function("web", kind="serving")
    fn.set_topology("flow").to("Echo", name="echo")  # type: ignore[attr-defined]
    with_module_code = fnrun.new_function(runtime=fn.to_dict())
    with_module_code.spec.graph["echo"].class_name = f"{__name__}.Echo"
    app = build_app(with_module_code)
    assert _call(app, "GET", "/v2/health").json() == {"status": "ok", "function": "web"}
    _call(app, "POST", "/", json={})
    _call(app, "POST", "/", json={})
    text = _call(app, "GET", "/metrics").text
    assert 'fnrun_requests_total{function="web",status="200"} 2' in text
    assert 'fnrun_request_seconds_count{function="web"} 2' in text
    assert 'fnrun_step_seconds_count{function="web",step="echo"} 2' in text


def test_bad_input_is_4xx_json_and_step_failure_is_5xx_with_step() -> None:
    app = _app("sync")
    r = _call(app, "POST", "/", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["message"].startswith(
        "the request body is not valid JSON"
    )
    failing = _app("sync", "boom")
    r = _call(failing, "POST", "/", json={"x": 1})
    assert r.status_code == 500
    assert r.json()["step"] == "boom" and r.json()["message"] == "step exploded"
    assert _call(failing, "GET", "/v2/health").status_code == 200  # still serving
    assert (
        'fnrun_step_errors_total{function="web",step="boom"} 1'
        in _call(failing, "GET", "/metrics").text
    )


def test_per_model_latency_in_metrics() -> None:
    fn = fnrun.new_function("models", kind="serving")
    router = fn.set_topology("router")  # type: ignore[attr-defined]
    router.add_route("a", class_name=f"{__name__}.Echo")
    router.add_route("b", class_name=f"{__name__}.Echo")
    app = build_app(fn)
    _call(app, "POST", "/v2/models/a/infer", json={})
    _call(app, "POST", "/v2/models/b/infer", json={})
    _call(app, "POST", "/v2/models/b/infer", json={})
    text = _call(app, "GET", "/metrics").text
    assert 'fnrun_step_seconds_count{function="models",step="a"} 1' in text
    assert 'fnrun_step_seconds_count{function="models",step="b"} 2' in text


def test_concurrent_http_requests_are_batched_on_the_async_engine() -> None:
    from tests.serving.test_model_features import CountingModel

    fn = fnrun.new_function("batched", kind="serving")
    fn.set_topology("router", engine="async")  # type: ignore[attr-defined]
    fn.add_model(  # type: ignore[attr-defined]
        "m",
        class_name="tests.serving.test_model_features.CountingModel",
        max_batch_size=5,
        max_wait_ms=200,
    )
    app = build_app(fn)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post("/v2/models/m/infer", json={"inputs": [[i]]}) for i in range(10))
            )

    answers = asyncio.run(go())
    assert [r.json()["outputs"] for r in answers] == [[i * 10] for i in range(10)]
    model = next(o for o in app.server.compiled.objects if isinstance(o, CountingModel))
    assert model.calls == [5, 5]


def test_a_served_function_needs_a_tracking_stream_others_can_read() -> None:
    fn = fnrun.new_function("tracked", kind="serving")
    fn.add_model("m", class_name=f"{__name__}.Echo")  # type: ignore[attr-defined]
    fn.set_tracking("memory://monitoring")  # type: ignore[attr-defined]
    with pytest.raises(fnrun.InvalidArgumentError, match="lives in one process"):
        build_app(fn)


def test_metrics_labels_are_escaped_so_no_sample_can_be_forged() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from fnrun.service.metrics import Metrics

    evil = 'x"} 1\nfnrun_requests_total{function="shop",status="200"} 999\n#'
    metrics = Metrics('shop"\n')
    metrics.observe(200, 0.002)
    metrics.observe_step(evil, 0.01)
    metrics.sources.append(lambda: [("fnrun_stream_up", "gauge", {"group": evil}, 1)])
    samples = [s for f in text_string_to_metric_families(metrics.render()) for s in f.samples]
    requests = [s for s in samples if s.name == "fnrun_requests_total"]
    assert [(s.labels["status"], s.value) for s in requests] == [("200", 1.0)]  # no 999
    steps = {s.labels["step"] for s in samples if s.name == "fnrun_step_seconds_count"}
    assert steps == {evil} and requests[0].labels["function"] == 'shop"\n'
    up = [s for s in samples if s.name == "fnrun_stream_up"]
    assert up[0].labels["group"] == evil and up[0].value == 1


def own_response(body: Any, context: Any = None) -> Any:
    return context.Response(headers={"x-model": "m1", "Cache-Control": "no-store"}, body="ok")


def test_a_steps_own_response_headers_reach_the_client() -> None:
    fn = fnrun.new_function("web", kind="serving")
    fn.set_topology("flow", engine="sync").to(handler="own_response").respond()  # type: ignore[attr-defined]
    app = ServingApp(graph_server_for(fn, globals()), "web")
    r = _call(app, "POST", "/", json={})
    assert (
        r.text == "ok" and r.headers["x-model"] == "m1" and r.headers["cache-control"] == "no-store"
    )
    assert r.headers["x-fnrun-event-id"]


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", None])
def test_json_sent_as_a_form_or_untyped_is_read_as_json(ctype: str | None) -> None:
    app = _app("sync")
    headers = {"content-type": ctype} if ctype else {}
    r = _call(app, "POST", "/", content=b'{"x": 1}', headers=headers)  # curl -d '{"x": 1}'
    assert r.status_code == 200 and r.json()["body"] == {"x": 1}
    bad = _call(app, "POST", "/", content=b'{"x": 1', headers=headers)
    assert bad.status_code == 400
    seen = f"content type '{ctype}'" if ctype else "no content type"
    assert seen in bad.json()["message"] and "Content-Type: application/json" in bad.json()["hint"]
    form = _call(app, "POST", "/", content=b"a=1&b=2", headers=headers)  # a real form
    assert form.status_code == 200 and form.json()["body"] == "a=1&b=2"
    text = _call(app, "POST", "/", content=b"[INFO] not json", headers=headers)
    assert text.status_code == 200 and text.json()["body"] == "[INFO] not json"
