"""Kafka triggers and queue steps against a real Kafka-protocol broker (Tansu, started by
./dev test). Never asserts on Tansu's watermarks or lag."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import fnrun
import fnrun.serving
from fnrun.service.serving_app import build_app
from fnrun.stream.kafka import CONSUMER_DEFAULTS, parse_kafka_url
from fnrun.stream.trigger import KafkaTrigger
from tests.conftest import require_service
from tests.otel import by_name, hex_id, spans

__all__ = ["spans"]  # the fixture
PARENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{PARENT_TRACE}-b7ad6b7169203331-01"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker() -> str:
    pytest.importorskip("kafka", reason="kafka-python not installed")
    return require_service("FNRUN_TEST_KAFKA", "Kafka-protocol broker")


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _produce(broker: str, topic: str, bodies: list[Any], key: bytes | None = None) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=broker)
    for body in bodies:
        value = json.dumps(body).encode() if not isinstance(body, bytes) else body
        producer.send(topic, value, key=key)  # one key: one partition, so order holds
    producer.flush()
    producer.close()


def _consume(broker: str, topic: str, count: int, timeout: float = 30) -> list[Any]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=f"check-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        **CONSUMER_DEFAULTS,
    )
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        for messages in consumer.poll(timeout_ms=300).values():
            out.extend(json.loads(m.value) for m in messages)
    consumer.close()
    return out


def _wait(condition: Callable[[], bool], timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def add_one(body: dict[str, Any]) -> dict[str, Any]:
    return {"n": body["n"] + 1}


def test_trigger_runs_each_message_through_the_graph_to_an_output_topic(broker: str) -> None:
    source, out, errors = _topic("in"), _topic("out"), _topic("errors")
    fn = fnrun.new_function("stream", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.add_one", name="add").to(
        ">>", "out", path=f"kafka://{broker}/{out}"
    )
    fn.spec.error_stream = f"kafka://{broker}/{errors}"
    fn.add_kafka_trigger(broker, source, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    app = build_app(fn)
    app.start_triggers()
    try:
        _produce(broker, source, [{"n": 1}, {"bad": True}, {"n": 2}])
        trigger = app.triggers[0]
        _wait(lambda: trigger.processed == 3)
    finally:
        app.stop_triggers()
    assert trigger.failed == 1
    assert sorted(b["n"] for b in _consume(broker, out, 2)) == [2, 3]
    (error,) = _consume(broker, errors, 1)
    assert error["step"] == "add" and error["body"] == {"bad": True}


class Recorder:
    """A stand-in server that records bodies and crashes once when asked."""

    def __init__(self, crash_on: Any = None) -> None:
        self.seen: list[Any] = []
        self.crash_on = crash_on

    def run(self, event: Any) -> Any:
        body = json.loads(event.body)
        if body == self.crash_on:
            self.crash_on = None
            raise SystemExit("simulated crash before the commit")
        self.seen.append(body)
        return None


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_offsets_commit_after_processing_and_restart_loses_nothing(broker: str) -> None:
    topic, group = _topic("alo"), _topic("g")
    _produce(broker, topic, [{"i": 0}, {"i": 1}], key=b"one")
    first = Recorder(crash_on={"i": 1})
    trigger = KafkaTrigger(first, [broker], [topic], group)
    trigger.start()
    trigger.join(60)  # dies on {"i": 1}: its offset is not committed
    assert first.seen == [{"i": 0}]
    _produce(broker, topic, [{"i": 2}], key=b"one")
    second = Recorder()
    trigger = KafkaTrigger(second, [broker], [topic], group)
    trigger.start()
    _wait(lambda: len(second.seen) >= 2)
    trigger.stop()
    assert second.seen == [{"i": 1}, {"i": 2}]  # the crashed one again, then the new one


def test_kafka_urls_and_trigger_spec() -> None:
    assert parse_kafka_url("kafka://a:1,b:2/t") == (["a:1", "b:2"], "t")
    with pytest.raises(fnrun.InvalidArgumentError, match="needs brokers and a topic"):
        parse_kafka_url("kafka://a:1")
    fn = fnrun.new_function("k", kind="nuclio")
    fn.add_kafka_trigger("h:9092", ["t1", "t2"], consumer_group="g")  # type: ignore[attr-defined]
    assert fn.to_dict()["spec"]["config"]["spec.triggers.kafka"] == {
        "kind": "kafka-cluster",
        "attributes": {
            "brokers": ["h:9092"],
            "topics": ["t1", "t2"],
            "consumerGroup": "g",
            "initialOffset": "earliest",
        },
    }


class SlowLoading(fnrun.serving.V2ModelServer):
    def load(self) -> None:
        time.sleep(1.5)
        self.model = 10

    def predict(self, request: dict[str, Any]) -> Any:
        return [row[0] * self.model for row in request["inputs"]]


def test_stream_events_wait_for_a_background_load_and_tracking_goes_to_kafka(
    broker: str,
) -> None:
    source, tracking = _topic("requests"), _topic("tracking")
    fn = fnrun.new_function("monitored", kind="serving")
    fn.add_model("m", class_name=f"{__name__}.SlowLoading", load_mode="async")  # type: ignore[attr-defined]
    fn.set_tracking(f"kafka://{broker}/{tracking}", batch=2)  # type: ignore[attr-defined]
    fn.add_kafka_trigger(broker, source, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    app = build_app(fn)
    app.start_triggers()
    try:
        _produce(broker, source, [{"inputs": [[i]]} for i in range(3)], key=b"k")
        trigger = app.triggers[0]
        _wait(lambda: trigger.processed == 3)
    finally:
        app.stop_triggers()  # shutdown sends the partial tracking batch
    assert trigger.failed == 0  # nothing was refused while the model loaded
    messages = _consume(broker, tracking, 2)
    rows = [row for message in messages for row in message["records"]]
    assert sorted(row["outputs"][0] for row in rows) == [0, 10, 20]
    assert {row["model"] for row in rows} == {"m"} and {r["function"] for r in rows} == {
        "monitored"
    }


def test_produced_records_keep_the_incoming_key_and_nothing_else() -> None:
    from fnrun.graph.event import Event
    from fnrun.stream.kafka import _key_of

    keyed = Event(body={})
    keyed.fields["key"] = b"user-7"
    assert _key_of(keyed) == b"user-7"
    assert _key_of(Event(body={}, id="topic/0/12")) is None  # an event id is not a key
    assert _key_of({"record": 1}) is None


def sleepy(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("slow"):
        time.sleep(body["slow"])
    return {"n": body["n"]}


def too_big(body: Any) -> Any:
    raise ValueError("cannot handle this")


def test_a_poison_message_with_an_oversized_error_record_does_not_stop_the_trigger(
    broker: str,
) -> None:
    source, errors = _topic("poison"), _topic("errors")
    fn = fnrun.new_function("poison", kind="serving")
    fn.set_topology("flow").to(handler=f"{__name__}.too_big", name="fail")  # type: ignore[attr-defined]
    fn.spec.error_stream = f"kafka://{broker}/{errors}"
    fn.add_kafka_trigger(broker, source, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    app = build_app(fn)
    app.start_triggers()
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=broker, max_request_size=4 * 1024 * 1024)
    producer.send(source, json.dumps({"blob": "x" * 1_100_000}).encode(), key=b"k")
    for i in range(3):
        producer.send(source, json.dumps({"i": i}).encode(), key=b"k")
    producer.flush()
    producer.close()
    trigger = app.triggers[0]
    try:
        _wait(lambda: trigger.processed == 4)
        assert trigger.is_alive() and trigger.health()["healthy"]
    finally:
        app.stop_triggers()
    records = _consume(broker, errors, 4)
    assert len(records) == 4
    poison = [r for r in records if r.get("truncated")]
    assert len(poison) == 1 and "body" not in poison[0] and poison[0]["body_size"] > 1_000_000
    assert sorted(r["body"]["i"] for r in records if not r.get("truncated")) == [0, 1, 2]
    assert 'fnrun_error_records_truncated_total{function="poison"} 1' in app.metrics.render()


def test_a_step_slower_than_the_poll_interval_keeps_the_group_and_reprocesses_nothing(
    broker: str,
) -> None:
    source, out = _topic("slow"), _topic("out")
    fn = fnrun.new_function("slowstep", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.sleepy", name="s").to(">>", "q", path=f"kafka://{broker}/{out}")
    fn.add_kafka_trigger(broker, source, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    app = build_app(fn)
    app.start_triggers()
    # max_poll_interval_ms is 5000 (CONSUMER_DEFAULTS): one message sleeps 7 s
    bodies = [{"n": 0}, {"n": 1, "slow": 7.0}, {"n": 2}, {"n": 3}]
    _produce(broker, source, bodies, key=b"one")
    trigger = app.triggers[0]
    try:
        _wait(lambda: trigger.processed == 4, timeout=60)
        time.sleep(2)  # a member kicked out would re-read its backlog now
        assert trigger.processed == 4 and trigger.commit_failures == 0
        assert trigger.is_alive()
    finally:
        app.stop_triggers()
    assert sorted(b["n"] for b in _consume(broker, out, 4)) == [0, 1, 2, 3]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_health_fails_when_a_trigger_is_dead(broker: str) -> None:
    import asyncio

    import httpx

    source = _topic("dead")
    fn = fnrun.new_function("deadtrig", kind="serving")
    fn.set_topology("flow").to(handler=f"{__name__}.add_one", name="a")  # type: ignore[attr-defined]
    fn.add_kafka_trigger(broker, source, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    app = build_app(fn)
    app.triggers[0].server = Recorder(crash_on={"n": 1})  # the process-level crash of a worker
    app.start_triggers()

    async def health() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/v2/health")

    try:
        _wait(lambda: app.triggers[0].health()["healthy"])
        assert asyncio.run(health()).status_code == 200
        _produce(broker, source, [{"n": 1}])
        app.triggers[0].join(40)
        r = asyncio.run(health())
        assert r.status_code == 503 and r.json()["triggers"][0]["healthy"] is False
    finally:
        app.stop_triggers()


_CONSUMER_PROC = """
import json, sys
from fnrun.stream.trigger import KafkaTrigger

