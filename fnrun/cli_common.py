"""What the CLI modules share: the console, the common options, the run DB by URL."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fnrun.db import get_run_db

console = Console()


def plain(*values: Any) -> list[str]:
    """Stored values as table cells: text, never Rich markup (a name, label or path a run or
    a hub item wrote can hold ``[link=...]``)."""
    return [escape(str(v)) for v in values]


ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="project (default: all)")]
NameOpt = Annotated[str, typer.Option("--name", "-n", help="filter by name")]
DbOpt = Annotated[str, typer.Option("--db", help="run DB URL or path (default: FNRUN_DBPATH)")]


def run_db(url: str) -> Any:

    return get_run_db(url)


def print_live(fn: Any) -> None:
    """What a running serving function's /metrics say, as a table."""
    # fnrun.service.ui imports fastapi (the service extra): only when the table is wanted
    from fnrun.service.ui.serving_metrics import view_of

    view = view_of(fn.status.address)
    detail = Table(*plain(f"{fn.metadata.name} at {fn.status.address}"), "", header_style="bold")
    for label, value in view.get("rows") or [["error", view.get("error", "")]]:
        detail.add_row(*plain(label, value))
    console.print(detail)
