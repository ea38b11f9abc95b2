"""The ``fnrun`` command line (typer): version, get, import, export.

Errors fnrun raises on purpose print as one clear line and exit with status 2.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fnrun.errors import FnrunError

app = typer.Typer(
    help="fnrun: serverless ML functions.", no_args_is_help=True, pretty_exceptions_enable=False
)
get_app = typer.Typer(
    help="List functions, runs or artifacts from the run DB.", no_args_is_help=True
)
app.add_typer(get_app, name="get")
console = Console()

ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="project (default: all)")]
NameOpt = Annotated[str, typer.Option("--name", "-n", help="filter by name")]
DbOpt = Annotated[str, typer.Option("--db", help="run DB URL or path (default: FNRUN_DBPATH)")]


def _db(url: str) -> Any:
    from fnrun.db import get_run_db

    return get_run_db(url)


@app.command()
def version() -> None:
    """Print the fnrun version."""
    from fnrun import __version__

    console.print(f"fnrun {__version__}")


@get_app.command("functions")
def get_functions(
    project: ProjectOpt = "",
    name: NameOpt = "",
    tag: Annotated[str, typer.Option(help="tag, or * for all tags")] = "",
    db: DbOpt = "",
) -> None:
    """Saved functions (the latest tag by default)."""
    rows = _db(db).list_functions(name=name or None, project=project or None, tag=tag or None)
    table = _table("project", "name", "tag", "kind", "hash", "updated")
    for f in rows:
        m = f["metadata"]
        table.add_row(
            m.get("project", ""),
            m.get("name", ""),
            m.get("tag", ""),
            f.get("kind", ""),
            m.get("hash", "")[:12],
            m.get("updated", "")[:19],
        )
    console.print(table)


@get_app.command("runs")
def get_runs(
    project: ProjectOpt = "",
    name: NameOpt = "",
    state: Annotated[str, typer.Option(help="filter by state")] = "",
    last: Annotated[int, typer.Option(help="show only the newest N")] = 20,
    db: DbOpt = "",
) -> None:
    """Runs, newest first."""
    rows = _db(db).list_runs(
        name=name or None, project=project or None, state=state or None, last=last
    )
    table = _table("project", "uid", "name", "state", "started", "results")
    for r in rows:
        m, s = r["metadata"], r.get("status", {})
        results = ", ".join(f"{k}={v}" for k, v in (s.get("results") or {}).items())
        table.add_row(
            m.get("project", ""),
            m.get("uid", "")[:12],
            m.get("name", ""),
            s.get("state", ""),
            s.get("start_time", "")[:19],
            results[:60],
        )
    console.print(table)


@get_app.command("artifacts")
def get_artifacts(
    project: ProjectOpt = "",
    name: NameOpt = "",
    tag: Annotated[str, typer.Option(help="tag, or * for all versions")] = "",
    db: DbOpt = "",
) -> None:
    """Artifacts (the latest version of each by default)."""
    rows = _db(db).list_artifacts(name=name or None, project=project or None, tag=tag or None)
    table = _table("project", "key", "kind", "iter", "producer", "target")
    for a in rows:
        m, spec = a["metadata"], a.get("spec", {})
        table.add_row(
            m.get("project", ""),
            m.get("key", ""),
            a.get("kind", ""),
            str(m.get("iter", 0)),
            m.get("tree", "")[:12],
            spec.get("target_path", ""),
        )
    console.print(table)


@app.command("export")
def export(
    source: Annotated[str, typer.Argument(help="db://project/name[:tag|@hash] or a file")],
    output: Annotated[str, typer.Option("--output", "-o", help="target file")] = "function.yaml",
    db: DbOpt = "",
) -> None:
    """Write a function (from the run DB or a file) as function.yaml/.json."""
    from fnrun.runtimes.importer import import_function

    fn = import_function(source, db=_db(db) if source.startswith("db://") else None)
    fn.export(output)
    console.print(f"exported {source} to {output}")


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="a function.yaml path or http(s) URL")],
    project: Annotated[str, typer.Option("--project", "-p")] = "",
    name: NameOpt = "",
    tag: Annotated[str, typer.Option(help="tag to set (default latest)")] = "",
    db: DbOpt = "",
) -> None:
    """Import a function document and save it as a new version in the run DB."""
    from fnrun.runtimes.importer import import_function

    fn = import_function(source, project=project or None, new_name=name or None)
    fn.save(tag=tag, db=_db(db))
    console.print(f"saved {fn.uri} (tag {fn.metadata.tag})")


@app.command("exec")
def exec_(
    from_env: Annotated[
        bool, typer.Option("--from-env", help="read the run from FNRUN_EXEC_CONFIG (set by fn.run)")
    ] = False,
) -> None:
    """Execute a run inside this process (the child side of fn.run placements)."""
    from fnrun.execution.entry import exec_from_env

    if not from_env:
        raise typer.BadParameter("only --from-env is supported")
    raise typer.Exit(exec_from_env())


def _table(*columns: str) -> Table:
    table = Table(*columns, header_style="bold")
    return table


def main() -> None:
    try:
        app()
    except FnrunError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