class Server:
    def __init__(self, path):
        self.out = open(path, "a", buffering=1)

    def run(self, event):
        self.out.write(json.loads(event.body)["i"].__str__() + "\\n")

trigger = KafkaTrigger(Server(sys.argv[4]), [sys.argv[1]], [sys.argv[2]], sys.argv[3])
trigger.start()
trigger.join()
"""


def test_kill_minus_9_of_the_consumer_loses_nothing(broker: str, tmp_path: Any) -> None:
    import os
    import signal
    import subprocess
    import sys

    topic, group, total = _topic("kill"), _topic("g"), 3000
    seen = tmp_path / "seen.txt"
    _produce(broker, topic, [{"i": i} for i in range(total)])

    def start() -> subprocess.Popen[bytes]:
        args = [sys.executable, "-c", _CONSUMER_PROC, broker, topic, group, str(seen)]
        return subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def count() -> int:
        return len(seen.read_text().splitlines()) if seen.exists() else 0

    proc = start()
    _wait(lambda: count() > total // 3, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc = start()
    try:
        _wait(lambda: {int(x) for x in seen.read_text().split()} >= set(range(total)), timeout=90)
    finally:
        proc.kill()
        proc.wait()
    ids = [int(x) for x in seen.read_text().split()]
    assert set(ids) == set(range(total))  # 0 lost; duplicates are what at-least-once allows


def fail_on_odd(body: dict[str, Any]) -> dict[str, Any]:
    if body["n"] % 2:
        raise ValueError("odd")
    return body


def test_the_nuclio_entry_pushes_queue_steps_and_errors_to_kafka(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside Nuclio the graph is wired as under ``fnrun serve``: a queue step writes its
    topic and a failing event goes to the error stream."""
    import logging

    nuclio_sdk = pytest.importorskip("nuclio_sdk", reason="nuclio-sdk not installed")
    from fnrun.runtimes.nuclio import entry as nuclio_entry
    from fnrun.runtimes.nuclio.config import nuclio_config

    queued, errors = _topic("nuclio-q"), _topic("nuclio-err")
    fn = fnrun.new_function("nuclio-q", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.fail_on_odd", name="check").to(
        ">>", "q", path=f"kafka://{broker}/{queued}"
    )
    fn.spec.error_stream = f"kafka://{broker}/{errors}"
    env = {e["name"]: e["value"] for e in nuclio_config(fn)["spec"]["env"]}
    monkeypatch.setenv(nuclio_entry.SPEC_ENV, env[nuclio_entry.SPEC_ENV])
    context = nuclio_sdk.Context(
        logger=nuclio_sdk.Logger(logging.DEBUG, "test"), platform=nuclio_sdk.Platform("local")
    )
    nuclio_entry.init_context(context)
    for n in (2, 3, 4):
        event = nuclio_sdk.Event(body=json.dumps({"n": n}).encode(), path="/",
                                 content_type="application/json")  # fmt: skip
        nuclio_entry.handler(context, event)
    assert sorted(m["n"] for m in _consume(broker, queued, 2)) == [2, 4]
    failed = _consume(broker, errors, 1)
    assert len(failed) == 1 and failed[0]["step"] == "check" and failed[0]["message"] == "odd"


