"""The last records a function's tracking wrote (``set_tracking``), read back from its sink:
a folder of JSON lines (``file://`` or a plain path), a Kafka topic, or the mock's memory.

For the web UI and ``fnrun functions status --records``. Whatever the records hold is the
served requests' data, written by whoever could send a request: it comes back as plain
values (the pages escape them). Where the service reads is bounded by ``Bounds``: a page view
must not make the service read any folder on its disk or dial any host a function's spec
names, so folders must lie under the allowed roots (no symlink out) and brokers must be in
the allowed list; the CLI reads as its user, unbounded.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.sinks import read_memory
from fnrun.stream.kafka import kafka_module, parse_kafka_url

MAX_FILES = 16  # the newest files of a folder (one per process that served)
TAIL_BYTES = 256 * 1024  # read from the end of each file
MAX_LIMIT = 200
ROOTS_ENV = "FNRUN_TRACKING_ROOTS"  # folders the service may read sinks under (os.pathsep)
BROKERS_ENV = "FNRUN_TRACKING_BROKERS"  # brokers the service may read topics from (commas)


class NotReadable(InvalidArgumentError):
    """The records cannot (or may not) be read from there; the message says why."""


@dataclass(frozen=True)
class Bounds:
    """Where reading is allowed: ``None`` is anywhere (the CLI, as its user)."""

    roots: tuple[Path, ...] | None = None
    brokers: frozenset[str] | None = None

    @classmethod
    def for_service(cls, roots: list[Path]) -> Bounds:
        """The service's bounds: folders under ``roots`` (the ones it serves artifacts from)
        and ``FNRUN_TRACKING_ROOTS``, brokers in ``FNRUN_TRACKING_BROKERS`` (none unless
        named)."""
        extra = [Path(p) for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()]
        allowed = tuple(p.expanduser().resolve() for p in [*roots, *extra])
        brokers = frozenset(
            b.strip().lower() for b in os.environ.get(BROKERS_ENV, "").split(",") if b.strip()
        )
        return cls(allowed, brokers)


def recent_records(
    path: str,
    step: str = "",
    limit: int = 20,
    bounds: Bounds | None = None,
    timeout: float = 2.0,
) -> list[dict[str, Any]]:
    """Up to ``limit`` of the newest records at tracking path ``path`` (of ``step`` when
    given), newest first."""
    bounds = bounds or Bounds()
    limit = max(1, min(int(limit), MAX_LIMIT))
    if path.startswith("memory://"):
        records = read_memory(path)
    elif path.startswith("kafka://"):
        records = _from_kafka(path, limit, bounds, timeout)
    elif "://" in path and not path.startswith("file://"):
        raise NotReadable(f"{path!r} is not a tracking stream fnrun reads", field="log_stream")
    else:
        records = _from_folder(Path(path.removeprefix("file://")).expanduser(), bounds)
    mine = [r for r in records if isinstance(r, dict) and (not step or r.get("step") == step)]
    mine.sort(key=lambda r: str(r.get("when", "")), reverse=True)
    return mine[:limit]


def steps_of(records: list[dict[str, Any]]) -> list[str]:
    """The steps these records are of, by name."""
    return sorted({str(r.get("step", "")) for r in records if r.get("step")})


# -- a folder of JSON lines ----------------------------------------------------------------------
def _from_folder(folder: Path, bounds: Bounds) -> list[dict[str, Any]]:
    real = folder.resolve()
    if bounds.roots is not None and not any(real.is_relative_to(r) for r in bounds.roots):
        raise NotReadable(
            f"the tracking folder {str(folder)!r} is outside the folders the service reads",
            field="log_stream",
            hint=f"add its parent to {ROOTS_ENV} where the service runs",
        )
    if not real.is_dir():
        raise NotReadable(f"no tracking folder {str(folder)!r} (nothing tracked yet?)",
                          field="log_stream")  # fmt: skip
    files = sorted(
        (
            e
            for e in os.scandir(real)
            if e.name.endswith(".jsonl") and e.is_file(follow_symlinks=False)
        ),
        key=lambda e: e.stat(follow_symlinks=False).st_mtime,
        reverse=True,
    )[:MAX_FILES]
    records: list[dict[str, Any]] = []
    for entry in files:
        records.extend(_tail(Path(entry.path)))
    return records


def _tail(path: Path) -> list[dict[str, Any]]:
    """The whole lines of the last ``TAIL_BYTES`` of ``path`` (a symlink is not followed)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return []
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - TAIL_BYTES))
        data = handle.read(TAIL_BYTES)
    lines = data.split(b"\n")
    if size > TAIL_BYTES:
        lines = lines[1:]  # the first is cut
    return [r for r in (_record(line) for line in lines if line.strip()) if r is not None]


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None  # a line being written, or not ours
    return value if isinstance(value, dict) else None


# -- a Kafka topic -------------------------------------------------------------------------------
def _from_kafka(path: str, limit: int, bounds: Bounds, timeout: float) -> list[dict[str, Any]]:
    brokers, topic = parse_kafka_url(path)
    if bounds.brokers is not None and not {b.lower() for b in brokers} <= bounds.brokers:
        raise NotReadable(
            f"the tracking topic's brokers {', '.join(brokers)} are not ones the service reads",
            field="log_stream",
            hint=f"list them in {BROKERS_ENV} where the service runs",
        )
    kafka = kafka_module()
    known = getattr(kafka.KafkaConsumer, "DEFAULT_CONFIG", {})
    wait = next((k for k in ("bootstrap_timeout_ms", "api_version_auto_timeout_ms") if k in known),
                "")  # fmt: skip  # its name in this client's version: how long to find a broker
    try:
        consumer = kafka.KafkaConsumer(  # no group: it reads, commits nothing, joins nothing
            bootstrap_servers=brokers,
            group_id=None,
            enable_auto_commit=False,
            **({wait: int(timeout * 1000)} if wait else {}),
        )
    except Exception as exc:
        raise NotReadable(f"Kafka at {', '.join(brokers)} does not answer: {exc}",
                          field="log_stream") from exc  # fmt: skip
    try:
        return _last_messages(consumer, kafka, topic, limit, timeout)
    finally:
        consumer.close()


def _last_messages(
    consumer: Any, kafka: Any, topic: str, limit: int, timeout: float
) -> list[dict[str, Any]]:
    parts = consumer.partitions_for_topic(topic) or set()
    assigned = [kafka.TopicPartition(topic, p) for p in sorted(parts)]
    if not assigned:
        return []
    consumer.assign(assigned)
    ends = consumer.end_offsets(assigned)
    starts = consumer.beginning_offsets(assigned)
    for tp in assigned:
        consumer.seek(tp, max(starts[tp], ends[tp] - limit))
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in assigned):
        for messages in consumer.poll(timeout_ms=200).values():
            for message in messages:
                value = _record(message.value or b"")
                if value is None:
                    continue
                batch = value.get("records")  # set_tracking(batch=N): N records a message
                records.extend(batch if isinstance(batch, list) else [value])
    return records
