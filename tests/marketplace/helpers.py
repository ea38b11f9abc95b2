"""For the hub tests: a real HTTP server over a directory (a published hub); running a
function in this process or in a child process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def run_hub(fn: Any, in_process: bool, **kwargs: Any) -> Any:
    """Run ``fn`` in this process (as ``fnrun run --here`` does) or in a child process."""
    from fnrun.runtimes.launch.launcher import run_function

    run = run_function(fn, in_process=True, **kwargs) if in_process else fn.run(**kwargs)
    assert run.state() == "completed", run.error
    return run
