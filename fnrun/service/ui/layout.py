"""The web UI's rendering: its templates (``templates/``, in front of the cards' own) and
links built from quoted path parts only. Every value from the DB reaches a page as a
template value, escaped there (:mod:`fnrun.notebook.templating`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fnrun.notebook.templating import render

UI = "/ui"
TEMPLATES = str(Path(__file__).resolve().parent / "templates")


def href(*parts: str, **query: Any) -> str:
    """``/ui/<quoted parts>[?query]`` (list values repeat their key)."""
    path = "/".join([UI, *(quote(str(p), safe="") for p in parts)])
    pairs = [(k, v) for k, val in query.items() for v in (val if isinstance(val, list) else [val])]
    pairs = [(k, v) for k, v in pairs if v not in ("", None)]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def page(template: str, title: str, crumbs: list[tuple[str, str]], /, **values: Any) -> str:
    """``template`` as a whole page; ``crumbs``: (text, url) from the top, the last one
    the current page."""
    return render(template, TEMPLATES, ui=UI, title=title, crumbs=crumbs, **values)
