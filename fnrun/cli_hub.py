"""``fnrun hub ...``: the function marketplace (:mod:`fnrun.marketplace`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fnrun.cli_common import console, plain
from fnrun.marketplace.docs import is_context, plain_doc
from fnrun.model.schema import NOTSET
from fnrun.runtimes.functions.importer import import_function

hub_app = typer.Typer(
    help="The function marketplace: hub:// sources and items.", no_args_is_help=True
)


def _items(text: str, source: str) -> None:
    from fnrun.marketplace.listing import list_items

    rows, unreachable = list_items(text, source)
    table = Table(header_style="bold")
    for column in ("name", "version", "kind", "source"):  # never cut: they are what you type
        table.add_column(column, no_wrap=True)
    table.add_column("categories", overflow="fold")
    table.add_column("description", overflow="fold")
    for row in rows:
        hidden = " (hidden)" if row.hidden else ""
        table.add_row(*plain(row.name + hidden, row.version, row.kind, row.source,
                             row.categories, row.description))  # fmt: skip
    console.print(table)
    for why in unreachable:
        console.print(f"[yellow]not reached: {escape(str(why))}[/yellow]")


SourceOpt = Annotated[str, typer.Option("--source", "-s", help="only this source")]


@hub_app.command("list")
def hub_list(source: SourceOpt = "") -> None:
    """Every item of the hub sources (its latest version)."""
    _items("", source)


@hub_app.command("search")
def hub_search(
    text: Annotated[str, typer.Argument(help="words in the name, description or categories")],
    source: SourceOpt = "",
) -> None:
    """Items whose name, description or categories hold TEXT."""
    _items(text, source)


@hub_app.command("show")
def hub_show(
    name: Annotated[str, typer.Argument(help="[source/]name[:tag], as in hub://")],
) -> None:
    """An item: where it comes from, its handlers with their docs and parameters."""

    uri = name if name.startswith("hub://") else f"hub://{name}"
    fn = import_function(uri)
    notes = fn.metadata.annotations
    name, origin = plain(fn.metadata.name, notes["fnrun/hub-origin"])
    console.print(f"[bold]{name}[/bold] ({fn.kind}) {origin}")
    location, sha = plain(notes["fnrun/hub-location"], notes["fnrun/hub-sha256"][:16])
    console.print(f"from {location}  sha256 {sha}")

    for handler, point in sorted((fn.spec.entry_points or {}).items()):
        console.print(f"\n[bold]{escape(handler)}[/bold]")
        doc = plain_doc(point.doc)
        if doc:
            console.print(escape(doc), soft_wrap=True)
        for param in point.parameters:
            if is_context(param):
                continue  # the run's context: fnrun passes it, nobody sets it
            default = "" if param.default is NOTSET else f" = {param.default!r}"
            kind = f": {param.type}" if param.type else ""
            text = f"  {param.name}{kind}{default}" + (f"  {param.doc}" if param.doc else "")
            console.print(escape(text), soft_wrap=True)


@hub_app.command("sources")
def hub_sources_cmd() -> None:
    """The sources hub:// names are looked up in, in order."""
    from fnrun.marketplace import hub_sources

    table = Table("name", "location", "channel", header_style="bold")
    for src in hub_sources():
        table.add_row(*plain(src.name, src.location, src.channel))
    console.print(table)


@hub_app.command("add-source")
def hub_add_source(
    name: Annotated[str, typer.Argument(help="a short name (hub://NAME/item)")],
    location: Annotated[str, typer.Argument(help="a directory or an http(s) URL")],
    channel: Annotated[str, typer.Option(help="the published hub's channel")] = "master",
    first: Annotated[bool, typer.Option("--first", help="look here before the others")] = False,
) -> None:
    """Add a hub source (kept in <FNRUN_HOME>/hub-sources.json)."""
    from fnrun.marketplace import add_source

    add_source(name, location, channel, first)
    console.print(f"hub source {name} added")


@hub_app.command("remove-source")
def hub_remove_source(name: Annotated[str, typer.Argument(help="the source's name")]) -> None:
    """Remove a hub source."""
    from fnrun.marketplace import remove_source

    remove_source(name)
    console.print(f"hub source {name} removed")


@hub_app.command("build")
def hub_build(
    src: Annotated[str, typer.Argument(help="a folder of <name>/<name>.py (+ item.yaml)")],
    out: Annotated[str, typer.Option("--out", "-o", help="the hub to write or add to")] = "hub",
    channel: Annotated[str, typer.Option(help="the published hub's channel")] = "master",
    force: Annotated[
        bool, typer.Option("--force", help="replace a published version with other content")
    ] = False,
) -> None:
    """Build function sources into a hub (MLRun's published layout), served as it is over
    HTTP or used as a directory: fnrun hub add-source team OUT."""
    from pathlib import Path

    from fnrun.marketplace.build import build_hub

    built = build_hub(Path(src), Path(out), channel=channel, force=force)
    table = Table(header_style="bold")
    for column in ("name", "version", "kind", "note"):
        table.add_column(column, no_wrap=column != "note")
    for item in built:
        note = ("unchanged" if item.unchanged else "built") + (
            ", item.yaml made from the code" if item.made_item else ""
        )
        table.add_row(*plain(item.name, item.version, item.kind, note))
    console.print(table)
    console.print(f"{len(built)} item(s) in {Path(out) / 'functions' / channel / 'catalog.json'}")
