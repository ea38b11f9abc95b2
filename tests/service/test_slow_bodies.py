"""Bodies that never finish: a request that promises ``Content-Length: 100000`` and sends a
byte a second is answered 408 and its connection closed on time, on ``fnrun serve`` (a real
served function, its own process) and on ``fnrun service`` (its uvicorn configuration), while
good requests keep being answered and a slow but honest upload still goes through."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.service.http_protocol import RATE_GRACE

httpx = pytest.importorskip("httpx", reason="httpx (fnrun[serve]) not installed")
pytest.importorskip("uvicorn", reason="uvicorn (fnrun[serve]) not installed")
HEADER_TIMEOUT = 2.0  # also the longest a connection's timer sleeps


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    return socket.create_connection((host, int(port)), timeout=60)


def _head(path: str, length: int, method: str = "POST") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Fnrun-Client: test\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


class Trickle(threading.Thread):
    """Sends ``[`` then a byte a second of a 100,000-byte body until the server closes."""

    def __init__(self, url: str, path: str = "/", method: str = "POST") -> None:
        super().__init__(daemon=True)
        self.sock = _connect(url)
        self.sock.sendall(_head(path, 100_000, method) + b"[")
        self.started = time.monotonic()
        self.closed_after = -1.0
        self.answer = b""

    def run(self) -> None:
        self.sock.settimeout(1.0)
        while time.monotonic() - self.started < 60:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                try:
                    self.sock.sendall(b"1")
                except OSError:
                    break
                continue
            except OSError:
                break
            if not data:
                break
            self.answer += data
        self.closed_after = time.monotonic() - self.started
        self.sock.close()


def _numbers(size: int) -> bytes:
    return b"[" + b"1," * ((size - 3) // 2) + b"1]"


def _paced_upload(url: str, path: str, body: bytes, rate: int, method: str = "POST") -> bytes:
    """``body`` sent at ``rate`` bytes a second; the answer's head."""
    sock = _connect(url)
    sock.sendall(_head(path, len(body), method))
    chunk, start = rate // 10, time.monotonic()
    for i in range(0, len(body), chunk):
        try:
            sock.sendall(body[i : i + chunk])
        except OSError:  # the server gave up on us: its answer is waiting
            break
        time.sleep(max(0.0, start + (i + chunk) / rate - time.monotonic()))
    answer = sock.recv(4096)
    sock.close()
    return answer


def _trickles_die_while_good_requests_flow(
    url: str, path: str, good: Any, method: str = "POST"
) -> list[Trickle]:
    trickles = [Trickle(url, path, method) for _ in range(30)]
    for t in trickles:
        t.start()
    waits = []
    with httpx.Client(timeout=5.0) as client:
        while any(t.is_alive() for t in trickles):
            start = time.perf_counter()
            assert good(client) == 200
            waits.append(time.perf_counter() - start)
            time.sleep(0.05)
    for t in trickles:
        t.join()
    assert max(waits) < 1.0, max(waits)
    # judged after the grace, on the connection's next timer tick (at most HEADER_TIMEOUT)
    limit = RATE_GRACE + HEADER_TIMEOUT + 1.0
    assert all(0 < t.closed_after <= limit for t in trickles), [t.closed_after for t in trickles]
    assert all(t.answer.startswith(b"HTTP/1.1 408") for t in trickles)
    assert b"connection: close" in trickles[0].answer.lower()
    return trickles


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FNRUN_SERVE_HEADER_TIMEOUT", str(HEADER_TIMEOUT))
    code = tmp_path / "echo.py"
    code.write_text("def size(body):\n    return {'items': len(body)}\n")
    fn = fnrun.code_to_function("slowbody", filename=str(code), kind="serving", project="slow")
    fn.set_topology("flow").to(handler="size", name="size").respond()  # type: ignore[attr-defined]
    url = fn.deploy()  # type: ignore[attr-defined]
    try:
        yield url.rstrip("/")
    finally:
        fn.stop()  # type: ignore[attr-defined]


def test_serve_closes_trickled_bodies_and_takes_an_honest_slow_upload(served: str) -> None:
    honest: dict[str, bytes] = {}
    upload = threading.Thread(
        target=lambda: honest.update(
            answer=_paced_upload(served, "/", _numbers(5 * 1024 * 1024), 200 * 1024)
        )
    )
    upload.start()
    _trickles_die_while_good_requests_flow(
        served, "/", lambda c: c.post(served, json=[1]).status_code
    )
    upload.join(60)
    assert honest["answer"].startswith(b"HTTP/1.1 200"), honest["answer"][:200]


def test_the_service_has_the_same_guards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fnrun.db.sql.sqldb import SQLRunDB
    from fnrun.service.http_protocol import ServiceHttpProtocol
    from tests.db.restserver import running_service

    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}")
    monkeypatch.setattr(ServiceHttpProtocol, "header_timeout", HEADER_TIMEOUT)
    monkeypatch.setattr(ServiceHttpProtocol, "body_timeout", 6.0)
    monkeypatch.setattr(ServiceHttpProtocol, "min_body_rate", 1024.0)
    path = "/api/v1/projects/slow"
    with running_service(sql) as url:
        _trickles_die_while_good_requests_flow(
            url, path, lambda c: c.get(f"{url}/api/v1/healthz").status_code, "PUT"
        )
        # fast enough for the rate, too slow for the whole-body deadline (6 s)
        start = time.monotonic()
        answer = _paced_upload(url, path, _numbers(40_000), 4_000, "PUT")
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 6 + 1.5
        body = b'{"spec": {"description": "' + b"d" * 20_000 + b'"}}'
        ok = _paced_upload(url, "/api/v1/projects/fine", body, 10_000, "PUT")
        assert ok.startswith(b"HTTP/1.1 200"), ok[:300]
        assert sql.get_project("fine")["spec"]["description"] == "d" * 20_000
    sql.close()
