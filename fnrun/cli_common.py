"""What the CLI modules share: the console, the common options, the run DB by URL."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fnrun.db import get_run_db


class _Console(Console):
    """The CLI's console: a table cell too long for the terminal wraps (folds) rather than
    ends in "…", so a uid, a ``store://`` URI, a path or a link is never cut."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for shown in objects:
            _fold(shown)
        super().print(*objects, **kwargs)


def _fold(shown: Any) -> None:
    if isinstance(shown, Table):
        for column in shown.columns:
            if column.overflow == "ellipsis":
                column.overflow = "fold"
    for inner in getattr(shown, "renderables", ()) or ():  # a Group's parts
        _fold(inner)


console = _Console()


def plain(*values: Any) -> list[str]:
    """Stored values as table cells: text, never Rich markup (a name, label or path a run or
    a hub item wrote can hold ``[link=...]``)."""
    return [escape(str(v)) for v in values]


ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="project (default: all)")]
NameOpt = Annotated[str, typer.Option("--name", "-n", help="filter by name")]
DbOpt = Annotated[str, typer.Option("--db", help="run DB URL or path (default: FNRUN_DBPATH)")]


def run_db(url: str) -> Any:

    return get_run_db(url)
