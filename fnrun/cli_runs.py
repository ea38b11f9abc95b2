"""How the CLI shows runs: the ``get runs`` table (readable at 80 columns) and the
``get run`` detail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from fnrun.db.monitor import UNFINISHED
from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import STATES

_AGO = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
EXTRA_COLUMNS = ("params", "results", "error", "labels", "attempts")


def since_time(text: str, now: datetime | None = None) -> str:
    """The ISO time ``text`` names: ``2h``/``3d``/``30m``/``45s`` ago, or an ISO date."""
    now = now or datetime.now(UTC)
    match = _AGO.match(text.strip())
    if match:
        ago = timedelta(**{_UNITS[match[2]]: int(match[1])})
        return (now - ago).isoformat()
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidArgumentError(
            f"--since {text!r} is not a time", field="since", hint="use 2h, 3d, 30m or 2026-12-01"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def run_rows(rows: list[dict[str, Any]], since: str, last: int) -> list[dict[str, Any]]:
    if since:
        start = since_time(since)
        rows = [r for r in rows if str(r.get("status", {}).get("start_time", "")) >= start]
    return rows[:last] if last else rows


# every state a run can be in: the context's and the unfinished ones the run monitor knows
RUN_STATES = tuple(dict.fromkeys((*UNFINISHED, *STATES)))


def check_state(state: str) -> None:
    """A ``--state`` that no run can have is an error naming the states (an empty table
    would say "no such runs", which is not what happened)."""
    if not state or state in RUN_STATES:
        return
    import difflib

    like = difflib.get_close_matches(state, RUN_STATES, n=1, cutoff=0.5)
    raise InvalidArgumentError(
        f"no run is ever in state {state!r}" + (f"; did you mean {like[0]!r}?" if like else ""),
        field="state",
        hint=f"one of {', '.join(RUN_STATES)}",
    )


def runs_table(rows: list[dict[str, Any]], extra: list[str], wide: bool = False) -> Table:
    unknown = [c for c in extra if c not in EXTRA_COLUMNS]
    if unknown:
        raise InvalidArgumentError(
            f"unknown --show columns {unknown}",
            field="show",
            hint=f"use {', '.join(EXTRA_COLUMNS)}",
        )
    table = Table("uid", "name", "state", "started", *extra, header_style="bold")
    table.columns[0].no_wrap = True
    for r in rows:
        meta, spec, status = r["metadata"], r.get("spec", {}), r.get("status", {})
        values = {
            "params": _kv(spec.get("parameters", {})),
            "results": _kv(status.get("results", {})),
            "error": str(status.get("error", "") or "")[:80],
            "labels": _kv(meta.get("labels", {})),
            "attempts": str(len(status.get("attempts") or []) or ""),
        }
        table.add_row(  # a run's own words are text, never markup
            escape(str(meta.get("uid", "")) if wide else str(meta.get("uid", ""))[:8]),
            f"{escape(str(meta.get('name', '')))}\n"
            f"[dim]{escape(str(meta.get('project', '')))}[/dim]",
            _state(str(status.get("state", ""))),
            escape(str(status.get("start_time", ""))[5:16].replace("T", " ")),
            *(escape(values[c]) for c in extra),
        )
    return table


def run_detail(run: dict[str, Any]) -> Group:
    """The run's fields, then its iterations table (the best one marked)."""
    meta, spec, status = run["metadata"], run.get("spec", {}), run.get("status", {})
    fields = Table(show_header=False, box=None)
    fields.add_column(style="bold")
    fields.add_column()
    rows = [
        ("run", f"{meta.get('name', '')} {meta.get('uid', '')}"),
        ("project", str(meta.get("project", ""))),
        (
            "state",
            _state(str(status.get("state", "")))
            + (f" ({escape(str(status['status_text']))})" if status.get("status_text") else ""),
        ),
        ("started", str(status.get("start_time", ""))),
        ("updated", str(status.get("last_update", ""))),
        ("handler", str(spec.get("handler", ""))),
        ("params", _kv(spec.get("parameters", {}), "\n")),
        ("inputs", _kv(spec.get("inputs", {}), "\n")),
        ("results", _kv(status.get("results", {}), "\n")),
        ("artifacts", _kv(status.get("artifact_uris", {}), "\n")),
        ("labels", _kv(meta.get("labels", {}))),
        ("error", str(status.get("error", "") or "")),
        ("retries", _retries(status)),
        ("trace", str(status.get("trace_id", "") or "")),  # the OpenTelemetry trace it is in
    ]
    for key, value in rows:
        if value:
            # a run's own words are text, never markup (a "[link=...]" in an error stays text)
            fields.add_row(key, value if key == "state" else escape(value))
    parts: list[Any] = [fields]
    table = status.get("iterations") or []
    if table:
        parts.append(_iterations(table, int(status.get("best_iteration", 0) or 0)))
    attempts = status.get("attempts") or []
    if attempts:
        parts.append(_attempts(attempts))
    failed = [e for e in status.get("iteration_errors") or [] if isinstance(e, dict)]
    if failed:
        parts.append(_failed(failed))
    return Group(*parts)


def _failed(entries: list[dict[str, Any]]) -> Table:
    """The failed iterations: the error, and where in the user's code (the last frames)."""
    out = Table("iter", "error", "where", title="failed iterations", header_style="bold")
    for entry in entries:
        frames = [line.strip() for line in str(entry.get("traceback", "")).splitlines()
                  if line.startswith("  File ")]  # fmt: skip
        out.add_row(escape(str(entry.get("iter", ""))), escape(str(entry.get("error", ""))),
                    escape(frames[-1].removeprefix("File ") if frames else ""))  # fmt: skip
    return out


def _retries(status: dict[str, Any]) -> str:
    attempts = status.get("attempts") or []
    if not attempts:
        return ""
    text = f"{status.get('retry_count', len(attempts) - 1)} ({len(attempts)} attempts)"
    return f"{text}; {status['status_text']}" if status.get("status_text") else text


def _attempts(attempts: list[dict[str, Any]]) -> Table:
    out = Table("attempt", "state", "fault", "started", "ended", "error", title="attempts",
                header_style="bold")  # fmt: skip
    out.columns[2].no_wrap = True
    for entry in attempts:
        out.add_row(
            str(entry.get("attempt", "")),
            _state(str(entry.get("state", ""))),
            escape(str(entry.get("fault", "") or "")),
            escape(str(entry.get("start_time", ""))[11:19]),  # the run's start has the date
            escape(str(entry.get("end_time", ""))[11:19]),
            escape(str(entry.get("error", "") or "")),
        )
    return out


def _iterations(table: list[list[Any]], best: int) -> Table:
    header, *rows = table
    out = Table(*[str(h) for h in header], title="iterations", header_style="bold")
    for row in rows:
        mark = row and row[0] == best
        out.add_row(*[str(v) for v in row], style="bold green" if mark else None)
    return out


def _state(state: str) -> str:
    color = {"completed": "green", "error": "red", "running": "yellow", "aborted": "magenta"}
    return f"[{color.get(state, 'white')}]{escape(state)}[/]"


def _kv(values: dict[str, Any], sep: str = ", ") -> str:
    return sep.join(f"{k}={v}" for k, v in values.items())