SEEN: set[int] = set()


def slow_record(body: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.004)
    SEEN.add(body["i"])
    return body


def _create_topic(broker: str, topic: str, partitions: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=broker)
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    admin.close()


def test_two_replicas_one_joining_mid_batch_finish_every_message(broker: str) -> None:
    """Two served replicas of one Kafka-triggered function in one group; the second joins
    while the first is mid-batch (3 partitions, 3,000 messages, 4 ms each). Every message is
    processed after the rebalance, in each of three rounds (kafka-python 3.0 left a resumed
    partition unfetched for ever in about one round of three before _release_parked)."""
    from kafka import KafkaProducer

    for _round in range(3):
        SEEN.clear()
        topic = _topic("replicas")
        _create_topic(broker, topic, 3)
        producer = KafkaProducer(bootstrap_servers=broker)
        for i in range(3000):
            producer.send(topic, json.dumps({"i": i}).encode(), partition=i % 3)
        producer.flush()
        producer.close()
        fn = fnrun.new_function("replicas", kind="serving")
        fn.set_topology("flow").to(handler=f"{__name__}.slow_record", name="rec")  # type: ignore[attr-defined]
        fn.add_kafka_trigger(broker, topic, consumer_group=_topic("g"))  # type: ignore[attr-defined]
        first, second = build_app(fn), build_app(fn)
        first.start_triggers()
        try:
            _wait(lambda: len(SEEN) >= 50)  # mid-batch: a batch is up to 500 messages
            second.start_triggers()
            _wait(lambda: len(SEEN) == 3000, timeout=90)
        finally:
            first.stop_triggers()
            second.stop_triggers()
        assert first.triggers[0].processed + second.triggers[0].processed >= 3000
        assert second.triggers[0].processed > 0  # the second replica took its share


