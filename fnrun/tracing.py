"""OpenTelemetry tracing, when a tracer provider is installed (``pip install fnrun[trace]``).

Nothing here turns tracing on by itself: :func:`tracer` answers ``None`` — and the graph, the
HTTP front-end and runs then do no tracing work at all — unless the process has a real tracer
provider: one the user's code installed with the standard SDK
(``trace.set_tracer_provider(TracerProvider(...))``), or one :func:`configure_from_env`
installed from the standard ``OTEL_*`` environment variables (``fnrun serve``, a run's child
process). Propagation is W3C Trace Context (the API's default propagator, or whatever
``OTEL_PROPAGATORS`` names): HTTP headers, Kafka message headers, and the ``TRACEPARENT``
environment variable of a run's child process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.version import __version__

TRACEPARENT_ENV = "TRACEPARENT"  # the environment as a carrier (OTel's env-carrier names)
TRACESTATE_ENV = "TRACESTATE"
TRACER_NAME = "fnrun"


def tracer() -> Any:
    """The tracer for fnrun's spans, or ``None`` when no tracer provider is installed (the
    API's no-op default) or OpenTelemetry is not installed. Read when a server is built."""
    if "opentelemetry.trace" not in sys.modules and not os.environ.get(
        "OTEL_PYTHON_TRACER_PROVIDER"
    ):
        return None  # nobody imported the API, so nobody installed a provider: no import cost
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - the API is there when the module was imported
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    return provider.get_tracer(TRACER_NAME, __version__)


def _dict_getter() -> Any:
    """Header lookup that ignores case (``Traceparent`` from some proxies), for ``extract``."""
    from opentelemetry.propagators.textmap import Getter

    class Headers(Getter[Mapping[str, Any]]):
        def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
            value = carrier.get(key)
            if value is None:
                lower = key.lower()
                value = next((v for k, v in carrier.items() if k.lower() == lower), None)
            if value is None:
                return None
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return [str(value)]

        def keys(self, carrier: Mapping[str, Any]) -> list[str]:
            return list(carrier)

    return Headers()


_getter: list[Any] = []


def extract(headers: Mapping[str, Any] | None) -> Any:
    """The context a request's headers carry (``traceparent``), else the current one (a queue
    step's event served in this process continues the trace it is in)."""
    from opentelemetry import context, propagate

    current = context.get_current()
    if not headers:
        return current
    if not _getter:
        _getter.append(_dict_getter())
    return propagate.extract(headers, context=current, getter=_getter[0])


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """``headers`` with the current trace's ``traceparent`` (and ``tracestate``) set, when a
    span is current; unchanged otherwise."""
    if "opentelemetry.trace" in sys.modules:
        from opentelemetry import propagate

        propagate.inject(headers)
    return headers


def header_pairs() -> list[tuple[str, bytes]]:
    """The current trace's headers as Kafka message headers (empty without a current span)."""
    carried: dict[str, str] = {}
    inject(carried)
    return [(k, v.encode()) for k, v in carried.items()]


def trace_id() -> str:
    """The current span's trace id (32 hex digits), or ``""`` outside a recorded trace."""
    if "opentelemetry.trace" not in sys.modules:
        return ""
    from opentelemetry import trace

    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else ""


def env_carrier() -> dict[str, str]:
    """The current trace as a child process's environment (``TRACEPARENT``/``TRACESTATE``)."""
    carried: dict[str, str] = {}
    inject(carried)
    names = {"traceparent": TRACEPARENT_ENV, "tracestate": TRACESTATE_ENV}
    return {names[k]: v for k, v in carried.items() if k in names}


def trace_id_of(carrier: Mapping[str, str]) -> str:
    """The trace id a ``TRACEPARENT`` carrier names (``00-<trace id>-<span id>-<flags>``),
    or ``""``."""
    parts = str(carrier.get(TRACEPARENT_ENV, "")).split("-")
    valid = len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32
    return (
        parts[1].lower() if valid and all(c in "0123456789abcdefABCDEF" for c in parts[1]) else ""
    )


