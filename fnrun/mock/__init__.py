"""The mock server: a serving graph in-process (``fn.to_mock_server()``, ``server.test``),
with MockEvent/MockContext on nuclio-sdk's types and in-memory streams for queue steps.

May import: graph and the layers below it (never runtimes/: the function hands the mock its
graph server).
"""

from typing import Any

from fnrun.graph.sinks import read_memory


def read_stream(path: str) -> list[dict[str, Any]]:
    """The tracking records a ``memory://name`` stream holds in this process (a mock's
    ``set_tracking("memory://name")``)."""
    if not path.startswith("memory://"):
        raise ValueError(f"read_stream reads memory:// streams, not {path!r}")
    return read_memory(path)


__all__ = ["read_stream"]
