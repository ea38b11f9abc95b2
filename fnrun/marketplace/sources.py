"""Where ``hub://`` functions come from: hub sources, tried in order.

A source is a name and a location: a directory or an ``http(s)://`` URL. Both may hold
MLRun's published hub layout (``functions/<channel>/catalog.json`` and
``functions/<channel>/<name>/<tag>/src/function.yaml``) or a source repository's
(``functions/src/<name>/`` or the older ``<name>/``, each with ``item.yaml`` +
``function.yaml``). The sources are ``FNRUN_HUB_SOURCES`` when set (``name=location``,
comma-separated), else those in ``<FNRUN_HOME>/hub-sources.json`` (``fnrun hub
add-source``), else fnrun's bundled hub (``fnrun`` -> ``bundled``, the functions inside the
package: no network needed) then MLRun's public hub (``mlrun`` ->
https://mlrun.github.io/marketplace). The location ``bundled`` names the bundled hub in any
list.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from fnrun.config import get_settings
from fnrun.errors import ConflictError, InvalidArgumentError, NotFoundError

SOURCES_ENV = "FNRUN_HUB_SOURCES"
PUBLIC_HUB = "https://mlrun.github.io/marketplace"
BUNDLED = "bundled"  # the location word for the hub inside the package
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class HubSource:
    name: str
    location: str  # a directory or an http(s) URL
    channel: str = "master"

    @property
    def is_http(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    @property
    def directory(self) -> Path:
        """The folder of a directory source (the package's own for ``bundled``)."""
        return BUNDLED_DIR if self.location == BUNDLED else Path(self.location)


def _file() -> Path:

    return Path(get_settings().home) / "hub-sources.json"


def hub_sources() -> list[HubSource]:
    """The configured sources, in the order they are tried."""
    given = os.environ.get(SOURCES_ENV, "").strip()
    if given:
        out = []
        for part in filter(None, (p.strip() for p in given.split(","))):
            name, sep, location = part.partition("=")
            if not sep:
                raise InvalidArgumentError(
                    f"{SOURCES_ENV} entry {part!r} is not name=location",
                    field=SOURCES_ENV,
                    hint="e.g. team=/srv/hub,mlrun=https://mlrun.github.io/marketplace",
                )
            out.append(_checked(name.strip(), location.strip()))
        return out
    saved = _saved()
    return saved if saved is not None else _defaults()


def _defaults() -> list[HubSource]:
    return [HubSource("fnrun", BUNDLED), HubSource("mlrun", PUBLIC_HUB)]


def add_source(name: str, location: str, channel: str = "master", first: bool = False) -> None:
    """Keep a source in ``hub-sources.json`` (after the others, or ``first``)."""
    source = _checked(name, location, channel)
    saved = _saved()
    sources = saved if saved is not None else _defaults()
    if any(s.name == name for s in sources):
        raise ConflictError(
            f"hub source {name!r} exists", field="name", hint="remove it first, or pick a name"
        )
    _write([source, *sources] if first else [*sources, source])


def remove_source(name: str) -> None:
    saved = _saved()
    sources = saved if saved is not None else _defaults()
    kept = [s for s in sources if s.name != name]
    if len(kept) == len(sources):
        raise NotFoundError(
            f"no hub source {name!r}",
            field="name",
            hint=f"sources: {', '.join(s.name for s in sources) or 'none'}",
        )
    _write(kept)


def _saved() -> list[HubSource] | None:
    path = _file()
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text())
        return [_checked(r["name"], r["location"], r.get("channel", "master")) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError(
            f"cannot read the hub sources in {path}: {exc}",
            field="hub-sources",
            hint=f"fix or delete {path}",
        ) from exc


def _write(sources: list[HubSource]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(s) for s in sources], indent=1))
    tmp.replace(path)


def _checked(name: str, location: str, channel: str = "master") -> HubSource:
    if not _NAME.match(name):
        raise InvalidArgumentError(
            f"invalid hub source name {name!r}",
            field="name",
            hint="lower-case letters, digits, '-' and '_'",
        )
    if not location:
        raise InvalidArgumentError(f"hub source {name!r} has no location", field="location")
    if not location.startswith(("http://", "https://")):
        location = str(Path(location.removeprefix("file://")).expanduser())
    return HubSource(name, location.rstrip("/"), channel or "master")
