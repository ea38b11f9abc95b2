"""The trigger's decisions, driven without a network: a scripted consumer records each call."""

from __future__ import annotations

import time
import types
from collections import namedtuple
from typing import Any

import pytest

from fnrun.stream import trigger as trigger_module
from fnrun.stream.kafka import KafkaPusher, SafeSink
from fnrun.stream.trigger import KafkaTrigger

TP = namedtuple("TP", "topic partition")
Msg = namedtuple("Msg", "topic partition offset value key headers")


class CommitFailed(Exception):
    pass


class FakeConsumer:
    """Hands out scripted batches; records poll/pause/commit calls in one journal."""

    def __init__(self, script: list[dict[Any, list[Msg]]], journal: list[Any], fail_commits: int):
        self.script, self.journal, self.fail_commits = script, journal, fail_commits
        self.paused: set[Any] = set()
        self.owned = {TP("t", 0), TP("t", 1)}
        self.listener: Any = None
        self.rebalance: dict[Any, list[Msg]] | None = None  # at the next keep-alive poll

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.listener = listener

    def poll(self, timeout_ms: int = 0) -> dict[Any, list[Msg]]:
        self.journal.append(("poll", timeout_ms, frozenset(self.paused)))
        if timeout_ms == 0 and self.rebalance is not None:
            # partition 1 is taken away mid-batch, after it had handed out more messages
            stale, self.rebalance = self.rebalance, None
            self.listener.on_partitions_revoked({TP("t", 1)})
            self.owned = {TP("t", 0)}
            self.listener.on_partitions_assigned({TP("t", 0)})
            return stale
        if timeout_ms == 0 or not self.script:
            time.sleep(0.001 if timeout_ms == 0 else 0.02)
            return {}
        return self.script.pop(0)

    def pause(self, *tps: Any) -> None:
        self.paused.update(tps)

    def resume(self, *tps: Any) -> None:
        self.paused.difference_update(tps)

    def assignment(self) -> set[Any]:
        return set(self.owned)

    def commit(self, offsets: dict[Any, Any]) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            self.journal.append(("commit-failed", dict(offsets)))
            raise CommitFailed("rebalanced")
        self.journal.append(("commit", {tp: o.offset for tp, o in offsets.items()}))

    def close(self) -> None:
        self.journal.append(("close",))


def _fake_kafka(consumer: FakeConsumer) -> Any:
    offset = namedtuple("OffsetAndMetadata", "offset metadata leader_epoch")
    return types.SimpleNamespace(
        KafkaConsumer=lambda *a, **k: consumer,
        ConsumerRebalanceListener=object,
        structs=types.SimpleNamespace(OffsetAndMetadata=offset),
        errors=types.SimpleNamespace(KafkaError=CommitFailed),
    )


class Server:
    def __init__(self, journal: list[Any], slow: float = 0.0, broken: int = -1) -> None:
        self.journal, self.slow, self.broken = journal, slow, broken

    def run(self, event: Any) -> None:
        if self.slow:
            time.sleep(self.slow)
        if event.fields["offset"] == self.broken:
            raise RuntimeError("a bug in a step adapter")
        self.journal.append(("ran", event.id))


def _run(
    monkeypatch: pytest.MonkeyPatch,
    script: list[dict[Any, list[Msg]]],
    server_args: dict[str, Any] | None = None,
    fail_commits: int = 0,
    poll_interval_ms: int = 300,
    rebalance: dict[Any, list[Msg]] | None = None,
) -> tuple[KafkaTrigger, list[Any]]:
    journal: list[Any] = []
    consumer = FakeConsumer(script, journal, fail_commits)
    consumer.rebalance = rebalance
    monkeypatch.setattr(trigger_module, "kafka_module", lambda: _fake_kafka(consumer))
    trigger = KafkaTrigger(
        Server(journal, **(server_args or {})),
        ["b:9092"],
        ["t"],
        "g",
        options={"max_poll_interval_ms": poll_interval_ms},
        flush=lambda: journal.append(("flush",)),
    )
    trigger.start()
    deadline = time.monotonic() + 10
    while consumer.script or sum(1 for j in journal if j[0] in ("commit", "commit-failed")) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.1)
    trigger.stop()
    return trigger, journal


def _batch(partition: int, offsets: range) -> dict[Any, list[Msg]]:
    return {TP("t", partition): [Msg("t", partition, o, b"{}", None, []) for o in offsets]}


def test_outputs_are_flushed_before_each_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    _, journal = _run(monkeypatch, [_batch(0, range(3)), _batch(1, range(2))])
    kinds = [j[0] for j in journal if j[0] in ("ran", "flush", "commit")]
    assert kinds == ["ran"] * 3 + ["flush", "commit"] + ["ran"] * 2 + ["flush", "commit"]
    commits = [j[1] for j in journal if j[0] == "commit"]
    assert commits == [{TP("t", 0): 3}, {TP("t", 1): 2}]


def test_a_slow_step_keeps_polling_with_its_partitions_paused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each message takes longer than the keep-alive period (a third of the poll interval)
    trigger, journal = _run(monkeypatch, [_batch(0, range(2))], {"slow": 0.35})
    keepalives = [j for j in journal if j[0] == "poll" and j[1] == 0]
    assert len(keepalives) >= 2
    assert all(TP("t", 0) in paused for _, _, paused in keepalives)
    assert trigger.processed == 2 and trigger.is_alive() is False


