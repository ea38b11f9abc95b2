"""Kafka for serving graphs: a consumer-group trigger and a producer for queue steps.

The trigger commits offsets only after the graph has processed the messages (at-least-once),
once per polled batch and on stop: a crash before the commit means those messages are read
again. A message whose graph run
fails goes to the error stream (through the GraphServer's error sink) and the consumer moves on.
URLs look like ``kafka://host:9092[,host2:9092]/topic``.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require
from fnrun.graph.event import Event, TriggerInfo

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


def _kafka() -> Any:
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


class KafkaPusher:
    """Produces JSON bodies to topics named by ``kafka://`` URLs (one producer per brokers)."""

    def __init__(self) -> None:
        self._producers: dict[str, Any] = {}
        self._targets: dict[str, tuple[Any, str]] = {}  # url -> (producer, topic)
        self._lock = threading.Lock()

    def push(self, url: str, event: Any) -> None:
        """Send ``event``'s body now (serialised here, so the caller may change it after)."""
        target = self._targets.get(url)
        if target is None:
            brokers, topic = parse_kafka_url(url)
            target = self._targets[url] = (self._producer(brokers), topic)
        body = event.body if hasattr(event, "body") else event
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
        target[0].send(target[1], value=data, key=_key_of(event))

    def _producer(self, brokers: list[str]) -> Any:
        name = ",".join(brokers)
        with self._lock:
            if name not in self._producers:
                self._producers[name] = _kafka().KafkaProducer(
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


class KafkaTrigger(threading.Thread):
    """Consumes ``topics`` in consumer group ``group`` and runs each message through ``server``."""

    def __init__(
        self,
        server: Any,
        brokers: list[str],
        topics: list[str],
        group: str,
        initial_offset: str = "earliest",
        poll_ms: int = 200,
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name=f"kafka-trigger-{group}", daemon=True)
        if not brokers or not topics or not group:
            raise InvalidArgumentError(
                "a Kafka trigger needs brokers, topics and a consumer group", field="trigger"
            )
        self.server = server
        self.brokers, self.topics, self.group = brokers, topics, group
        self.initial_offset = initial_offset
        self.poll_ms = poll_ms
        self.options = {**CONSUMER_DEFAULTS, **(options or {})}
        self.processed = 0
        self.failed = 0
        self._halt = threading.Event()
        self.ready = threading.Event()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message in hand, commit, leave the group."""
        self._halt.set()
        self.join(timeout)

    def run(self) -> None:
        kafka = _kafka()
        consumer = kafka.KafkaConsumer(
            *self.topics,
            bootstrap_servers=self.brokers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset=self.initial_offset,
            **self.options,
        )
        self.ready.set()
        try:
            while not self._halt.is_set():
                batches = consumer.poll(timeout_ms=self.poll_ms)
                done = {}
                try:
                    for partition, messages in batches.items():
                        for message in messages:
                            self._process(message)
                            done[partition] = kafka.structs.OffsetAndMetadata(
                                message.offset + 1, None, -1
                            )
                            if self._halt.is_set():
                                return
                finally:
                    if done:  # only what was processed; a crash before this re-delivers
                        consumer.commit(done)
        except Exception:
            log.exception("kafka trigger %s stopped by an error", self.group)
            raise
        finally:
            consumer.close()

    def _process(self, message: Any) -> None:
        event = Event(
            body=message.value,
            path=f"/{message.topic}",
            id=f"{message.topic}/{message.partition}/{message.offset}",
            headers={k: v.decode("utf-8", "replace") for k, v in (message.headers or [])},
            method="POST",
            trigger=TriggerInfo("kafka-cluster", self.group),
        )
        event.fields.update(
            topic=message.topic, partition=message.partition, offset=message.offset, key=message.key
        )
        result = self.server.run(event)
        if getattr(result, "status_code", 200) >= 400:
            self.failed += 1  # recorded in the error stream by the server's error sink
        self.processed += 1


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