def test_a_queue_step_carries_the_trace_in_the_message_and_the_consumer_continues_it(
    broker: str, spans: Any
) -> None:
    from kafka import KafkaConsumer

    from fnrun.graph.event import Event

    middle, out = _topic("middle"), _topic("out")
    first = fnrun.new_function("front", kind="serving")
    graph = first.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.add_one", name="add").to(
        ">>", "q", path=f"kafka://{broker}/{middle}"
    )
    second = fnrun.new_function("back", kind="serving")
    graph = second.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler=f"{__name__}.add_one", name="again").to(
        ">>", "out", path=f"kafka://{broker}/{out}"
    )
    second.add_kafka_trigger(broker, middle, consumer_group=_topic("g"))  # type: ignore[attr-defined]
    front, back = build_app(first), build_app(second)
    back.start_triggers()
    try:
        front.server.run(Event(body={"n": 1}, headers={"traceparent": TRACEPARENT}))
        front.shut_down()  # the producer flushes
        _wait(lambda: back.triggers[0].processed == 1)
    finally:
        back.stop_triggers()
    consumer = KafkaConsumer(
        middle, bootstrap_servers=broker, auto_offset_reset="earliest", **CONSUMER_DEFAULTS
    )
    (message,) = [m for batch in consumer.poll(timeout_ms=5000).values() for m in batch]
    consumer.close()
    headers = dict(message.headers)
    queue = by_name(spans)["q"]
    assert headers["traceparent"].decode().split("-")[1:3] == [
        PARENT_TRACE, hex_id(queue.context.span_id, 16)
    ]  # fmt: skip
    consumed = [s for s in spans.get_finished_spans() if s.name == "back"]
    assert len(consumed) == 1
    assert hex_id(consumed[0].context.trace_id, 32) == PARENT_TRACE  # the same trace
    assert consumed[0].parent.span_id == queue.context.span_id  # under the queue step
    again = by_name(spans)["again"]
    assert again.parent.span_id == consumed[0].context.span_id
    assert _consume(broker, out, 1) == [{"n": 3}]


def test_the_last_tracked_records_come_back_from_the_topic(broker: str, monkeypatch: Any) -> None:
    from fnrun.graph.event import Event
    from fnrun.stream.tracked import Bounds, recent_records

    topic = _topic("tracked")
    fn = fnrun.new_function("monitored", kind="serving")
    fn.add_model("m", class_name=f"{__name__}.SlowLoading")  # type: ignore[attr-defined]
    fn.set_tracking(f"kafka://{broker}/{topic}", batch=2)  # type: ignore[attr-defined]
    app = build_app(fn)
    for i in range(5):
        app.server.run(Event(body={"inputs": [[i]]}, path="/v2/models/m/infer"))
    app.shut_down()  # the last, partial batch is sent too
    monkeypatch.setenv("FNRUN_TRACKING_BROKERS", broker)
    path = f"kafka://{broker}/{topic}"
    found = recent_records(path, "m", limit=3, bounds=Bounds.for_service([]), timeout=10)
    assert [r["inputs"] for r in found] == [[[4]], [[3]], [[2]]]  # the newest, first
    assert len(recent_records(path, "m", limit=50, timeout=10)) == 5
