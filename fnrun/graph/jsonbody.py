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
FORM = "application/x-www-form-urlencoded"  # curl -d's default content type


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


def decode_body(body: Any, content_type: str | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Decode JSON bodies: any JSON when the content type says so (matched case-insensitively;
    UTF-8, -16 or -32); without a content type or with a form's (curl ``-d``'s default),
    text that parses as an object, array or string — text that opens an object and does not
    parse is a 400 naming the content type seen. A JSON string that holds JSON is decoded
    again (MLRun clients send that). Other content types are left as they are. Nesting is
    bounded (:mod:`fnrun.graph.jsonbody`)."""
    ctype = content_type.lower() if isinstance(content_type, str) else ""
    is_json = "json" in ctype
    if is_json and type(body) is bytes:
        value = loads(body, max_depth)
        return value if type(value) is not str else _again(value, content_type, max_depth)
    guess = not ctype or ctype.startswith(FORM)  # curl -d sends JSON as a form
    if isinstance(body, bytes | bytearray):
        if not guess and not is_json:
            return bytes(body)
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return bytes(body)
    if not isinstance(body, str) or not (guess or is_json):
        return body
    text = body.strip()
    if is_json:
        return _again(loads(text, max_depth), content_type, max_depth)
    if text[:1] not in ("{", "[", '"'):
        return body  # a real form (a=1&b=2), or text
    try:
        value = loads(text, max_depth)
    except BadJSON as exc:
        if text[:1] != "{":
            return body  # text that only looks like JSON ("[INFO] ...")
        seen = f"content type {content_type!r}" if ctype else "no content type"
        raise BadJSON(
            f"{exc.message}; it was sent with {seen}",
            field="body",
            hint="send valid JSON with Content-Type: application/json "
            "(curl: -H 'Content-Type: application/json' or --json)",
        ) from None
    return _again(value, content_type, max_depth)


def _again(value: Any, content_type: str | None, max_depth: int) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        return decode_body(value, content_type, max_depth)
    return value
