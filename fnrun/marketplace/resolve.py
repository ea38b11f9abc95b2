"""``hub://[source/]name[:tag]`` -> the item's ``function.yaml`` text, from the first source
that has it (:mod:`fnrun.marketplace.sources`).

``-`` in a name is ``_`` on the hub (``hub://gen-class-data`` is ``gen_class_data``); the tag
is ``latest`` (default) or a version. An unknown name fails naming the closest names the
sources have; an item marked hidden or deprecated is refused unless its source is named; a
source that cannot be reached is named in the error when nothing else had the item.
Downloads are kept under ``<FNRUN_HOME>/hub-cache`` by their SHA-256 and checked on every
read: a version is read from the cache when it is there (a changed file is fetched again),
``latest`` and the catalogs are fetched each time and read from the cache only when their hub
is unreachable (with a warning).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fnrun.config import get_settings
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.marketplace.build import function_yaml, hub_key, item_of
from fnrun.marketplace.sources import HubSource, hub_sources
from fnrun.model.serialize import from_yaml

_URI = re.compile(r"^hub://(?:(?P<source>[a-z0-9][a-z0-9_-]*)/)?(?P<name>[A-Za-z0-9_.-]+)"
                  r"(?::(?P<tag>[A-Za-z0-9_.-]+))?$")  # fmt: skip


class HubUnreachable(Exception):
    """A source could not be read (network, a server error, not a directory)."""


@dataclass
class HubItem:
    """One hub function as found: where, which version, its ``function.yaml`` text."""

    source: HubSource
    name: str
    version: str
    text: str
    location: str  # the file or URL read
    sha256: str

    @property
    def uri(self) -> str:
        return f"hub://{self.source.name}/{self.name}:{self.version}"


def parse_hub_uri(uri: str) -> tuple[str, str, str]:
    """``hub://[source/]name[:tag]`` -> (source or '', hub name, tag)."""
    match = _URI.match(uri)
    if not match:
        raise InvalidArgumentError(
            f"malformed hub URI {uri!r}",
            field="url",
            hint="use hub://name, hub://name:1.2.0 or hub://source/name:latest",
        )
    return match["source"] or "", hub_key(match["name"]), match["tag"] or "latest"


def resolve(uri: str) -> HubItem:
    source_name, name, tag = parse_hub_uri(uri)
    sources = hub_sources()
    if source_name:
        sources = [s for s in sources if s.name == source_name]
        if not sources:
            raise NotFoundError(
                f"no hub source {source_name!r}",
                field="url",
                hint="sources: " + ", ".join(s.name for s in hub_sources()),
            )
    known: set[str] = set()
    unreachable: list[str] = []
    for source in sources:
        try:
            catalog = read_catalog(source)
        except HubUnreachable as exc:
            unreachable.append(f"{source.name} ({exc})")
            continue
        known.update(catalog)
        key = {hub_key(k): k for k in catalog}.get(name)  # the catalog's own spelling
        if key is None:
            continue
        versions = catalog[key]
        entry = versions.get(tag)
        if entry is None:
            raise NotFoundError(
                f"hub item {name} has no version {tag!r} in {source.name}",
                field="url",
                hint="versions: " + ", ".join(sorted(versions)),
            )
        if (entry.get("hidden") or entry.get("deprecated")) and not source_name:
            raise InvalidArgumentError(
                f"hub item {name} is hidden or deprecated in {source.name}",
                field="url",
                hint=f"name its source to use it anyway: hub://{source.name}/{name}:{tag}",
            )
        version = str(entry.get("version") or tag)
        return _fetch_item(source, key, tag, version, entry)
    where = ", ".join(s.name for s in sources)
    if unreachable and not known:
        raise NotFoundError(
            f"cannot reach the hub to find {name}: {'; '.join(unreachable)}",
            field="url",
            hint="check the network or the source (fnrun hub sources)",
        )
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"{len(known)} items in {where}"
    if unreachable:
        hint += f"; not reached: {'; '.join(unreachable)}"
    raise NotFoundError(f"no hub item {name!r} in {where}", field="url", hint=hint)


