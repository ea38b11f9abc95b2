"""How deeply a JSON document nests: a bound that keeps Python's recursion limit (a copy,
an encode, a validation) from ever turning a document into a 500 somewhere later."""

from __future__ import annotations

from typing import Any


def may_nest_deeper(raw: bytes | str, limit: int) -> bool:
    """Whether the text ``raw`` has more than ``limit`` opening brackets: only then can it
    nest deeper (a count at C speed; false for every ordinary document)."""
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{") > limit
    return raw.count("[") + raw.count("{") > limit


def nests_deeper(raw: bytes | str, value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed from ``raw``) nests deeper than ``limit``; the walk runs
    only when :func:`may_nest_deeper`."""
    if not may_nest_deeper(raw, limit) or not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False
