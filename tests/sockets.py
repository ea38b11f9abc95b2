"""Raw sockets for the tests of connections a server must close."""

from __future__ import annotations

import socket


def count_closed(socks: list[socket.socket], wait: float = 1.0) -> int:
    """How many of ``socks`` the server has closed (each read within ``wait``); closes all."""
    closed = 0
    for sock in socks:
        sock.settimeout(wait)
        try:
            closed += sock.recv(1024) == b""
        except TimeoutError:
            pass  # still open: the server kept it
        except OSError:
            closed += 1  # reset by the server
        sock.close()
    return closed
