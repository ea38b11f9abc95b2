"""``fnrun schedules list | delete NAME | run-now NAME``: the service's schedules."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fnrun.cli_common import DbOpt, console, plain, run_db
from fnrun.config import get_settings
from fnrun.errors import InvalidArgumentError

schedules_app = typer.Typer(
    help="Schedules the fnrun service runs (fn.run(schedule=...)).", no_args_is_help=True
)
Name = Annotated[str, typer.Argument(help="the schedule's name (its function's name)")]
ProjectOne = Annotated[
    str, typer.Option("--project", "-p", help="project (default: the default project)")
]


def _service(db: str) -> Any:

    store = run_db(db)
    if not hasattr(store, "invoke_schedule"):
        raise InvalidArgumentError(
            f"schedules live in the fnrun service, and the run DB here is {store.url}",
            field="db",
            hint="--db http://HOST:PORT or FNRUN_DBPATH=http://HOST:PORT (`fnrun service`)",
        )
    return store


def _project(project: str) -> str:

    return project or get_settings().default_project


@schedules_app.command("list")
def schedules_list(
    project: Annotated[str, typer.Option("--project", "-p", help="project (default: all)")] = "",
    db: DbOpt = "",
) -> None:
    """The schedules, with their next and last runs (times in UTC)."""
    table = Table(header_style="bold")
    table.add_column("schedule", no_wrap=True)
    table.add_column("cron", no_wrap=True)
    for column in ("next run", "last run", "runs", "skipped", "policies"):
        table.add_column(column, overflow="fold")
    problems = []
    for doc in _service(db).list_schedules(project or None):
        meta, spec, status = doc["metadata"], doc["spec"], doc.get("status") or {}
        name = f"{meta['project']}/{meta['name']}"
        policies = f"{spec['overlap']}/{spec['missed']}"
        table.add_row(*plain(name, spec["cron"], _short(status.get("next_run_time")),
                             status.get("last_run_uid", "")[:8], status.get("runs", 0),
                             status.get("skipped", 0), policies))  # fmt: skip
        if status.get("last_error"):
            problems.append(f"{name}: the last start failed: {status['last_error']}")
    console.print(table)
    for line in problems:
        console.print(f"[red]{escape(line)}[/red]")


@schedules_app.command("delete")
def schedules_delete(name: Name, project: ProjectOne = "", db: DbOpt = "") -> None:
    """Delete a schedule (its runs stay)."""
    _service(db).delete_schedule(name, _project(project))
    print(f"schedule {_project(project)}/{name} deleted")


@schedules_app.command("run-now")
def schedules_run_now(name: Name, project: ProjectOne = "", db: DbOpt = "") -> None:
    """Run a schedule now (its planned times stay); prints the run's uid."""
    run = _service(db).invoke_schedule(name, _project(project))
    print(f"schedule {_project(project)}/{name} started run {run['metadata']['uid']}")


def _short(stamp: Any) -> str:
    return str(stamp or "")[:19].replace("T", " ")
