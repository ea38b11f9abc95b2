"""Start a run's child process from an interpreter that has already imported fnrun.

A fresh ``python -m fnrun exec --from-env`` spends ~0.3 s importing fnrun, SQLAlchemy and the
kinds before the run's first line. The fork server is one helper process per caller,
``python -m fnrun exec --fork-server``, started on the first child-process run (it imports
while that first request waits) that imports all that once, builds the model classes' field
tables, moves what it holds out of the garbage collector's reach (``gc.freeze``: a child's
collections and exit never walk it, nor copy its pages) and then forks one process per run.
Each forked process takes, before any run code: the run's whole environment (the
variables a fresh child would get, nothing of the server's), the caller's working directory
(also ``sys.path[0]``), the caller's stdin and the run's output pipe or file as fds 0, 1 and 2,
a session of its own when the run must outlive its caller, its CPU binding, the caller's
SIGINT disposition and fresh random state; then it runs the same entry and exits as that
interpreter would (threads joined, ``atexit`` run, ``SystemExit`` codes, a signal's death).

It is not a fork of the caller: the server is single-threaded and holds no DB connection,
file or lock of the caller's, so it forks safely from a caller with threads (a notebook, the
service). Requests travel over a private socket pair (no path anyone else can connect to);
the server reports each child's pid and, once it reaps it, its exit status. When the caller
goes away the server stops taking requests and exits once its last child has; a child that
outlives its caller carries on.

A run gets a fresh interpreter instead (``exec``, as before) when ``FNRUN_FORK_SERVER=0``, on a
platform without ``fork``, when a launcher (``mpirun``) starts it, or while the server cannot
serve. Variables read only as an interpreter starts (``PYTHON*``, ``LD_*``, ``MALLOC_*``, the
locale) and the site-packages folders are the server's key: a run whose key differs from the
running server's gets a new server (the old one ends after its children). Known difference
from a fresh interpreter: forked runs share the server's string hash seed
(``PYTHONHASHSEED``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import random
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

from fnrun.config import reset_settings
from fnrun.db.monitor import process_alive
from fnrun.model.schema import warm_fields

SERVE_ARGV = ("exec", "--fork-server")
_HEADER = struct.Struct("!I")
_STARTUP_PREFIXES = ("PYTHON", "LD_", "MALLOC_", "LC_")
_STARTUP_NAMES = ("LANG", "LANGUAGE")
# what a forked run would import anyway (what a fresh child imports before the run's code)
PRELOAD = (
    "fnrun.runtimes.functions.entry",
    "fnrun.runtimes.functions.kinds",
    "fnrun.db.sql.sqldb",
    "fnrun.db.http",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlite3",
)


def available() -> bool:
    """Whether this platform forks (Linux; ``fork`` is unsafe on macOS, absent on Windows)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def _startup(name: str) -> bool:
    return name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES


def startup_key(env: Mapping[str, str]) -> str:
    """What a server must share with a run's fresh interpreter to stand in for it."""
    startup = sorted((k, v) for k, v in env.items() if _startup(k))
    sites = []
    for folder in sys.path:
        if folder.endswith("-packages"):
            with contextlib.suppress(OSError):
                sites.append((folder, os.stat(folder).st_mtime_ns))  # a new .pth, a new package
    return json.dumps([sys.executable, startup, sites])


