"""What the hub sources hold, for ``fnrun hub list|search``: one row per item (its latest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fnrun.marketplace.resolve import HubUnreachable, read_catalog
from fnrun.marketplace.sources import hub_sources


@dataclass(frozen=True)
class HubRow:
    source: str
    name: str
    version: str
    kind: str
    categories: str
    description: str
    hidden: bool


def list_items(text: str = "", source: str = "") -> tuple[list[HubRow], list[str]]:
    """The items of every source (or ``source``) whose name, description or categories hold
    ``text``; and the sources that could not be read, with why."""
    rows, unreachable = [], []
    for src in hub_sources():
        if source and src.name != source:
            continue
        try:
            catalog = read_catalog(src)
        except HubUnreachable as exc:
            unreachable.append(f"{src.name} ({exc})")
            continue
        for name, versions in sorted(catalog.items()):
            entry = versions.get("latest") or versions[max(versions)]
            row = _row(src.name, name, entry)
            haystack = f"{row.name} {row.description} {row.categories}".lower()
            if text.lower() in haystack:
                rows.append(row)
    return rows, unreachable


def _row(source: str, name: str, entry: dict[str, Any]) -> HubRow:
    spec = entry.get("spec") or {}
    return HubRow(
        source,
        name,
        str(entry.get("version") or ""),
        str(spec.get("kind") or ""),
        ", ".join(map(str, entry.get("categories") or [])),
        str(entry.get("description") or ""),
        bool(entry.get("hidden") or entry.get("deprecated")),
    )
