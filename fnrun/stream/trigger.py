"""The Kafka trigger: a consumer-group member that runs each message through a graph.

At-least-once, and never stuck:

- Offsets are committed only after the messages are processed *and* what they produced
  (queue outputs, error records) is flushed to the brokers; a crash before that re-delivers.
- A polled batch runs in a worker thread while this thread keeps the group membership alive
  (the batch's partitions are paused and ``poll`` is called every third of
  ``max_poll_interval_ms``), so a slow step never gets the member kicked out of its group.
- A failed commit (a rebalance took the partitions away) is counted and logged; the messages
  are re-delivered to whoever owns them now, and this member goes on with its new assignment.
- One message can never stop the trigger: a step failure goes to the error stream (the
  GraphServer's sink, made safe by :class:`fnrun.stream.kafka.SafeSink`), and any other error
  is counted and logged. A broken consumer (the broker went away) is rebuilt with back-off.
- ``health()`` says whether the trigger is consuming; ``/v2/health`` fails when it is not, so
  an orchestrator restarts the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.event import Event, TriggerInfo
from fnrun.stream.kafka import CONSUMER_DEFAULTS, kafka_module

log = logging.getLogger("fnrun.stream.kafka")

Batch = dict[Any, list[Any]]  # TopicPartition -> messages


class KafkaTrigger(threading.Thread):
    """Consumes ``topics`` in consumer group ``group`` and runs each message through ``server``;
    ``flush`` (the producers' flush) runs before every commit."""

    def __init__(
        self,
        server: Any,
        brokers: list[str],
        topics: list[str],
        group: str,
        initial_offset: str = "earliest",
        poll_ms: int = 200,
        options: dict[str, Any] | None = None,
        flush: Callable[[], None] | None = None,
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
        self.flush = flush
        self.processed = 0
        self.failed = 0
        self.commit_failures = 0
        self.restarts = 0
        self.last_error = ""
        self._consuming = False
        self._halt = threading.Event()
        self.ready = threading.Event()

    # -- control and health ------------------------------------------------------------------
    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message in hand, flush, commit, leave the group."""
        self._halt.set()
        self.join(timeout)

    def health(self) -> dict[str, Any]:
        healthy = self.is_alive() and self._consuming
        return {
            "trigger": self.name,
            "healthy": healthy,
            "processed": self.processed,
            "failed": self.failed,
            "commit_failures": self.commit_failures,
            "restarts": self.restarts,
            **({"last_error": self.last_error} if self.last_error and not healthy else {}),
        }

    def metric_lines(self, function: str) -> list[str]:
        labels = f'function="{function}",group="{self.group}"'
        return [
            f"fnrun_stream_messages_total{{{labels}}} {self.processed}",
            f"fnrun_stream_failed_total{{{labels}}} {self.failed}",
            f"fnrun_stream_commit_failures_total{{{labels}}} {self.commit_failures}",
            f"fnrun_stream_consumer_restarts_total{{{labels}}} {self.restarts}",
            f"fnrun_stream_up{{{labels}}} {int(self.is_alive() and self._consuming)}",
        ]

    # -- the consumer loop -------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        while not self._halt.is_set():
            try:
                self._consume()
            except Exception as exc:  # the consumer broke (not one message): rebuild it
                self._consuming = False
                self.restarts += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("kafka trigger %s: consumer failed; restarting", self.group)
                self._halt.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            else:
                return

    def _consume(self) -> None:
        kafka = kafka_module()
        consumer = kafka.KafkaConsumer(
            *self.topics,
            bootstrap_servers=self.brokers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset=self.initial_offset,
            **self.options,
        )
        keepalive = self.options["max_poll_interval_ms"] / 3000
        worker = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-worker-{self.group}")
        self.ready.set()
        pending: Batch = {}
        try:
            while not self._halt.is_set():
                batch = pending or consumer.poll(timeout_ms=self.poll_ms)
                pending = {}
                self._consuming, self.last_error = True, ""
                if not batch:
                    continue
                consumer.pause(*batch)
                future = worker.submit(self._process_batch, batch)
                while True:
                    try:
                        done, crash = future.result(timeout=keepalive)
                        break
                    except FutureTimeout:
                        # a slow step: keep the membership alive; the batch's partitions are
                        # paused, but a rebalance may hand us new ones: keep what they bring
                        for tp, messages in consumer.poll(timeout_ms=0).items():
                            pending.setdefault(tp, []).extend(messages)
                self._commit(consumer, done, kafka)
                if crash is not None:
                    raise crash  # the process is going down: what was done is committed
                owned = consumer.assignment()
                consumer.resume(*[tp for tp in batch if tp in owned])
        finally:
            worker.shutdown(wait=True)
            consumer.close()

    def _process_batch(self, batch: Batch) -> tuple[dict[Any, int], BaseException | None]:
        """Process ``batch`` in order: the next offset per partition of what was done, and the
        exception (SystemExit, KeyboardInterrupt) that stopped it, if any."""
        done: dict[Any, int] = {}
        try:
            for tp, messages in batch.items():
                for message in messages:
                    self._process(message)
                    done[tp] = message.offset + 1
                    if self._halt.is_set():
                        return done, None
        except BaseException as exc:  # not an Exception: _process keeps those
            return done, exc
        return done, None

    def _commit(self, consumer: Any, done: dict[Any, int], kafka: Any) -> None:
        if not done:
            return
        if self.flush is not None:
            self.flush()  # outputs and error records reach the brokers before the offsets move
        offsets = {tp: kafka.structs.OffsetAndMetadata(off, None, -1) for tp, off in done.items()}
        try:
            consumer.commit(offsets)
        except kafka.errors.KafkaError as exc:
            # typically CommitFailedError after a rebalance: the new owner re-reads these
            self.commit_failures += 1
            log.warning(
                "kafka trigger %s: commit failed (%s); messages re-delivered", self.group, exc
            )

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
        try:
            result = self.server.run(event)
        except Exception:  # the server answers failures itself; this is a bug: never stop
            self.failed += 1
            log.exception("kafka trigger %s: message %s failed", self.group, event.id)
        else:
            if getattr(result, "status_code", 200) >= 400:
                self.failed += 1  # recorded in the error stream by the server's error sink
        self.processed += 1