class ForkedChild:
    """A run's process started by the fork server, seen through the parts of
    :class:`subprocess.Popen` the caller uses (``pid``, ``stdout``, ``poll``, ``wait``)."""

    def __init__(self, status: socket.socket, stdout: IO[str] | None) -> None:
        self._status, self.stdout = status, stdout
        self._buffer = b""
        self._lock = threading.Lock()
        self.returncode: int | None = None
        self.status_lost = False  # its server ended first: ``returncode`` 0 says nothing
        reply = self._line(None)
        if reply is None or not reply.startswith("pid "):
            status.close()
            raise OSError(f"the fork server did not start the run: {reply or 'it exited'}")
        self.pid = int(reply.split()[1])

    def _line(self, timeout: float | None) -> str | None:
        """The server's next line ('' once it is gone), or None when ``timeout`` passes."""
        while b"\n" not in self._buffer:
            self._status.settimeout(timeout)
            try:
                chunk = self._status.recv(4096)
            except (TimeoutError, BlockingIOError):
                return None
            if not chunk:
                return ""
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def poll(self) -> int | None:
        return self._finish(0)

    def wait(self, timeout: float | None = None) -> int:
        """The exit status, as :meth:`subprocess.Popen.wait` (``TimeoutExpired`` too)."""
        code = self._finish(timeout)
        if code is None:
            raise subprocess.TimeoutExpired("fnrun exec", timeout or 0)
        return code

    def _finish(self, timeout: float | None) -> int | None:
        with self._lock:
            if self.returncode is None:
                line = self._line(timeout)
                if line == "":  # the server is gone: the child's status went with it
                    self.returncode = _wait_gone(self.pid, timeout)
                    self.status_lost = self.returncode is not None
                elif line and line.startswith("exit "):
                    self.returncode = int(line.split()[1])
                if self.returncode is not None:
                    self._status.close()
            return self.returncode


def _open_fd(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _wait_gone(pid: int, timeout: float | None) -> int | None:
    """Wait for a child whose server died (its status went with it): 0 once it is gone,
    None if it still runs after ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while process_alive(pid):
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
    return 0


class _Server:
    """The caller's side of one fork server process."""

    def __init__(self, key: str, env: Mapping[str, str]) -> None:
        self.key = key
        ours, theirs = socket.socketpair()
        fd = theirs.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fnrun", *SERVE_ARGV, str(fd)],
            env={**env, "PYTHONUNBUFFERED": "1"},
            # none of the caller's streams: a caller's reader waits for their end, not ours
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(fd,),
        )
        theirs.close()
        self.control = ours
        self.lock = threading.Lock()

    def spawn(
        self, env: Mapping[str, str], stdout_fd: int, session: bool, cpus: list[int] | None
    ) -> socket.socket:
        """Ask for one run process; the socket its pid and exit status come on."""
        mine, child_end = socket.socketpair()
        stdin_fd = -1 if session or not _open_fd(0) else 0  # a closed stdin: /dev/null
        request = json.dumps({"env": dict(env), "cwd": os.getcwd(), "session": session,
                              "cpus": cpus}).encode()  # fmt: skip
        fds = [child_end.fileno(), stdout_fd] + ([stdin_fd] if stdin_fd >= 0 else [])
        try:
            with self.lock:
                socket.send_fds(self.control, [_HEADER.pack(len(request))], fds)
                self.control.sendall(request)
        except OSError:
            mine.close()
            raise
        finally:
            child_end.close()
        return mine

    def close(self) -> None:
        """Stop taking requests; the server exits once its children have."""
        with contextlib.suppress(OSError):
            self.control.close()


_servers_lock = threading.Lock()
_server: _Server | None = None


def _forget_server() -> None:
    """In a fork of the caller: the server belongs to the parent (its socket is shared)."""
    global _server, _servers_lock
    _servers_lock = threading.Lock()
    if _server is not None:
        with contextlib.suppress(OSError):
            _server.control.close()  # this process's copy; the parent's stays open
        _server = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_server)


def start(
    env: Mapping[str, str],
    output: IO[bytes] | None = None,
    session: bool = False,
    cpus: list[int] | None = None,
) -> ForkedChild:
    """Start ``python -m fnrun exec --from-env`` with ``env`` from the fork server: its output
    (stdout and stderr) into ``output`` (a file), else into a pipe read as ``child.stdout``
    (text). Raises :class:`OSError` when the server cannot start it (start a fresh one)."""
    global _server
    key = startup_key(env)
    with _servers_lock:
        if _server is not None and (_server.key != key or _server.proc.poll() is not None):
            _server.close()
            _server = None
        if _server is None:
            # the caller's environment with the run's startup variables; no run's config,
            # secrets or token (each child gets its own whole environment)
            server_env = {k: v for k, v in os.environ.items() if not _startup(k)}
            server_env.update((k, v) for k, v in env.items() if _startup(k))
            for name in [k for k in server_env if k.startswith("FNRUN_EXEC_")] + ["FNRUN_TOKEN"]:
                server_env.pop(name, None)
            _server = _Server(key, server_env)
        server = _server
    if output is not None:
        return ForkedChild(server.spawn(env, output.fileno(), session, cpus), None)
    read, write = os.pipe()
    try:
        status = server.spawn(env, write, session, cpus)
    except OSError:
        os.close(read)
        raise
    finally:
        os.close(write)
    return ForkedChild(status, open(read))