def test_a_failed_commit_is_counted_and_consuming_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    trigger, journal = _run(monkeypatch, [_batch(0, range(2)), _batch(1, range(1))], fail_commits=1)
    assert trigger.commit_failures == 1
    assert [j[1] for j in journal if j[0] == "commit"] == [{TP("t", 1): 1}]
    assert trigger.processed == 3


def test_a_message_that_breaks_the_server_does_not_stop_the_trigger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trigger, journal = _run(monkeypatch, [_batch(0, range(3))], {"broken": 1})
    assert [j[1] for j in journal if j[0] == "ran"] == ["t/0/0", "t/0/2"]
    assert trigger.failed == 1 and [j[1] for j in journal if j[0] == "commit"] == [{TP("t", 0): 3}]


class _RefusingPusher(KafkaPusher):
    def __init__(self, refuse_over: int) -> None:
        super().__init__()
        self.refuse_over = refuse_over
        self.sent: list[Any] = []

    def push(self, url: str, event: Any) -> None:
        import json

        if len(json.dumps(event)) > self.refuse_over:
            raise ValueError("MessageSizeTooLargeError: the message is too large")
        self.sent.append(event)


def test_an_error_record_too_large_is_written_without_its_body() -> None:
    pusher = _RefusingPusher(refuse_over=1000)
    sink = SafeSink(pusher, "kafka://b:9092/errors")
    sink({"event_id": "t/0/7", "message": "boom", "body": "x" * 5000})
    (written,) = pusher.sent
    assert written["truncated"] is True and "body" not in written and written["body_size"] > 5000
    assert sink.failures == 1 and sink.lost == 0
    pusher.refuse_over = 10
    sink({"event_id": "t/0/8", "message": "boom", "body": "y"})  # nothing fits: logged, counted
    assert sink.lost == 1


def test_a_rebalance_mid_batch_commits_only_what_is_still_owned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Partition 1 is revoked while a slow batch of both runs: the offsets of partition 0
    are committed (not lost with a failed commit of both), partition 1's are not (its new
    owner re-reads it), and messages held for partition 1 are dropped, not processed."""
    batch = {**_batch(0, range(0, 3)), **_batch(1, range(0, 3))}
    stale = _batch(1, range(3, 6))  # handed out by a keep-alive poll before the revocation
    _trigger, journal = _run(
        monkeypatch, [batch], {"slow": 0.1}, poll_interval_ms=300, rebalance=stale
    )
    commits = [j[1] for j in journal if j[0] == "commit"]
    assert commits == [{TP("t", 0): 3}]
    ran = [j[1] for j in journal if j[0] == "ran"]
    assert "t/1/3" not in ran and "t/1/4" not in ran  # the stale ones: dropped


class DeadlineServer(Server):
    """Records the time budget each message ran with, and the failures reported to it."""

    def __init__(self, journal: list[Any]) -> None:
        super().__init__(journal)
        self.budgets: list[str | None] = []
        self.failures: list[Any] = []

    def run(self, event: Any) -> None:
        self.budgets.append(event.headers.get("x-fnrun-timeout"))
        super().run(event)

    def failure(self, event: Any, exc: Exception) -> None:
        self.failures.append((event.id, type(exc).__name__, str(exc)))


def test_an_expired_message_goes_to_the_error_stream_not_through_the_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.time()
    msgs = [
        Msg("t", 0, 0, b"{}", None, [("x-fnrun-deadline", f"{now - 1:.3f}".encode())]),
        Msg("t", 0, 1, b"{}", None, [("x-fnrun-deadline", f"{now + 30:.3f}".encode())]),
        Msg("t", 0, 2, b"{}", None, []),
    ]
    journal: list[Any] = []
    server = DeadlineServer(journal)
    consumer = FakeConsumer([{TP("t", 0): msgs}], journal, 0)
    monkeypatch.setattr(trigger_module, "kafka_module", lambda: _fake_kafka(consumer))
    trigger = KafkaTrigger(server, ["b:9092"], ["t"], "g", flush=lambda: None)
    trigger.start()
    limit = time.monotonic() + 10
    while not any(j[0] == "commit" for j in journal):
        assert time.monotonic() < limit
        time.sleep(0.01)
    trigger.stop()
    assert [j[1] for j in journal if j[0] == "ran"] == ["t/0/1", "t/0/2"]
    (failed,) = server.failures
    assert failed[0] == "t/0/0" and failed[1] == "DeadlineExceeded" and "not run" in failed[2]
    assert 25 < float(server.budgets[0]) <= 30 and server.budgets[1] is None
    assert trigger.expired == 1 and trigger.processed == 3
    assert [j[1] for j in journal if j[0] == "commit"] == [{TP("t", 0): 3}]  # committed all
    samples = {name: value for name, _, _, value in trigger.metric_samples("f")}
    assert samples["fnrun_stream_expired"] == 1


def test_a_queue_step_carries_the_deadline_in_the_message_headers() -> None:
    from fnrun.graph.event import Event
    from fnrun.stream.kafka import DEADLINE_HEADER

    sent: list[Any] = []

    class Producer:
        def send(self, topic: str, value: bytes, key: Any, headers: Any) -> Any:
            sent.append(headers)
            return types.SimpleNamespace(add_errback=lambda *a: None)

    pusher = KafkaPusher()
    pusher._targets["kafka://b:9092/q"] = (Producer(), "q")
    event = Event(body={"a": 1})
    pusher.push("kafka://b:9092/q", event)
    event.deadline = time.monotonic() + 5
    pusher.push("kafka://b:9092/q", event)
    assert sent[0] is None
    ((name, value),) = sent[1]
    assert name == DEADLINE_HEADER and 4 < float(value) - time.time() <= 5.01  # ms rounding
