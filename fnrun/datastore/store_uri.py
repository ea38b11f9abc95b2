"""``store://`` URIs of artifacts: ``store://<category>/<project>/<key>[#iter][:tag][@tree]``.

The category is ``artifacts``, ``datasets`` or ``models`` (by artifact kind); ``tree`` is the
uid of the run that produced the version, so a URI with ``@tree`` names one exact version.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.db.base import RunDB

_CATEGORIES = {"dataset": "datasets", "model": "models"}
_URI = re.compile(
    r"^store://(?P<cat>artifacts|datasets|models)/(?P<project>[^/]+)/(?P<key>[^#:@]+)"
    r"(#(?P<iter>\d+))?(:(?P<tag>[^@]+))?(@(?P<tree>\w+))?$"
)


def category(kind: str) -> str:
    return _CATEGORIES.get(kind, "artifacts")


def build_store_uri(
    kind: str, project: str, key: str, iteration: int = 0, tag: str = "", tree: str = ""
) -> str:
    uri = f"store://{category(kind)}/{project}/{key}"
    if iteration:
        uri += f"#{iteration}"
    if tag:
        uri += f":{tag}"
    if tree:
        uri += f"@{tree}"
    return uri


def parse_store_uri(uri: str) -> dict[str, Any]:
    match = _URI.match(uri)
    if not match:
        raise InvalidArgumentError(
            f"malformed store URI {uri!r}",
            field="url",
            hint="use store://artifacts|datasets|models/<project>/<key>[#iter][:tag][@uid]",
        )
    return {
        "category": match["cat"],
        "project": match["project"],
        "key": match["key"],
        "iter": int(match["iter"] or 0),
        "tag": match["tag"] or "",
        "tree": match["tree"] or "",
    }


def resolve_store_uri(uri: str, db: RunDB | None = None) -> dict[str, Any]:
    """The artifact document a ``store://`` URI names."""
    parts = parse_store_uri(uri)
    if db is None:
        from fnrun.db import get_run_db

        db = get_run_db()
    return db.read_artifact(
        parts["key"],
        tag=parts["tag"],
        iter=parts["iter"],
        project=parts["project"],
        uid=parts["tree"] or None,
    )
