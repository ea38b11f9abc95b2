"""Stream throughput: Kafka -> a 3-step graph -> an output topic, next to a bare loop.

    python benchmarks/stream.py [--messages 5000] [--broker 127.0.0.1:19092]

Needs a Kafka-protocol broker (``.ci/kafka.sh start .venv/bin/python`` starts Tansu). Both cases
consume the same input in a fresh consumer group, apply the same three functions and produce
to an output topic; events/s count from the first message to the last produce flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from typing import Any

from fnrun.stream.kafka import CONSUMER_DEFAULTS


def inc(body: dict[str, Any]) -> dict[str, Any]:
    return {"n": body["n"] + 1}


def _fill(broker: str, topic: str, count: int) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=broker, linger_ms=5)
    for i in range(count):
        producer.send(topic, json.dumps({"n": i}).encode())
    producer.flush()
    producer.close()


def bare_loop(broker: str, source: str, out: str, count: int) -> float:
    from kafka import KafkaConsumer, KafkaProducer

    consumer = KafkaConsumer(
        source,
        bootstrap_servers=broker,
        group_id=f"bare-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **CONSUMER_DEFAULTS,
    )
    producer = KafkaProducer(bootstrap_servers=broker, linger_ms=1)
    seen, start = 0, None
    while seen < count:
        batches = consumer.poll(timeout_ms=200)
        for messages in batches.values():
            start = start or time.perf_counter()
            for message in messages:
                body = inc(inc(inc(json.loads(message.value))))
                producer.send(out, json.dumps(body).encode())
                seen += 1
        if batches:
            consumer.commit()
    producer.flush()
    elapsed = time.perf_counter() - (start or time.perf_counter())
    consumer.close()
    producer.close()
    return count / elapsed


def fnrun_graph(broker: str, source: str, out: str, count: int) -> float:
    import fnrun
    from fnrun.service.serving_app import build_app

    fn = fnrun.new_function("stream-bench", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler="stream.inc", name="a").to(handler="stream.inc", name="b").to(
        handler="stream.inc", name="c"
    ).to(">>", "out", path=f"kafka://{broker}/{out}")
    fn.add_kafka_trigger(broker, source, consumer_group=f"fnrun-{uuid.uuid4().hex}")  # type: ignore[attr-defined]
    app = build_app(fn)
    trigger = app.triggers[0]
    app.start_triggers()
    while trigger.processed == 0:
        time.sleep(0.001)
    start = time.perf_counter()
    first = trigger.processed
    while trigger.processed < count:
        time.sleep(0.001)
    app.stop_triggers()  # flushes the producer
    return (count - first) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--broker", default=os.environ.get("FNRUN_TEST_KAFKA", "127.0.0.1:19092"))
    args = parser.parse_args()
    source = f"bench-in-{uuid.uuid4().hex[:8]}"
    _fill(args.broker, source, args.messages)
    rows = [
        (
            "bare consume-transform-produce loop",
            bare_loop(args.broker, source, f"bench-out-a-{uuid.uuid4().hex[:6]}", args.messages),
        ),
        (
            "fnrun Kafka trigger, 3-step graph + queue",
            fnrun_graph(args.broker, source, f"bench-out-b-{uuid.uuid4().hex[:6]}", args.messages),
        ),
    ]
    print(f"{'case':<44} {'events/s':>10}")
    for label, rate in rows:
        print(f"{label:<44} {rate:>10.0f}")
    print(f"ratio fnrun / bare: {rows[1][1] / rows[0][1]:.2f}")


if __name__ == "__main__":
    main()
