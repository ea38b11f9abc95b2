"""The ``fnrun`` command line (typer): version, get, import, export.

Errors fnrun raises on purpose print as one clear line and exit with status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fnrun.cli_common import DbOpt, NameOpt, ProjectOpt, console, plain
from fnrun.cli_common import run_db as _db
from fnrun.cli_delete import delete_app
from fnrun.cli_functions import functions_app
from fnrun.cli_hub import hub_app
from fnrun.cli_schedules import schedules_app
from fnrun.cli_service import service
from fnrun.config import ServeLimits, get_settings
from fnrun.errors import FnrunError, InvalidArgumentError, RunError
from fnrun.extras import require
from fnrun.runtimes.functions.factory import code_to_function, function_from_dict
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.version import __version__

app = typer.Typer(
    help="fnrun: serverless ML functions.", no_args_is_help=True, pretty_exceptions_enable=False
)
get_app = typer.Typer(
    help="List functions, runs or artifacts from the run DB.", no_args_is_help=True
)
app.add_typer(get_app, name="get")
app.add_typer(delete_app, name="delete")  # fnrun/cli_delete.py
app.add_typer(hub_app, name="hub")  # fnrun/cli_hub.py
app.command("service")(service)  # fnrun/cli_service.py
app.add_typer(schedules_app, name="schedules")  # fnrun/cli_schedules.py
app.add_typer(functions_app, name="functions")  # fnrun/cli_functions.py


def _print_version(value: bool) -> None:
    if value:
        from fnrun.version import __version__

        console.print(f"fnrun {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """fnrun: serverless ML functions."""


@app.command()
def version() -> None:
    """Print the fnrun version."""

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
            *plain(
                m.get("project", ""),
                m.get("name", ""),
                m.get("tag", ""),
                f.get("kind", ""),
                m.get("hash", "")[:12],
                m.get("updated", "")[:19],
            )
        )
    console.print(table)


@get_app.command("runs")
def get_runs(
    project: ProjectOpt = "",
    name: NameOpt = "",
    state: Annotated[str, typer.Option(help="only runs in this state (completed, error...)")] = "",
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="only runs with label k=v")
    ] = None,
    since: Annotated[
        str, typer.Option(help="only runs started since: 2h, 3d, 30m or an ISO date")
    ] = "",
    show: Annotated[
        str, typer.Option(help="extra columns, comma separated: params,results,error,labels")
    ] = "",
    last: Annotated[int, typer.Option(help="show only the newest N")] = 20,
    wide: Annotated[
        bool, typer.Option(help="whole uids (default: the 8-character prefix)")
    ] = False,
    db: DbOpt = "",
) -> None:
    """Runs, newest first (uid prefixes work in every command that takes a run)."""
    from fnrun.cli_runs import check_state, run_rows, runs_table

    check_state(state)
    rows = _db(db).list_runs(
        name=name or None,
        project=project or None,
        state=state or None,
        labels=_pairs(label, "--label") or None,
    )
    extra = [c.strip() for c in show.split(",") if c.strip()]
    console.print(runs_table(run_rows(rows, since, last), extra, wide))


@get_app.command("run")
def get_run(
    uid: Annotated[str, typer.Argument(help="run uid, or a unique prefix of it")],
    project: ProjectOpt = "",
    db: DbOpt = "",
) -> None:
    """One run in detail: params, results, artifacts, error, labels, iterations."""
    from fnrun.cli_runs import run_detail
    from fnrun.db.cleanup import resolve_run

    store = _db(db)
    full, where = resolve_run(store, uid, project)
    console.print(run_detail(store.read_run(full, where)))


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
            *plain(
                m.get("project", ""),
                m.get("key", ""),
                a.get("kind", ""),
                m.get("iter", 0),
                m.get("tree", "")[:12],
                spec.get("target_path", ""),
            )
        )
    console.print(table)


@app.command("export")
def export(
    source: Annotated[str, typer.Argument(help="db://project/name[:tag|@hash] or a file")],
    output: Annotated[str, typer.Option("--output", "-o", help="target file")] = "function.yaml",
    db: DbOpt = "",
) -> None:
    """Write a function (from the run DB or a file) as function.yaml/.json."""

    fn = import_function(source, db=_db(db) if source.startswith("db://") else None)
    fn.export(output)
    console.print(f"exported {source} to {output}")


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="a function.yaml path or http(s) URL")],
    project: Annotated[
        str, typer.Option("--project", "-p", help="project to save it in (default: its own)")
    ] = "",
    name: Annotated[str, typer.Option("--name", "-n", help="save under this name")] = "",
    tag: Annotated[str, typer.Option(help="tag to set (default latest)")] = "",
    db: DbOpt = "",
) -> None:
    """Import a function document and save it as a new version in the run DB."""

    fn = import_function(source, project=project or None, new_name=name or None)
    fn.save(tag=tag, db=_db(db))
    console.print(f"saved {fn.uri} (tag {fn.metadata.tag})")


@app.command("exec", hidden=True)
def exec_(
    from_env: Annotated[
        bool, typer.Option("--from-env", help="read the run from FNRUN_EXEC_CONFIG (set by fn.run)")
    ] = False,
) -> None:
    """Execute a run inside this process (the child side of fn.run placements)."""
    from fnrun.execution.entry import exec_from_env

    if not from_env:
        raise typer.BadParameter("only --from-env is supported")
    raise typer.Exit(exec_from_env(load=function_from_dict))


@app.command("run")
def run(
    source: Annotated[str, typer.Argument(help="a .py file, a function.yaml/.json, or db://...")],
    handler: Annotated[str, typer.Option("--handler", help="function to call")] = "",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v (JSON values)")
    ] = None,
    inputs: Annotated[list[str] | None, typer.Option("--input", "-i", help="k=url")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="k=v")] = None,
    name: Annotated[
        str, typer.Option("--name", "-n", help="run name (default: the function's)")
    ] = "",
    project: Annotated[
        str, typer.Option("--project", help="project of the run (default: FNRUN_DEFAULT_PROJECT)")
    ] = "",
    kind: Annotated[
        str, typer.Option(help="kind for a .py file (local, job, dask, spark, mpijob, ...)")
    ] = "local",
    replicas: Annotated[
        int | None,
        typer.Option(help="workers, executors or MPI ranks (spec.replicas)", min=1),
    ] = None,
    archive: Annotated[
        str, typer.Option("--source", help="source archive (git://, .zip, dir)")
    ] = "",
    local: Annotated[bool, typer.Option("--local", help="run on this machine")] = False,
    subprocess: Annotated[
        bool,
        typer.Option(
            "--subprocess/--here",
            help="run the handler in a child process, or in this one (the default: fnrun run "
            "is a process of its own, as MLRun's mlrun run)",
        ),
    ] = False,
    watch: Annotated[bool, typer.Option("--watch/--no-watch", help="print output live")] = True,
    artifact_path: Annotated[
        str,
        typer.Option("--artifact-path", help="where artifacts go (default: FNRUN_ARTIFACT_PATH)"),
    ] = "",
) -> None:
    """Run a function as a tracked batch run and print the run."""
    from fnrun.runtimes.progress import LineReporter, default_reporter

    os.environ.setdefault("FNRUN_PROGRESS", "1")  # the placement's lines too (job submitted...)
    if source.endswith((".py", ".ipynb")):
        fn = code_to_function(filename=source, kind=kind, handler=handler, project=project)
    else:
        fn = import_function(source)
    if archive:
        fn.with_source_archive(archive, handler=handler or None)
    if replicas is not None:
        if not hasattr(fn.spec, "replicas"):
            _error(
                InvalidArgumentError(
                    f"--replicas: a {fn.kind!r} function has no replicas",
                    field="replicas",
                    hint="use --kind job, dask, spark or mpijob",
                )
            )
            raise typer.Exit(2)
        fn.spec.replicas = replicas
    try:
        result = fn.run(
            handler=handler or None,
            name=name,
            project=project,
            params={k: _json_value(v) for k, v in _pairs(param, "--param").items()},
            inputs=_pairs(inputs, "--input"),
            labels=_pairs(label, "--label"),
            artifact_path=artifact_path,
            local=local,
            watch=watch,
            # the uid as the run starts, a live line in a terminal, the state at the end
            progress=default_reporter(True) or LineReporter(sys.stderr),
            in_process=not subprocess and (local or fn.runs_on_this_machine),
        )
    except RunError as exc:
        if exc.run is not None:
            exc.run.show()  # type: ignore[attr-defined]
        _error(exc)
        raise typer.Exit(1) from exc
    result.show()


@app.command("serve")
def serve(
    source: Annotated[str, typer.Argument(help="function.yaml/.json, db://..., or a nuclio .py")],
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8080,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    verbose: Annotated[bool, typer.Option(help="tracebacks in error answers")] = False,
    max_in_flight: Annotated[
        int,
        typer.Option(
            min=0,
            help="requests served at once per worker; 503 with Retry-After beyond (0: no bound)",
        ),
    ] = 0,
    function: Annotated[
        str,
        typer.Option(
            help="child function whose steps to run ('root' "
            "for the root's; default: all, or the root's when "
            "the graph has child functions)"
        ),
    ] = "",
) -> None:
    """Serve a serving (graph) or nuclio function over HTTP (uvicorn) and its Kafka triggers."""

    uvicorn = require("uvicorn", "serve", "serving over HTTP", field="serve")
    from fnrun.service.http_protocol import uvicorn_options
    from fnrun.service.serving_app import MAX_IN_FLIGHT_ENV, SERVE_ENV, build_app

    fn = _load_function(source, kind="nuclio")
    if max_in_flight:
        os.environ[MAX_IN_FLIGHT_ENV] = str(max_in_flight)
    os.environ["FNRUN_SERVE_WORKERS"] = str(workers)  # a TrafficSplit refuses live changes
    guards = uvicorn_options(ServeLimits.from_env())
    _say_where(fn, host, port, workers, function)
    if workers > 1 or not source.endswith(".py"):
        path = source
        if source.startswith("db://") or source.endswith(".py"):
            path = str(Path(_home()) / "serve" / f"{fn.metadata.name}.yaml")
            fn.export(path)
        os.environ[SERVE_ENV] = path
        os.environ["FNRUN_SERVE_VERBOSE"] = "1" if verbose else "0"
        os.environ["FNRUN_SERVE_PART"] = function
        build_app(fn, verbose=verbose, function=function)  # fail here, once, on a bad graph
        uvicorn.run(
            "fnrun.service.serving_app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=30,
            **guards,
        )
    else:
        uvicorn.run(
            build_app(fn, verbose=verbose, function=function),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=30,
            **guards,
        )


def _say_where(fn: Any, host: str, port: int, workers: int, part: str) -> None:
    """One line on stderr (a terminal or a pipe) before serving: what, where, how many."""
    graph = getattr(fn.spec, "graph", None)
    what = fn.kind
    if graph is not None:
        steps = getattr(graph, "steps", None) or getattr(graph, "routes", None) or {}
        what = f"{getattr(graph, 'kind', 'flow')} graph of {len(steps)} step" + (
            "s" if len(steps) != 1 else ""
        )
    shown = f"[{host}]" if ":" in host else host
    print(f"fnrun serve: {fn.metadata.name} ({what}{f', function {part}' if part else ''}) "
          f"at http://{shown}:{port} with {workers} worker{'s' if workers != 1 else ''}",
          file=sys.stderr, flush=True)  # fmt: skip


@app.command("deploy")
def deploy(
    source: Annotated[str, typer.Argument(help="function.yaml/.json, db://..., or a nuclio .py")],
    port: Annotated[int, typer.Option(help="port (default: a free one)")] = 0,
    workers: Annotated[
        int, typer.Option(help="worker processes (default: spec.replicas or 1)")
    ] = 0,
) -> None:
    """Deploy a serving or nuclio function as a local background server; print its URL."""
    fn = _load_function(source, kind="nuclio")
    console.print(fn.deploy(port=port, workers=workers))


def _load_function(source: str, kind: str) -> Any:

    if source.endswith(".py"):
        return code_to_function(filename=source, kind=kind)
    return import_function(source)


def _home() -> str:

    return str(get_settings().home)


def _default_project() -> str:

    return get_settings().default_project


@app.command("logs")
def logs(
    uid: Annotated[str, typer.Argument(help="run uid, or a unique prefix of it")],
    project: Annotated[str, typer.Option("--project", "-p", help="project (default: any)")] = "",
    watch: Annotated[bool, typer.Option("--watch", "-w", help="follow until the run ends")] = False,
    db: DbOpt = "",
) -> None:
    """Print a run's captured output (``--watch`` follows it as it goes)."""
    from fnrun.db.cleanup import resolve_run

    store = _db(db)
    full, where = resolve_run(store, uid, project)
    run = RunObject(store.read_run(full, where), store)
    text = run.logs(watch=watch)
    if not watch:
        sys.stdout.write(text)


@app.command("abort")
def abort(
    uid: Annotated[str, typer.Argument(help="run uid, or a unique prefix of it")],
    project: Annotated[str, typer.Option("--project", "-p", help="project (default: any)")] = "",
    db: DbOpt = "",
) -> None:
    """Abort an unfinished run: its Kubernetes Job is deleted, its process sent SIGTERM."""
    from fnrun.db.cleanup import resolve_run
    from fnrun.runtimes.launch.abort import abort_run

    store = _db(db)
    full, where = resolve_run(store, uid, project)
    run = abort_run(store, full, where)
    print(f"run {full} aborted: {run['status']['error']}")


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {item!r}", param_hint=option)
        out[key] = value
    return out


def _json_value(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _table(*columns: str) -> Table:
    table = Table(*columns, header_style="bold")
    return table


def main() -> None:
    try:
        app()
    except FnrunError as exc:
        _error(exc)
        sys.exit(2)


def _error(exc: Exception) -> None:
    """One unwrapped line on stderr, so scripts and people can read it."""
    print(f"error: {exc}", file=sys.stderr)
