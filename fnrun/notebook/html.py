"""Small HTML building blocks shared by the cards: escaped text, tables, badges, styles.

Everything that comes from a run (names, values, artifact text) is escaped; the only markup
is ours.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

STYLE = """<style>
.fnrun-card{font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;
 border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;max-width:980px;color:#1f2328;
 background:#fff}
.fnrun-card h3{margin:0 0 8px 0;font-size:16px}
.fnrun-card .sub{color:#57606a;font-size:12px;margin-bottom:10px}
.fnrun-card table{border-collapse:collapse;margin:4px 0 10px 0;font-size:12px}
.fnrun-card th,.fnrun-card td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
 vertical-align:top}
.fnrun-card th{background:#f6f8fa}
.fnrun-card .kv th{width:120px}
.fnrun-card tr.best td{background:#dafbe1;font-weight:600}
.fnrun-card .badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;
 color:#fff;margin-left:6px}
.fnrun-card .completed{background:#1a7f37}.fnrun-card .error{background:#cf222e}
.fnrun-card .running{background:#bf8700}.fnrun-card .created{background:#6e7781}
.fnrun-card .aborted{background:#8250df}
.fnrun-card details{margin:4px 0 8px 0}.fnrun-card summary{cursor:pointer;font-weight:600}
.fnrun-card pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px;font-size:12px}
.fnrun-card img{max-width:100%;border:1px solid #d0d7de}
.fnrun-card .section{font-weight:600;margin-top:8px}
.fnrun-card svg{max-width:100%;height:auto}
.fnrun-card .uri{color:#57606a;font-size:12px;margin:2px 0 4px 0;word-break:break-all}
</style>"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def badge(state: str) -> str:
    known = state if state in ("completed", "error", "running", "created", "aborted") else "created"
    return f"<span class='badge {known}'>{esc(state or 'unknown')}</span>"


def kv_table(values: dict[str, Any], css: str = "kv") -> str:
    if not values:
        return ""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in values.items())
    return f"<table class='{css}'>{rows}</table>"


def table(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], marks: set[int] | None = None
) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        f"<tr{' class=best' if marks and i in marks else ''}>"
        + "".join(f"<td>{esc(v)}</td>" for v in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, body: str) -> str:
    return f"<div class='section'>{esc(title)}</div>{body}" if body else ""


def card(title: str, state: str, sub: str, body: str) -> str:
    head = f"<h3>{esc(title)}{badge(state) if state else ''}</h3>"
    return f"{STYLE}<div class='fnrun-card'>{head}<div class='sub'>{sub}</div>{body}</div>"