# -- reading a source -------------------------------------------------------------------------
def read_catalog(source: HubSource) -> dict[str, dict[str, dict[str, Any]]]:
    """``{name: {version or 'latest': entry}}`` of a source, whatever its layout."""
    if source.is_http:  # fresh each time; the cached copy when the hub is unreachable
        return _json(_cached(f"{source.location}/functions/{source.channel}/catalog.json", True))
    root = source.directory
    if not root.is_dir():
        raise HubUnreachable(f"{root} is not a directory")
    published = root / "functions" / source.channel / "catalog.json"
    if published.is_file():
        return _json(published.read_text())
    items = root / "functions" / "src"
    folder = items if items.is_dir() else root
    catalog: dict[str, dict[str, dict[str, Any]]] = {}
    for item in sorted(folder.glob("*/item.yaml")):
        meta = _yaml(item)
        version = str(meta.get("version") or "0.0.0")
        entry = {**meta, "version": version, "_dir": str(item.parent)}
        catalog[hub_key(item.parent.name)] = {version: entry, "latest": entry}
    return catalog


def _folder_item(folder: Path) -> str:
    """A source folder's ``function.yaml``, or one built from its code when it has none
    (how the bundled hub's items, and a team's unbuilt sources, are read)."""
    path = folder / "function.yaml"
    if path.is_file():
        return path.read_text()
    return function_yaml(folder, item_of(folder))


def _fetch_item(
    source: HubSource, name: str, tag: str, version: str, entry: dict[str, Any]
) -> HubItem:
    if "_dir" in entry:  # a source repository's folder
        folder = Path(entry["_dir"])
        text = _folder_item(folder)
        return HubItem(source, name, version, text, str(folder / "function.yaml"), _sha(text))
    relative = f"functions/{source.channel}/{name}/{tag}/src/function.yaml"
    if not source.is_http:
        path = source.directory / relative
        if not path.is_file():
            raise NotFoundError(f"hub item {name}:{tag} has no function.yaml at {path}")
        text = path.read_text()
        return HubItem(source, name, version, text, str(path), _sha(text))
    url = f"{source.location}/{relative}"
    try:
        text = _cached(url, fresh=tag == "latest")
    except HubUnreachable as exc:
        raise NotFoundError(f"cannot fetch {url}: {exc}", field="url") from exc
    return HubItem(source, name, version, text, url, _sha(text))


def _cached(url: str, fresh: bool) -> str:
    """The text at ``url``, through the content-hashed cache."""
    cache = _cache_dir()
    index_file = cache / "index.json"
    index: dict[str, str] = json.loads(index_file.read_text()) if index_file.is_file() else {}
    kept = _read_verified(cache, index.get(url, ""))
    if kept is not None and not fresh:
        return kept
    try:
        text = fetch_text(url)
    except HubUnreachable as exc:
        if kept is None:
            raise
        warnings.warn(f"{url} is unreachable ({exc}); using the cached copy", stacklevel=4)
        return kept
    digest = _sha(text)
    (cache / f"{digest}.yaml").write_text(text)
    index[url] = digest
    tmp = index_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    tmp.replace(index_file)
    return text


def _read_verified(cache: Path, digest: str) -> str | None:
    if not digest:
        return None
    path = cache / f"{digest}.yaml"
    if not path.is_file():
        return None
    text = path.read_text()
    if _sha(text) != digest:  # changed on disk: not to be trusted
        path.unlink(missing_ok=True)
        return None
    return text


def _cache_dir() -> Path:

    path = Path(get_settings().home) / "hub-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch_text(url: str, timeout: float = 30.0) -> str:
    """The text at an http(s) URL (hub files, and ``import_function``'s URLs); a 404 is
    NotFoundError, any other failure HubUnreachable."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFoundError(f"cannot fetch {url}: HTTP 404", field="url") from exc
        raise HubUnreachable(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise HubUnreachable(str(getattr(exc, "reason", exc))) from exc


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HubUnreachable(f"its catalog is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HubUnreachable("its catalog is not an object")
    return data


def _yaml(path: Path) -> dict[str, Any]:

    data = from_yaml(path.read_text(), str(path))
    return data if isinstance(data, dict) else {}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
