"""The Kafka trigger: a consumer-group member that runs each message through a graph.

At-least-once, and never stuck:

- Offsets are committed only after the messages are processed *and* what they produced
  (queue outputs, error records) is flushed to the brokers; a crash before that re-delivers.
- A polled batch runs in a worker thread while this thread keeps the group membership alive
  (the batch's partitions are paused and ``poll`` is called every third of
  ``max_poll_interval_ms``), so a slow step never gets the member kicked out of its group.
- A rebalance never stalls a partition: only offsets of partitions still owned are committed
  (a revoked batch is dropped without commit: its new owner re-reads it), messages held for
  revoked partitions are dropped, and every partition resumed after a batch is fetched again
  (kafka-python 3.0 parks the records of a partition paused mid-fetch and, once another
  partition's fetch has drained, never restores them: :func:`_release_parked`).
- A failed commit is counted and logged; the messages are re-delivered to whoever owns them
  now, and this member goes on with its new assignment.
- One message can never stop the trigger: a step failure goes to the error stream (the
  GraphServer's sink, made safe by :class:`fnrun.stream.kafka.SafeSink`), and any other error
  is counted and logged. A broken consumer (the broker went away) is rebuilt with back-off.
- ``health()`` says whether the trigger is consuming; ``/v2/health`` fails when it is not, so
  an orchestrator restarts the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.deadline import HEADER, DeadlineExceeded
from fnrun.graph.event import Event, TriggerInfo
from fnrun.stream.kafka import CONSUMER_DEFAULTS, DEADLINE_HEADER, kafka_module

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
        self.expired = 0  # messages whose deadline passed before they were consumed
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
            "expired": self.expired,
            "commit_failures": self.commit_failures,
            "restarts": self.restarts,
            **({"last_error": self.last_error} if self.last_error and not healthy else {}),
        }

    def metric_samples(self, function: str) -> list[tuple[str, str, dict[str, str], float]]:
        """Its counters for ``/metrics`` (:data:`fnrun.service.metrics.Sample`)."""
        labels = {"function": function, "group": self.group}
        return [
            ("fnrun_stream_messages", "counter", labels, self.processed),
            ("fnrun_stream_failed", "counter", labels, self.failed),
            ("fnrun_stream_expired", "counter", labels, self.expired),
            ("fnrun_stream_commit_failures", "counter", labels, self.commit_failures),
            ("fnrun_stream_consumer_restarts", "counter", labels, self.restarts),
            ("fnrun_stream_up", "gauge", labels, int(self.is_alive() and self._consuming)),
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
            bootstrap_servers=self.brokers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset=self.initial_offset,
            **self.options,
        )
        revoked: set[Any] = set()
        consumer.subscribe(self.topics, listener=_listener(kafka, revoked))
        keepalive = self.options["max_poll_interval_ms"] / 3000
        worker = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-worker-{self.group}")
        self.ready.set()
        pending: Batch = {}
        try:
            while not self._halt.is_set():
                batch = _owned(pending, revoked) or consumer.poll(timeout_ms=self.poll_ms)
                pending = {}
                revoked.clear()
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
                owned = consumer.assignment()
                self._commit(consumer, {tp: o for tp, o in done.items() if tp in owned}, kafka)
                if crash is not None:
                    raise crash  # the process is going down: what was done is committed
                back = [tp for tp in batch if tp in owned]
                consumer.resume(*back)
                _release_parked(consumer, back)
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
        if self._expired(event):
            self.processed += 1
            return
        try:
            result = self.server.run(event)
        except Exception:  # the server answers failures itself; this is a bug: never stop
            self.failed += 1
            log.exception("kafka trigger %s: message %s failed", self.group, event.id)
        else:
            if getattr(result, "status_code", 200) >= 400:
                self.failed += 1  # recorded in the error stream by the server's error sink
        self.processed += 1

    def _expired(self, event: Event) -> bool:
        """A message whose deadline (``x-fnrun-deadline``, from a queue step) has passed goes
        to the error stream, never through the graph; one with time left runs with what is
        left as its ``x-fnrun-timeout``."""
        stamp = event.headers.get(DEADLINE_HEADER)
        if stamp is None:
            return False
        try:
            left = float(stamp) - time.time()
        except ValueError:
            log.warning(
                "kafka trigger %s: message %s: bad %s header %r",
                self.group,
                event.id,
                DEADLINE_HEADER,
                stamp,
            )
            return False
        if left > 0:
            event.headers[HEADER] = f"{left:.3f}"
            return False
        self.expired += 1
        failure = getattr(self.server, "failure", None)
        if callable(failure):
            failure(
                event,
                DeadlineExceeded(
                    f"message {event.id} reached the consumer {-left:.3f} s after its deadline; "
                    "not run",
                    field=DEADLINE_HEADER,
                    hint="consume faster (more replicas) or give the request more time",
                ),
            )
        return True


def _listener(kafka: Any, revoked: set[Any]) -> Any:
    """A rebalance listener noting the partitions a rebalance takes away, so what is held
    for them is dropped rather than processed and committed (kafka-python wants its own
    class, imported only with the kafka extra)."""

    class Listener(kafka.ConsumerRebalanceListener):  # type: ignore[misc]
        def on_partitions_revoked(self, taken: Any) -> None:
            revoked.update(taken)

        def on_partitions_assigned(self, assigned: Any) -> None:
            revoked.difference_update(assigned)

    return Listener()


def _owned(batch: Batch, revoked: set[Any]) -> Batch:
    return {tp: messages for tp, messages in batch.items() if tp not in revoked}


def _release_parked(consumer: Any, partitions: list[Any]) -> None:
    """Let resumed partitions be fetched again. kafka-python 3.0 parks the parsed records of
    a partition paused mid-fetch and restores them only while no other partition's records
    are in line, which after the first drained fetch is never; the partition is then never
    fetched again (a stall: 500 of 3,000 messages left waiting in a two-replica test). The
    parked records were never returned, so the partition's position is still before them:
    dropping them makes the next poll fetch them anew."""
    parked = getattr(getattr(consumer, "_fetcher", None), "_paused_partition_records", None)
    if not isinstance(parked, dict):
        return  # another kafka-python: nothing parked this way
    for tp in partitions:
        records = parked.pop(tp, None)
        if records is not None:
            records.drain()
