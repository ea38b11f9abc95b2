"""The page shell of the web UI: head, top bar with breadcrumbs, and helpers for links and
small tables. Every value from the DB goes through :func:`esc`; links are built from quoted
path parts only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fnrun.notebook.html import esc

UI = "/ui"


def href(*parts: str, **query: Any) -> str:
    """``/ui/<quoted parts>[?query]`` (list values repeat their key)."""
    path = "/".join([UI, *(quote(str(p), safe="") for p in parts)])
    pairs = [(k, v) for k, val in query.items() for v in (val if isinstance(val, list) else [val])]
    pairs = [(k, v) for k, v in pairs if v not in ("", None)]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def link(text: Any, url: str, css: str = "") -> str:
    cls = f" class='{esc(css)}'" if css else ""
    return f"<a href='{esc(url)}'{cls}>{esc(text)}</a>"


def page(title: str, crumbs: list[tuple[str, str]], body: str, heading: bool = True) -> str:
    """A whole page; ``crumbs``: (text, url) from the top, the last one the current page;
    ``heading``: the title as the page's first line (off where the body has its own)."""
    trail = " <span class='sep'>/</span> ".join(
        link(text, url) if url else f"<span>{esc(text)}</span>" for text, url in crumbs
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)} · fnrun</title>"
        f"<link rel='stylesheet' href='{UI}/static/ui.css'>"
        f"<script defer src='{UI}/static/ui.js'></script></head><body>"
        f"<header><a class='brand' href='{UI}'>fnrun</a><nav>{trail}</nav>"
        f"<a class='hub' href='{UI}/hub'>hub</a></header>"
        f"<main>{f'<h1>{esc(title)}</h1>' if heading else ''}{body}</main></body></html>"
    )


def state_badge(state: str) -> str:
    """A run's or a function's state as a coloured badge (a deployed function's ``ready``
    shows as a success)."""
    css = {"ready": "completed", "pending": "created"}.get(state, state)
    known = ("completed", "error", "running", "created", "aborted")
    return (
        f"<span class='badge {css if css in known else 'created'}'>{esc(state or 'unknown')}</span>"
    )


def compact(values: dict[str, Any], limit: int = 60) -> str:
    """``a=1, b=x`` cut to ``limit`` characters (the full text in the cell's title)."""
    text = ", ".join(f"{k}={_short(v)}" for k, v in values.items())
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"<span title='{esc(text)}'>{esc(shown)}</span>"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def grid(
    header: list[str], rows: list[list[str]], css: str = "grid", html_header: bool = False
) -> str:
    """A table whose cells are already HTML (each built with :func:`esc`), in a scroller;
    the header is text (escaped here) unless ``html_header``."""
    head = "".join(
        f"<th data-sort='{i}'>{h if html_header else esc(h)}</th>" for i, h in enumerate(header)
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(header) else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f"<tr><td colspan='{len(header)}' class='empty'>nothing here yet</td></tr>"
    return (
        f"<div class='scroll'><table class='{esc(css)}'>{thead}<tbody>{body}</tbody></table></div>"
    )
