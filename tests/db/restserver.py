"""The fnrun service over a real SQL DB, on a real uvicorn server in a thread, for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import free_port


@contextmanager
def running_service(db: Any, token: str = "") -> Iterator[str]:
    """``http://127.0.0.1:<port>``: ``fnrun.service.rest`` over ``db`` until the block ends."""
    import uvicorn

    from fnrun.service.rest import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(db, token=token), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
