"""The HTML card of a run: state badge, params, results, artifacts with inline previews
(tables, charts, images, dataset stats with histograms, model metrics), the iterations table
with the best one marked, and the error with its traceback folded."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.notebook.html import card, esc, kv_table, section, table

if TYPE_CHECKING:
    from fnrun.execution.runobject import RunObject

MAX_IMAGE = 2 * 1024 * 1024  # bigger pictures are linked, not inlined
PREVIEW_ROWS = 10


Link = Callable[[str, str], str]  # (artifact key, target path) -> the href to its body


def run_card(run: RunObject, link: Link | None = None) -> str:
    """The card; ``link`` makes the artifacts' links (default: their storage URLs; the web UI
    gives its download route, and then HTML artifacts are drawn in a sandboxed frame)."""
    meta, spec, status = run.metadata, run.spec, run.status
    sub = " · ".join(
        esc(x)
        for x in (
            f"uid {meta.get('uid', '')}",
            f"project {meta.get('project', '')}",
            f"started {str(status.get('start_time', ''))[:19].replace('T', ' ')}",
        )
    )
    parts = [
        section("parameters", kv_table(dict(spec.get("parameters", {})))),
        section("results", kv_table(dict(status.get("results", {})))),
        section("labels", kv_table(dict(meta.get("labels", {})))),
        _iterations(status.get("iterations") or [], int(status.get("best_iteration") or 0)),
        _artifacts(run, link),
        _error(run),
    ]
    title = f"run {meta.get('name', '')}"
    return card(title, str(status.get("state", "")), sub, "".join(parts))


def _iterations(rows: list[list[Any]], best: int) -> str:
    if not rows:
        return ""
    header, *body = rows
    marks = {i for i, row in enumerate(body) if row and row[0] == best}
    return section(
        f"iterations (best: {best})" if best else "iterations", table(header, body, marks)
    )


def _error(run: RunObject) -> str:
    message = run.error
    if not message:
        return ""
    log = run.logs()[-6000:] if run.state() == "error" else ""
    trace = f"<pre>{esc(log)}</pre>" if log else ""
    return f"<details class='run-error'><summary>error: {esc(message)}</summary>{trace}</details>"


def _artifacts(run: RunObject, link: Link | None = None) -> str:
    uris = dict(run.status.get("artifact_uris", {}))
    if not uris:
        return ""
    blocks = []
    for key, uri in uris.items():
        try:
            item = run.artifact(key)
            doc = dict(item.meta or {})
            preview = _preview(doc, item, link(key, "inline") if link else "")
        except Exception as exc:  # a preview never breaks the card
            doc, preview = {}, f"<pre>preview unavailable: {esc(exc)}</pre>"
        kind = doc.get("kind", "artifact")
        target = str(doc.get("spec", {}).get("target_path", ""))
        name = target.rstrip("/").rsplit("/", 1)[-1]
        href = (link(key, target) if link else _href(target)) if target else ""
        anchor = (
            f" <a href='{esc(href)}' title='{esc(target)}'>{esc(name)}</a>"
            if href
            else (f" {esc(name)}" if target else "")
        )
        blocks.append(
            f"<details open class='artifact' data-key='{esc(key)}'><summary>{esc(key)} "
            f"<small>({esc(kind)})</small></summary>"
            f"<div class='uri'>{esc(uri)}{anchor}</div>{preview}</details>"
        )
    return section("artifacts", "".join(blocks))


_LINKABLE = ("file", "http", "https", "s3", "gs", "az", "abfs")


def _href(target: str) -> str:
    """A link for a target path; schemes other than storage ones (``javascript:``...) get
    none (an artifact record is data, never markup or script)."""
    scheme, sep, _ = target.partition("://")
    if not sep:
        return f"file://{target}"
    return target if scheme.lower() in _LINKABLE else ""


def _preview(doc: dict[str, Any], item: Any, inline: str = "") -> str:
    kind, spec = doc.get("kind", ""), dict(doc.get("spec", {}))
    if kind == "dataset":
        return _dataset(spec, dict(doc.get("status", {})))
    if kind == "chart":
        from fnrun.artifacts.tabular import svg_lines

        return svg_lines(list(spec.get("header", [])), list(spec.get("rows", [])))
    if kind == "model":
        files = kv_table({"model file": spec.get("model_file", "")})
        return files + section("metrics", kv_table(dict(spec.get("metrics", {}))))
    if inline and str(spec.get("format", "")) in ("html", "htm"):
        # drawn by the browser in a frame with no scripts, forms or same-origin rights
        return f"<iframe class='html-preview' sandbox src='{esc(inline)}'></iframe>"
    if kind == "plot" or str(spec.get("format", "")) in ("png", "jpg", "jpeg", "gif", "svg"):
        return _image(spec, item)
    if kind == "table" or spec.get("format") == "csv":
        return _csv(item, spec)
    text = spec.get("body")
    return f"<pre>{esc(str(text)[:2000])}</pre>" if text else ""


def _dataset(spec: dict[str, Any], status: dict[str, Any]) -> str:
    header, rows = list(spec.get("header", [])), list(spec.get("preview", []))
    out = f"<div>{esc(spec.get('length', '?'))} rows</div>"
    out += table(header, rows[:PREVIEW_ROWS]) if header else ""
    stats = dict(status.get("stats", {}))
    if stats:
        names = ["count", "mean", "std", "min", "max"]
        lines = [
            [col, *(_num(s.get(n, "")) for n in names), _hist(s.get("hist"))]
            for col, s in stats.items()
        ]
        out += section("stats", _raw_table(["column", *names, "histogram"], lines))
    return out


def _raw_table(header: list[str], rows: list[list[str]]) -> str:
    """A table whose last column is our own SVG (the other cells are escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row[:-1]) + f"<td>{row[-1]}</td></tr>"
        for row in rows
    )
    return f"<table class='stats'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _hist(hist: Any) -> str:
    if not isinstance(hist, list) or not hist or not isinstance(hist[0], list):
        return ""
    counts = [float(c) for c in hist[0]]
    top = max(counts) or 1.0
    width = 4
    bars = "".join(
        f"<rect x='{i * width}' y='{30 - 30 * c / top:.1f}' width='{width - 1}' "
        f"height='{30 * c / top:.1f}' fill='#0969da'/>"
        for i, c in enumerate(counts)
    )
    return f"<svg class='hist' width='{len(counts) * width}' height='30'>{bars}</svg>"


def _image(spec: dict[str, Any], item: Any) -> str:
    size = int(spec.get("size") or 0)
    if size > MAX_IMAGE:
        return f"<div>picture of {size} bytes: open it from the link</div>"
    data = item.get()
    fmt = str(spec.get("format") or "png").replace("jpg", "jpeg")
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    encoded = base64.b64encode(data).decode()
    return f"<img alt='{esc(spec.get('target_path', ''))}' src='data:{mime};base64,{encoded}'/>"


def _csv(item: Any, spec: dict[str, Any]) -> str:
    data = item.get(size=64 * 1024)
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    rows = list(csv.reader(io.StringIO(text)))[: PREVIEW_ROWS + 1]
    if not rows:
        return ""
    return table(rows[0], rows[1:])