# ---- the server's side: ``python -m fnrun exec --fork-server FD``


def serve(argv: list[str], preload: Iterable[str] = PRELOAD) -> bool:
    """The server's loop, in the server process: False when it ends; True in each forked
    run process, which then has its run's environment and fds (run the entry next)."""
    control = socket.socket(fileno=int(argv[-1]))
    for name in preload:
        with contextlib.suppress(ImportError):  # an extra not installed: imported by need
            importlib.import_module(name)
    warm_fields()  # the model classes' field tables, built once here, not in every child
    gc.freeze()  # what it imported is never collected: the children's GC skips it
    sigint = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the caller's runs, not us
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector (set_wakeup_fd)
    signal.set_wakeup_fd(wake_w)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    taking = True
    while taking or children:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is not control:
                with contextlib.suppress(OSError):
                    while os.read(wake_r, 512):
                        pass
                continue
            received = _receive(control)
            if received is None:  # the caller closed its end (or died)
                selector.unregister(control)
                taking = False
                continue
            request, fds = received
            status = socket.socket(fileno=fds[0])
            try:
                if threading.active_count() > 1:  # never fork a threaded process
                    raise OSError("the fork server has threads")
                pid = os.fork()
            except OSError as exc:  # out of processes or memory: the caller starts one
                _send(status, f"error {exc}")
                status.close()
                _close(fds[1:])
                continue
            if pid == 0:
                selector.close()
                _close([wake_r, wake_w, control.detach(), status.detach()])
                _close(s.detach() for s in children.values())
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGINT, sigint)
                _become(request, fds[1:])
                return True
            children[pid] = status
            _close(fds[1:])
            _send(status, f"pid {pid}")
        _reap(children)
    return False


def _receive(control: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """The next request and its fds (status socket, output, stdin), or None at the end."""
    try:
        header, fds, _flags, _addr = socket.recv_fds(control, _HEADER.size, 3)
    except OSError:
        return None
    body = b""
    if len(header) == _HEADER.size:
        (size,) = _HEADER.unpack(header)
        while len(body) < size:
            chunk = control.recv(size - len(body))
            if not chunk:
                break
            body += chunk
        if len(body) == size and len(fds) >= 2:
            return json.loads(body), list(fds)
    _close(fds)  # the caller went away mid-request (or sent what it never sends)
    return None


def _send(status: socket.socket, line: str) -> None:
    with contextlib.suppress(OSError):  # the caller is gone: nobody to tell
        status.sendall(line.encode() + b"\n")


def _close(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        status = children.pop(pid, None)
        if status is not None:
            _send(status, f"exit {os.waitstatus_to_exitcode(raw)}")
            status.close()


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """Turn this forked process into the run's: session, fds, directory, environment."""
    if request.get("session"):
        os.setsid()
    output = fds[0]
    stdin = fds[1] if len(fds) > 1 else os.open(os.devnull, os.O_RDONLY)  # the caller's, if sent
    os.dup2(stdin, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    _close({stdin, output} - {0, 1, 2})
    if request.get("cpus"):
        with contextlib.suppress(OSError, ValueError):
            os.sched_setaffinity(0, request["cpus"])
    cwd = request["cwd"]
    os.chdir(cwd)
    if sys.path:
        sys.path[0] = cwd  # ``python -m``: the directory it started in
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    reset_settings()  # read from this run's environment on first use
    random.seed()  # not the server's sequence, shared by every sibling
    importlib.invalidate_caches()
    sys.argv = [sys.argv[0], "exec", "--from-env"]
