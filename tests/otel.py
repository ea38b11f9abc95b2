"""Tracing test helpers: the SDK's in-memory exporter installed for one test (and the global
provider reset after), and a real OTLP/HTTP receiver other processes export to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@pytest.fixture
def spans() -> Iterator[Any]:
    """The spans this process finishes during the test (an ``InMemorySpanExporter``)."""
    pytest.importorskip("opentelemetry.sdk", reason="the trace extra (OpenTelemetry SDK)")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.util._once import Once

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        # the API lets a provider be set once per process; tests put the no-op default back
        trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
        trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def by_name(exporter: Any) -> dict[str, Any]:
    """The finished spans by name (the last one of each name)."""
    return {s.name: s for s in exporter.get_finished_spans()}


@dataclass
class Exported:
    """One span as an OTLP request carried it."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    status: int  # 0 unset, 1 ok, 2 error
    service: str


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver (``POST /v1/traces``, protobuf), as a collector is."""

    url: str = ""
    spans: list[Exported] = field(default_factory=list)
    httpd: Any = None

    def record(self, request: Any) -> None:
        """Keep the spans of one ``ExportTraceServiceRequest``."""
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        Exported(
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            {a.key: _value(a.value) for a in span.attributes},
                            span.status.code,
                            str(resource.get("service.name", "")),
                        )
                    )

    def wait_for(self, count: int, timeout: float = 30, **match: Any) -> list[Exported]:
        """At least ``count`` spans whose fields equal ``match`` (waits for the exports)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                s for s in list(self.spans) if all(getattr(s, k) == v for k, v in match.items())
            ]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def start_collector() -> Collector:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = ExportTraceServiceRequest()
            request.ParseFromString(raw)
            collector.record(request)
            data = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    collector.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collector.url = f"http://127.0.0.1:{collector.httpd.server_address[1]}"
    threading.Thread(target=collector.httpd.serve_forever, daemon=True).start()
    return collector


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """A receiver, and this process's environment pointing OTLP exporters at it (the
    processes the test starts inherit it; this one installs nothing from it)."""
    pytest.importorskip("opentelemetry.proto", reason="the trace extra (OTLP exporter)")
    receiver = start_collector()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # export within 0.1 s, not 5 s
    try:
        yield receiver
    finally:
        receiver.httpd.shutdown()


def start_grpc_collector() -> Collector:
    """An OTLP/gRPC trace receiver (the collector's ``TraceService/Export``) on loopback."""
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    collector = Collector()

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            collector.record(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    collector.url, collector.httpd = f"http://127.0.0.1:{port}", server
    return collector


@pytest.fixture
def grpc_collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """As ``collector``, over OTLP/gRPC (``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``)."""
    pytest.importorskip(
        "opentelemetry.exporter.otlp.proto.grpc", reason="opentelemetry-exporter-otlp-proto-grpc"
    )
    receiver = start_grpc_collector()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    try:
        yield receiver
    finally:
        receiver.httpd.stop(0)