def from_env(environ: Mapping[str, str]) -> Any:
    """The context the environment carries (``TRACEPARENT``), else the current one."""
    carried = {
        k: environ[name]
        for k, name in (("traceparent", TRACEPARENT_ENV), ("tracestate", TRACESTATE_ENV))
        if environ.get(name)
    }
    return extract(carried)


def current() -> Any:
    """The current trace context, to hand to another thread (None without OpenTelemetry)."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import context

    return context.get_current()


def run_in(carried: Any, call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` with ``carried`` (from :func:`current`) as the trace context."""
    if carried is None:
        return call(*args)
    from opentelemetry import context

    token = context.attach(carried)
    try:
        return call(*args)
    finally:
        context.detach(token)


def record_error(span: Any, exc: BaseException) -> None:
    """``exc`` on ``span``: an exception event and the span's status ERROR."""
    from opentelemetry.trace import Status, StatusCode

    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))


# -- configuration from the standard environment ------------------------------------------------
_EXPORTERS = ("otlp", "console", "none")


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces to be exported: ``OTEL_TRACES_EXPORTER`` set
    (other than ``none``) or an OTLP endpoint given; never with ``OTEL_SDK_DISABLED=true``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    names = _exporter_names(environ)
    if names:
        return names != ["none"]
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _exporter_names(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    return [n.strip().lower() for n in raw.split(",") if n.strip()]


def configure_from_env(
    service_name: str, environ: Mapping[str, str] | None = None
) -> Callable[[], None] | None:
    """Install the SDK's tracer provider as the environment asks (:func:`wanted`), unless a
    provider is already installed; returns what flushes and stops it (call it at exit), or
    ``None`` when nothing was installed. ``service.name`` defaults to ``service_name`` unless
    ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES`` name one. The exporters honour their
    own variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._HEADERS``, ``OTEL_BSP_*``) and the
    provider ``OTEL_TRACES_SAMPLER``."""
    env = os.environ if environ is None else environ
    if not wanted(env) or tracer() is not None:
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise InvalidArgumentError(
            "OTEL_TRACES_EXPORTER or an OTLP endpoint is set, but the OpenTelemetry SDK is "
            "not installed",
            field="OTEL_TRACES_EXPORTER",
            hint="pip install 'fnrun[trace]', or unset the OTEL_* variables",
        ) from exc
    exporters = [_exporter(name, env) for name in (_exporter_names(env) or ["otlp"])]
    attributes: dict[str, Any] = {}
    named = env.get("OTEL_SERVICE_NAME") or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named and service_name:
        attributes["service.name"] = service_name
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in exporters:
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider.shutdown


def _exporter(name: str, env: Mapping[str, str]) -> Any:
    if name not in _EXPORTERS:
        raise InvalidArgumentError(
            f"OTEL_TRACES_EXPORTER names {name!r}, which fnrun cannot export to",
            field="OTEL_TRACES_EXPORTER",
            hint=f"one or more of: {', '.join(_EXPORTERS)}",
        )
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found, unused-ignore]
                OTLPSpanExporter,
            )
        except ImportError as exc:
            raise InvalidArgumentError(
                "OTLP over gRPC needs opentelemetry-exporter-otlp-proto-grpc",
                field="OTEL_EXPORTER_OTLP_PROTOCOL",
                hint="pip install opentelemetry-exporter-otlp-proto-grpc, or use http/protobuf",
            ) from exc
        return OTLPSpanExporter()
    if protocol != "http/protobuf":
        raise InvalidArgumentError(
            f"OTLP protocol {protocol!r} is not supported",
            field="OTEL_EXPORTER_OTLP_PROTOCOL",
            hint="http/protobuf (the default) or grpc",
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    return Http()


def attributes_of(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Span attributes from ``pairs``, leaving out empty values (OTel takes no ``None``)."""
    return {k: v for k, v in pairs if v not in (None, "")}
