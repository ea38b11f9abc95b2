"""Where tracking records go (``fn.set_tracking(stream_path)``), by the path's form:

- ``kafka://host:port/topic``: the server's stream pusher (Kafka when served; in memory in
  the mock, read with ``server.streams.read(path)``), ``batch`` records per message;
- ``memory://name``: a list in this process (the mock's; ``fnrun.mock.read_stream(path)``);
- ``file:///folder`` or a plain folder path: JSON lines, one file per process
  (``<function>-<host>-<pid>.jsonl``), written by a background thread at least every second
  and at close.

A record is encoded when it is written (so later changes to the objects it names cannot
change it); a sink that fails never fails the request: the record is counted as lost.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fnrun.errors import InvalidArgumentError

try:  # the fast encoder when it is there; the same JSON either way
    import orjson

    def encode(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record, default=str, option=orjson.OPT_SERIALIZE_NUMPY)

except ImportError:  # pragma: no cover - orjson comes with the serve extra

    def encode(record: dict[str, Any]) -> bytes:
        return json.dumps(record, default=str).encode()


_MEMORY: dict[str, list[dict[str, Any]]] = {}
_MEMORY_LOCK = threading.Lock()
FLUSH_EVERY = 1.0  # seconds


def frozen(value: Any) -> Any:
    """``value`` as its JSON would bring it back: later changes to ``value`` do not reach it."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return json.loads(encode(value))
    except Exception:
        return str(value)


def read_memory(path: str) -> list[dict[str, Any]]:
    """The records a ``memory://name`` sink holds in this process."""
    name = path.removeprefix("memory://")
    with _MEMORY_LOCK:
        return [json.loads(encode(r)) for r in _MEMORY.get(name, [])]


class Sink:
    """Counts what it wrote and what it lost; ``write`` never raises."""

    def __init__(self) -> None:
        self.written = 0
        self.lost = 0

    def write(self, record: dict[str, Any]) -> None:
        try:
            self._write(record)
            self.written += 1
        except Exception:
            self.lost += 1

    def _write(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.flush()


class MemorySink(Sink):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def _write(self, record: dict[str, Any]) -> None:
        snapshot = frozen(record)  # as a stream would keep it
        with _MEMORY_LOCK:
            _MEMORY.setdefault(self.name, []).append(snapshot)


class PushSink(Sink):
    """Through the server's stream pusher (Kafka): one record per message, or ``batch``."""

    def __init__(self, path: str, push: Callable[[str, Any], None], batch: int = 1) -> None:
        super().__init__()
        self.path, self.push, self.batch = path, push, batch
        self._held: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        try:
            snapshot = json.loads(encode(record))
        except Exception:  # a record that cannot be encoded is lost, and counted
            self.lost += 1
            return
        if self.batch <= 1:
            self._send([snapshot], single=True)
            return
        with self._lock:
            self._held.append(snapshot)
            if len(self._held) < self.batch:
                return
            held, self._held = self._held, []
        self._send(held)

    def _send(self, records: list[dict[str, Any]], single: bool = False) -> None:
        try:
            self.push(self.path, records[0] if single else {"records": records})
            self.written += len(records)
        except Exception:
            self.lost += len(records)

    def flush(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        if held:
            self._send(held)


class FileSink(Sink):
    """JSON lines in ``folder``, one file per process, through a 1 MiB buffer that a thread
    writes out every second (a record costs a buffer copy; no object is kept per record)."""

    def __init__(self, folder: Path, function: str) -> None:
        super().__init__()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{function or 'fnrun'}-{socket.gethostname()}-{os.getpid()}.jsonl"
        self.path = folder / name
        self._out: Any = None  # opened at the first record
        self._pending = 0  # records in the buffer, not yet written out
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fnrun-tracking", daemon=True)
        self._thread.start()

    def write(self, record: dict[str, Any]) -> None:
        try:
            line = encode(record) + b"\n"
            out = self._out
            if out is None:
                with self._lock:
                    out = self._out = self._out or open(self.path, "ab", buffering=1 << 20)  # noqa: SIM115
            out.write(line)  # buffered (the buffer has its own lock)
        except Exception:
            self.lost += 1
            return
        self._pending += 1
        self.written += 1

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_EVERY):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            out, pending = self._out, self._pending
            if out is None or not pending:
                return
            self._pending = 0
            try:
                out.flush()
            except (OSError, ValueError):
                self.written -= pending
                self.lost += pending

    def close(self) -> None:
        self._stop.set()
        self.flush()
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None


def open_sink(
    path: str, push: Callable[[str, Any], None] | None, function: str = "", batch: int = 1
) -> Sink:
    """The sink of tracking path ``path`` (``push``: the server's stream pusher)."""
    if path.startswith("memory://"):
        return MemorySink(path.removeprefix("memory://"))
    if path.startswith("file://"):
        return FileSink(Path(path.removeprefix("file://")), function)
    if "://" in path and not path.startswith("kafka://"):
        raise InvalidArgumentError(
            f"tracking stream {path!r}: not a kind of stream fnrun writes",
            field="log_stream",
            hint="kafka://host:port/topic, file:///folder (or a folder path), memory://name",
        )
    if path.startswith("kafka://"):
        if push is None:
            raise InvalidArgumentError(
                f"tracking stream {path!r} has no stream to push to",
                field="log_stream",
                hint="serve through to_mock_server() or fnrun serve/deploy",
            )
        return PushSink(path, push, batch)
    return FileSink(Path(path).expanduser(), function)
