"""Plotly figures inside pages: the JSON block a plotly artifact's page carries first (so a
bounded read of the page finds it), read back for the cards and the web UI's chart pages."""

from __future__ import annotations

import json

MARK = b'<script type="application/json" id="fnrun-figure">'  # a constant: no value inside


def figure_json(body: bytes) -> str | None:
    """The figure JSON of a plotly artifact's page (None when the page has none: one from
    elsewhere, or cut before its end)."""
    start = body.find(MARK)
    if start < 0:
        return None
    start += len(MARK)
    end = body.find(b"</script>", start)
    if end < 0:
        return None
    text = body[start:end].decode("utf-8", "replace")
    try:
        json.loads(text)
    except ValueError:
        return None
    return text
