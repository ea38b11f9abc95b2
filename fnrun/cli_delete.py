"""``fnrun delete run|runs``: runs go with their iterations, log, artifact records and the
artifact files in the run's own folder (:func:`fnrun.db.cleanup.delete_run`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from fnrun.cli_common import DbOpt, ProjectOpt, console
from fnrun.cli_common import run_db as _db

delete_app = typer.Typer(
    help="Delete runs (with their logs and artifact files).", no_args_is_help=True
)


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]


@delete_app.command("run")
def delete_run(
    uid: Annotated[str, typer.Argument(help="run uid, or a unique prefix of it")],
    project: ProjectOpt = "",
    yes: YesOpt = False,
    db: DbOpt = "",
) -> None:
    """Delete a run with its iterations, log, artifact records and artifact files."""
    from fnrun.db.cleanup import delete_run as remove
    from fnrun.db.cleanup import resolve_run

    store = _db(db)
    full, where = resolve_run(store, uid, project)
    if not yes and not typer.confirm(f"delete run {full} in project {where}?"):
        raise typer.Exit(1)
    _deleted(remove(store, full, where))


@delete_app.command("runs")
def delete_runs(
    project: Annotated[str, typer.Option("--project", "-p", help="the project whose runs go")],
    state: Annotated[str, typer.Option(help="only runs in this state")] = "",
    yes: YesOpt = False,
    db: DbOpt = "",
) -> None:
    """Delete every run of a project (or those in one state), with their files."""
    from fnrun.db.cleanup import delete_run as remove

    if not project:
        raise typer.BadParameter("name the project", param_hint="--project")
    store = _db(db)
    rows = store.list_runs(project=project, state=state or None)
    if not rows:
        console.print(f"no runs in project {project}")
        return
    if not yes and not typer.confirm(f"delete {len(rows)} runs in project {project}?"):
        raise typer.Exit(1)
    for row in rows:
        _deleted(remove(store, row["metadata"]["uid"], project))


def _deleted(report: Any) -> None:
    console.print(
        f"deleted run {report.uid} ({report.project}): {report.artifacts} artifacts, "
        f"{len(report.removed)} files or folders removed"
    )
    for target in report.kept:
        console.print(f"  kept {escape(str(target))} (outside the run's own folder)")
