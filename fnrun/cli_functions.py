"""``fnrun functions status | stop``: deployed functions, what their /metrics say, and the
last records their tracking wrote."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from fnrun.cli_common import DbOpt, NameOpt, ProjectOpt, console, plain, run_db
from fnrun.config import get_settings
from fnrun.runtimes.functions.factory import function_from_dict
from fnrun.runtimes.functions.importer import import_function
from fnrun.stream.tracked import NotReadable, recent_records

functions_app = typer.Typer(help="Deployed functions: status and stop.", no_args_is_help=True)


@functions_app.command("status")
def functions_status(
    project: ProjectOpt = "",
    name: NameOpt = "",
    db: DbOpt = "",
    records: Annotated[
        str, typer.Option(help="with --name: the last tracked records of this step ('*': all)")
    ] = "",
    limit: Annotated[int, typer.Option(help="how many records", min=1, max=200)] = 20,
) -> None:
    """Real-time functions with their address and whether their server runs; with
    ``--name``, what each running one's /metrics say (requests, latency, steps, a traffic
    split's routes and weights, its shadows, tracking) and, with ``--records STEP``, the last
    records its tracking wrote (read from its folder or Kafka topic)."""
    from fnrun.runtimes.local.deploy import is_running

    table = Table(*("project", "name", "kind", "state", "address", "running"), header_style="bold")
    running, tracked = [], []
    for doc in run_db(db).list_functions(name=name or None, project=project or None):
        fn = function_from_dict(doc)
        if fn.is_deployable:
            if name and records:
                tracked.append(fn)
            if name and fn.status.address and is_running(fn):
                running.append(fn)
            table.add_row(
                *plain(
                    fn.metadata.project,
                    fn.metadata.name,
                    fn.kind,
                    fn.status.state,
                    fn.status.address,
                    "yes" if is_running(fn) else "no",
                )
            )
    console.print(table)
    for fn in running:
        print_live(fn)
    for fn in tracked:
        print_tracked(fn, "" if records == "*" else records, limit)


@functions_app.command("stop")
def functions_stop(
    name: Annotated[str, typer.Argument(help="function name")], project: ProjectOpt = ""
) -> None:
    """Stop a function's local server."""

    fn = import_function(f"db://{project or get_settings().default_project}/{name}")
    console.print("stopped" if fn.stop() else "was not running")  # type: ignore[attr-defined]


def print_tracked(fn: Any, step: str, limit: int) -> None:
    """The last records ``fn``'s tracking wrote (of ``step``), newest first, as a table."""
    path = str((getattr(fn.spec, "parameters", None) or {}).get("log_stream") or "")
    if not path:
        console.print(f"{escape(fn.metadata.name)} has no tracking (fn.set_tracking(...))")
        return
    try:
        found = recent_records(path, step, limit)
    except NotReadable as exc:
        console.print(f"[red]tracked records not read:[/red] {escape(str(exc))}")
        return
    title = f"last {len(found)} tracked records of {fn.metadata.name}" + (
        f", step {step}" if step else ""
    )
    out = Table("when", "step", "version", "µs", "error", "inputs", "outputs",
                title=escape(title), header_style="bold")  # fmt: skip
    for r in found:
        out.add_row(*plain(str(r.get("when", ""))[11:26], r.get("step", ""),
                           r.get("version", ""), r.get("latency_us", ""), r.get("error") or "",
                           _json_cut(r.get("inputs")), _json_cut(r.get("outputs"))))  # fmt: skip
    console.print(out)


def _json_cut(value: Any, limit: int = 120) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_live(fn: Any) -> None:
    """What a running serving function's /metrics say, as a table."""
    # fnrun.service.ui imports fastapi (the service extra): only when the table is wanted
    from fnrun.service.ui.serving_metrics import view_of

    view = view_of(fn.status.address)
    detail = Table(*plain(f"{fn.metadata.name} at {fn.status.address}"), "", header_style="bold")
    for label, value in view.get("rows") or [["error", view.get("error", "")]]:
        detail.add_row(*plain(label, value))
    console.print(detail)
