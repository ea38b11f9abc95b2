"""OpenTelemetry spans of a served graph: a span per request and per step on both engines, the
``traceparent`` header as the parent, errors on the span, models' names and versions, nothing
at all without a provider; the trace carried on by RemoteStep and BatchHttpRequests to a real
``fnrun serve`` process exporting over OTLP, and by RunStep to a run's child process."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from rich.console import Console

import fnrun
import fnrun.serving
from fnrun import tracing
from fnrun.cli_runs import run_detail
from fnrun.errors import InvalidArgumentError
from fnrun.graph.server import GraphServer
from tests.otel import Collector, by_name, collector, grpc_collector, hex_id, spans

__all__ = ["collector", "grpc_collector", "spans"]  # the fixtures

PARENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"


def inc(x: int) -> int:
    return x + 1


async def inc_async(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


def boom(x: Any) -> Any:
    raise ValueError("row 7 is bad")


class Model(fnrun.serving.V2ModelServer):  # type: ignore[misc]
    def load(self) -> None:
        self.model = None

    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) for row in request["inputs"]]


def _flow(engine: str, *handlers: str) -> Any:
    fn = fnrun.new_function("traced", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    step = graph
    for i, handler in enumerate(handlers):
        step = step.to(handler=f"{__name__}.{handler}", name=f"s{i}")
    step.respond()
    return fn.to_mock_server()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("engine", "handler"), [("sync", "inc"), ("async", "inc_async")])
def test_each_request_is_a_span_and_each_step_its_child_under_the_traceparent(
    spans: Any, engine: str, handler: str
) -> None:
    server = _flow(engine, handler, handler)
    assert server.test("/x", body=1, headers={"traceparent": TRACEPARENT}) == 3
    found = by_name(spans)
    request, first, second = found["traced"], found["s0"], found["s1"]
    assert hex_id(request.context.trace_id, 32) == PARENT_TRACE
    assert hex_id(request.parent.span_id, 16) == PARENT_SPAN  # the header's span is the parent
    assert request.kind.name == "SERVER"
    for step in (first, second):
        assert step.context.trace_id == request.context.trace_id
        assert step.parent.span_id == request.context.span_id
        assert step.attributes["fnrun.step.kind"] == "task"
        assert step.attributes["fnrun.status"] == "ok"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["url.path"] == "/x"


def test_without_a_traceparent_a_request_starts_its_own_trace(spans: Any) -> None:
    server = _flow("sync", "inc")
    server.test("/", body=1)
    server.test("/", body=2)
    requests = [s for s in spans.get_finished_spans() if s.name == "traced"]
    assert len(requests) == 2 and all(s.parent is None for s in requests)
    assert requests[0].context.trace_id != requests[1].context.trace_id


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_failing_step_records_its_error_on_its_span_and_the_request_is_an_error(
    spans: Any, engine: str
) -> None:
    server = _flow(engine, "inc", "boom")
    out = server.test("/", body=1, silent=True)
    assert out.status_code == 500
    found = by_name(spans)
    failed, request = found["s1"], found["traced"]
    assert failed.attributes["fnrun.status"] == "error"
    assert failed.status.status_code.name == "ERROR"
    assert "row 7 is bad" in failed.status.description
    (event,) = failed.events
    assert event.name == "exception" and event.attributes["exception.type"] == "ValueError"
    assert request.status.status_code.name == "ERROR"
    assert request.attributes["http.response.status_code"] == 500
    assert found["s0"].attributes["fnrun.status"] == "ok"


def test_a_client_error_is_not_a_server_error_on_the_request_span(spans: Any) -> None:
    fn = fnrun.new_function("traced", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    fn.add_model("m", class_name=Model, model_path="none")  # type: ignore[attr-defined]
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    out = server.test("/v2/models/nope/infer", body={"inputs": [[1]]}, silent=True)
    assert out.status_code == 404
    request = by_name(spans)["traced"]
    assert request.attributes["http.response.status_code"] == 404
    assert request.status.status_code.name == "UNSET"  # OTel: a 4xx is the client's error


def test_router_routes_are_children_of_the_router_with_model_and_version(spans: Any) -> None:
    fn = fnrun.new_function("traced", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    fn.add_model("m:v2", class_name=Model, model_path="none")  # type: ignore[attr-defined]
    fn.add_model("other", class_name=Model, model_path="none")  # type: ignore[attr-defined]
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    out = server.test("/v2/models/m/versions/v2/infer", body={"inputs": [[1, 2]]})
    assert out["outputs"] == [3]
    found = by_name(spans)
    router, route = found["router"], found["m:v2"]
    assert router.attributes["fnrun.step.kind"] == "router"
    assert route.parent.span_id == router.context.span_id
    assert route.attributes["fnrun.model"] == "m"
    assert route.attributes["fnrun.model.version"] == "v2"
    assert "other" not in found  # only the route that served the request


def test_parallel_branches_on_the_async_engine_share_the_request_trace(spans: Any) -> None:
    fn = fnrun.new_function("traced", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    start = graph.to(handler=f"{__name__}.inc_async", name="start")
    start.to(handler=f"{__name__}.inc_async", name="left")
    start.to(handler=f"{__name__}.inc_async", name="right").respond()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    server.test("/", body=1)
    found = by_name(spans)
    request = found["traced"]
    for name in ("start", "left", "right"):
        assert found[name].context.trace_id == request.context.trace_id
        assert found[name].parent.span_id == request.context.span_id


def test_without_a_provider_nothing_is_wrapped_and_run_is_the_plain_method() -> None:
    assert tracing.tracer() is None
    server = _flow("sync", "inc")
    graph_server = server.server
    assert graph_server.spans is None
    assert "run" not in vars(graph_server) and "run_async" not in vars(graph_server)
    assert graph_server.run.__func__ is GraphServer.run
    assert server.test("/", body=1) == 2


def test_the_environment_decides_whether_traces_are_exported() -> None:
    assert not tracing.wanted({})
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "console,otlp"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert not tracing.wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"})
    assert not tracing.wanted({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing.configure_from_env("f", {}) is None  # nothing asked, nothing installed
    assert tracing.tracer() is None


def test_an_exporter_fnrun_cannot_use_is_named() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the trace extra (OpenTelemetry SDK)")
    with pytest.raises(InvalidArgumentError, match="'zipkin'") as info:
        tracing.configure_from_env("f", {"OTEL_TRACES_EXPORTER": "zipkin"})
    assert info.value.field == "OTEL_TRACES_EXPORTER" and "otlp" in (info.value.hint or "")
    with pytest.raises(InvalidArgumentError, match="'http/json'") as info:
        tracing.configure_from_env(
            "f", {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
        )
    assert info.value.field == "OTEL_EXPORTER_OTLP_PROTOCOL"
    assert tracing.tracer() is None  # a refused setting installs nothing


def _served(tmp: Any) -> Any:
    """A graph served by a real ``fnrun serve`` process (exporting to the collector)."""
    code = tmp / "remote_side.py"
    code.write_text("def double(x):\n    return x * 2\n")
    fn = fnrun.code_to_function("remote-side", kind="serving", filename=str(code))
    fn.set_topology("flow").to(handler="double", name="double").respond()  # type: ignore[attr-defined]
    return fn


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_remote_steps_carry_the_trace_to_a_served_function_exporting_over_otlp(
    spans: Any, collector: Collector, tmp_path: Any, engine: str
) -> None:
    served = _served(tmp_path)
    url = served.deploy()
    try:
        one = _caller(engine, "RemoteStep", name="call", url=url)
        assert one.test("/", body=1) == 2
        fan = _caller(engine, "BatchHttpRequests", name="fan", url=url)
        assert fan.test("/", body=[1, 2, 3], headers={"traceparent": TRACEPARENT}) == [2, 4, 6]
        remote = collector.wait_for(4, service="remote-side", name="remote-side")
    finally:
        served.stop()
    assert len(remote) >= 4, collector.spans
    found = by_name(spans)
    call, fan = found["call"], found["fan"]
    first = [s for s in remote if s.trace_id == hex_id(call.context.trace_id, 32)]
    assert [s.parent_id for s in first] == [hex_id(call.context.span_id, 16)]
    fanned = [s for s in remote if s.trace_id == PARENT_TRACE]
    assert len(fanned) == 3  # one served request per item, each a child of the fan-out step
    assert {s.parent_id for s in fanned} == {hex_id(fan.context.span_id, 16)}
    steps = collector.wait_for(4, service="remote-side", name="double")
    assert {s.trace_id for s in steps} >= {PARENT_TRACE}
    assert all(s.attributes["fnrun.step"] == "double" for s in steps)


def _caller(engine: str, class_name: str, **args: Any) -> Any:
    fn = fnrun.new_function("caller", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to(class_name, **args).respond()
    return fn.to_mock_server()  # type: ignore[attr-defined]


def train(context: Any, p: int = 1) -> None:
    context.log_result("twice", p * 2)


def test_a_run_step_records_the_trace_and_its_child_process_continues_it(
    spans: Any, collector: Collector
) -> None:
    job = fnrun.new_function("trainer", kind="job", command=__file__)
    fn = fnrun.new_function("caller", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(
        fnrun.serving.RunStep(function=job, handler="train", local=True), name="train"
    ).respond()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    out = server.test("/", body={"p": 4}, headers={"traceparent": TRACEPARENT})
    assert out["outputs"]["twice"] == 8
    step = by_name(spans)["train"]
    run = fnrun.get_run_db().read_run(out["run"], "")
    assert run["status"]["trace_id"] == PARENT_TRACE
    (exported,) = collector.wait_for(1, name="run trainer")
    assert exported.trace_id == PARENT_TRACE
    assert exported.parent_id == hex_id(step.context.span_id, 16)  # the RunStep's span
    assert exported.attributes["fnrun.run.uid"] == out["run"]
    assert exported.attributes["fnrun.status"] == "completed"
    assert exported.service == "trainer"
    console = Console(record=True, width=200)
    console.print(run_detail(run))  # fnrun get run shows which trace the run is in
    assert re.search(rf"trace +{PARENT_TRACE}", console.export_text())


def test_a_child_process_exports_over_otlp_grpc(spans: Any, grpc_collector: Collector) -> None:
    job = fnrun.new_function("trainer", kind="job", command=__file__)
    tracer = tracing.tracer()
    assert tracer is not None
    with tracer.start_as_current_span("caller") as caller:
        run = job.run(handler="train", params={"p": 3}, local=True)
    assert run.output("twice") == 6
    (exported,) = grpc_collector.wait_for(1, name="run trainer")
    assert exported.trace_id == hex_id(caller.get_span_context().trace_id, 32)
    assert exported.parent_id == hex_id(caller.get_span_context().span_id, 16)
    assert exported.attributes["fnrun.run.uid"] == run.uid() and exported.service == "trainer"


def test_an_untraced_run_records_no_trace_id() -> None:
    job = fnrun.new_function("plain", kind="job", command=__file__)
    run = job.run(handler="train", params={"p": 1}, local=True)
    assert "trace_id" not in fnrun.get_run_db().read_run(run.uid(), "")["status"]


class Version:
    def __init__(self, context: Any = None, name: str = "", **kwargs: Any) -> None:
        self.name = name

    def do(self, body: Any) -> Any:
        return {"route": self.name}


def test_a_shadow_route_joins_the_request_trace_after_the_answer(spans: Any) -> None:
    from fnrun.graph.traffic import TrafficSplit

    fn = fnrun.new_function("traced", kind="serving")
    split = TrafficSplit(weights={"v1": 100}, mirror={"v3": 1.0})
    fn.set_topology("router", split)  # type: ignore[attr-defined]
    for name in ("v1", "v3"):
        fn.add_model(name, class_name=Version)  # type: ignore[attr-defined]
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    assert server.test("/", body={"x": 1}, headers={"traceparent": TRACEPARENT}) == {"route": "v1"}
    deadline = time.monotonic() + 10
    while "v3" not in by_name(spans) and time.monotonic() < deadline:
        time.sleep(0.01)  # the shadow runs after the answer, in the mirror's worker
    found = by_name(spans)
    shadow, router = found["v3"], found["router"]
    assert hex_id(shadow.context.trace_id, 32) == PARENT_TRACE
    assert shadow.parent.span_id == router.context.span_id
    assert found["v1"].parent.span_id == router.context.span_id


SEEN_SPANS: list[int] = []


def note_span(body: Any) -> Any:
    from opentelemetry import trace

    SEEN_SPANS.append(trace.get_current_span().get_span_context().span_id)
    return body


def test_a_request_the_sampler_leaves_out_makes_no_step_spans(spans: Any) -> None:
    SEEN_SPANS.clear()
    fn = fnrun.new_function("sampled", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.note_span", name="a").to(
        handler=f"{__name__}.note_span", name="b"
    ).respond()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    unsampled = TRACEPARENT[:-2] + "00"  # the caller's trace, not sampled
    assert server.test("/", body=1, headers={"traceparent": unsampled}) == 1
    assert not spans.get_finished_spans()
    assert len(SEEN_SPANS) == 2 and SEEN_SPANS[0] == SEEN_SPANS[1]  # both see the request's
    SEEN_SPANS.clear()
    assert server.test("/", body=1, headers={"traceparent": TRACEPARENT}) == 1
    assert SEEN_SPANS[0] != SEEN_SPANS[1]  # sampled: each step its own span
    assert {s.name for s in spans.get_finished_spans()} == {"sampled", "a", "b"}
