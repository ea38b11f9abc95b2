"""Kafka for serving graphs: the producer of queue steps and error records, and URLs.

URLs look like ``kafka://host:9092[,host2:9092]/topic``. The consumer-group trigger lives in
:mod:`fnrun.stream.trigger`. A record the brokers refuse (too large, broker errors) never stops
anything: :class:`SafeSink` writes error records that do not fit without their body, and
failed sends are counted (``produce_failures``) and logged.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import fnrun.tracing as tracing
from fnrun.errors import InvalidArgumentError
from fnrun.extras import require

log = logging.getLogger("fnrun.stream.kafka")
# Short group timeouts: the first message arrives in ~3 s instead of ~23 s with the defaults.
CONSUMER_DEFAULTS = {
    "max_poll_interval_ms": 5000,
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
}


def parse_kafka_url(url: str) -> tuple[list[str], str]:
    """``kafka://h1:9092,h2:9092/topic`` -> (["h1:9092", "h2:9092"], "topic")."""
    if not url.startswith("kafka://"):
        raise InvalidArgumentError(
            f"not a kafka URL: {url!r}", field="path", hint="use kafka://host:port/topic"
        )
    hosts, _, topic = url.removeprefix("kafka://").partition("/")
    brokers = [h for h in hosts.split(",") if h]
    if not brokers or not topic:
        raise InvalidArgumentError(
            f"kafka URL {url!r} needs brokers and a topic",
            field="path",
            hint="use kafka://host:port/topic",
        )
    return brokers, topic


def kafka_module() -> Any:
    return require("kafka", "kafka", "Kafka", field="trigger", package="kafka-python")


def _key_of(event: Any) -> bytes | None:
    """The key the event came in with (a Kafka message's), so records of one key keep their
    order through the pipeline; None lets the producer spread keyless records (an event id as
    key would scatter them at a hashing cost and order nothing)."""
    fields = getattr(event, "fields", None)
    key = fields.get("key") if isinstance(fields, dict) else None
    if key is None or isinstance(key, bytes):
        return key
    return str(key).encode()


DEADLINE_HEADER = "x-fnrun-deadline"  # when the event's time is up: epoch seconds


def _headers(event: Any) -> list[tuple[str, bytes]] | None:
    """The message headers that carry the request on: its deadline (a wall-clock time: the
    consumer runs in another process), so the consuming function keeps the request's budget,
    and the current trace (``traceparent``), so it continues the same trace."""
    headers = tracing.header_pairs()
    deadline = getattr(event, "deadline", None)
    if deadline is not None:
        at = time.time() + (deadline - time.monotonic())
        headers.append((DEADLINE_HEADER, f"{at:.3f}".encode()))
    return headers or None


class KafkaPusher:
    """Produces JSON bodies to topics named by ``kafka://`` URLs (one producer per brokers)."""

    def __init__(self) -> None:
        self._producers: dict[str, Any] = {}
        self._targets: dict[str, tuple[Any, str]] = {}  # url -> (producer, topic)
        self._lock = threading.Lock()
        self.produce_failures = 0

    def push(self, url: str, event: Any) -> None:
        """Send ``event``'s body now (serialised here, so the caller may change it after)."""
        target = self._targets.get(url)
        if target is None:
            brokers, topic = parse_kafka_url(url)
            target = self._targets[url] = (self._producer(brokers), topic)
        body = event.body if hasattr(event, "body") else event
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
        headers = _headers(event)
        future = target[0].send(target[1], value=data, key=_key_of(event), headers=headers)
        future.add_errback(self._failed, target[1])

    def _failed(self, topic: str, exc: BaseException) -> None:
        self.produce_failures += 1
        log.error("a record for topic %s was not delivered: %s", topic, exc)

    def _producer(self, brokers: list[str]) -> Any:
        name = ",".join(brokers)
        with self._lock:
            if name not in self._producers:
                self._producers[name] = kafka_module().KafkaProducer(
                    bootstrap_servers=brokers, linger_ms=1
                )
            return self._producers[name]

    def flush(self) -> None:
        for producer in list(self._producers.values()):
            producer.flush()

    def close(self) -> None:
        for producer in list(self._producers.values()):
            producer.flush()
            producer.close()
        self._producers.clear()
        self._targets.clear()


class SafeSink:
    """The error-stream sink of a served graph: a record that cannot be written whole (too
    large for the producer, a broker error) is written again without its body (with its size
    and ``truncated: true``), and when even that fails it is logged and counted, never raised:
    one poison message must not stop a trigger."""

    def __init__(self, pusher: KafkaPusher, url: str) -> None:
        self.pusher, self.url = pusher, url
        self.failures = 0  # records written without their body
        self.lost = 0  # records not written at all (logged)

    def __call__(self, record: dict[str, Any]) -> None:
        try:
            self.pusher.push(self.url, record)
            return
        except Exception as exc:
            self.failures += 1
            log.warning(
                "error record for event %s not written whole (%s); writing it without its body",
                record.get("event_id"),
                exc,
            )
        slim = {k: v for k, v in record.items() if k != "body"}
        slim.update(truncated=True, body_size=len(json.dumps(record.get("body"), default=str)))
        try:
            self.pusher.push(self.url, slim)
        except Exception:
            self.lost += 1
            log.exception("error record for event %s lost: %s", record.get("event_id"), slim)


def queue_pusher(pusher: KafkaPusher) -> Any:
    """The ``queue_push`` of a served graph: queue steps write to Kafka topics."""

    def push(path: str, event: Any) -> None:
        if not path.startswith("kafka://"):
            raise ValueError(f"queue path {path!r} can only be served in the mock; use kafka://")
        pusher.push(path, event)

    return push


def stream_wiring(fn: Any) -> tuple[KafkaPusher, Any, SafeSink | None]:
    """What a served graph writes its streams with, the same under ``fnrun serve`` and inside
    Nuclio: (the producer, its ``queue_push``, its error sink or None)."""
    pusher = KafkaPusher()
    graph = getattr(fn.spec, "graph", None)
    error_stream = (
        getattr(fn.spec, "error_stream", "") or getattr(graph, "error_stream", "")
        if graph is not None
        else ""
    )
    sink = SafeSink(pusher, error_stream) if error_stream else None
    return pusher, queue_pusher(pusher), sink


def triggers_of(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Kafka triggers in a Nuclio-style config (``spec.triggers.<name>``)."""
    out = []
    for key, trigger in config.items():
        if (
            key.startswith("spec.triggers.")
            and isinstance(trigger, dict)
            and trigger.get("kind") in ("kafka-cluster", "kafka")
        ):
            out.append((key.removeprefix("spec.triggers."), trigger))
    return out
