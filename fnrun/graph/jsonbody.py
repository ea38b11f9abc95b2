"""JSON request bodies: any encoding RFC 8259 allows, with a bound on nesting depth.

``json.loads`` on bytes detects UTF-8, UTF-16 and UTF-32 (with or without a BOM). A deeply
nested document (``[[[[...]]]]``) is refused with a 400 before any step sees it: Python's
own recursion limit would otherwise turn it into a 500 somewhere later (a copy, an encode).
"""

from __future__ import annotations

import json
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.model.depth import nests_deeper

MAX_DEPTH = 100


class BadJSON(InvalidArgumentError):
    """The body is not JSON (a client error: 400)."""


class TooDeep(InvalidArgumentError):
    """The body nests deeper than the server allows (400)."""


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``raw``; :class:`BadJSON` or :class:`TooDeep` for bad input."""
    try:
        if type(raw) is bytes and raw[:1] in (b"{", b"[") and raw[1:2] != b"\x00":
            value = json.loads(raw.decode())  # UTF-8, the common case: no encoding sniffing
        else:
            value = json.loads(raw)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f" ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else " (not UTF-8, UTF-16 or UTF-32 text)"
        )
        raise BadJSON(
            f"the request body is not valid JSON{where}", field="body", hint="send a JSON document"
        ) from None
    if len(raw) > max_depth:  # a shorter text cannot nest deeper
        check_depth(raw, value, max_depth)
    return value


def check_depth(raw: bytes | str, value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` when ``value`` nests deeper than ``max_depth``."""
    if nests_deeper(raw, value, max_depth):
        raise _too_deep(max_depth)


def _too_deep(max_depth: int) -> TooDeep:
    return TooDeep(
        f"the request body nests deeper than {max_depth} levels",
        field="body",
        hint="flatten the document (the limit is FNRUN_SERVE_MAX_DEPTH)",
    )
