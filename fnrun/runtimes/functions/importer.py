"""``import_function``: a function from a YAML/JSON file, an http(s) URL or ``db://``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.function_like import hand_down
from fnrun.model.serialize import from_yaml
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.factory import function_from_dict, normalize_name, runtime_class
from fnrun.runtimes.launch.abort import abort_run

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.runtimes.functions.kinds import KubejobRuntime, ServingRuntime

_DB_URI = re.compile(
    r"^db://(?P<project>[^/]+)/(?P<name>[^:@/]+)(:(?P<tag>[^@]+))?(@(?P<hash>\w+))?$"
)


@overload
def import_function(
    url: str,
    project: str | None = None,
    new_name: str | None = None,
    db: RunDB | None = None,
    *,
    kind: Literal["serving"],
) -> ServingRuntime: ...


@overload
def import_function(
    url: str,
    project: str | None = None,
    new_name: str | None = None,
    db: RunDB | None = None,
    *,
    kind: Literal["job"],
) -> KubejobRuntime: ...


@overload
def import_function(
    url: str,
    project: str | None = None,
    new_name: str | None = None,
    db: RunDB | None = None,
    *,
    kind: str = "",
) -> BaseRuntime: ...


def import_function(
    url: str,
    project: str | None = None,
    new_name: str | None = None,
    db: RunDB | None = None,
    *,
    kind: str = "",
) -> BaseRuntime:
    """Load a function: ``function.yaml``, ``https://.../function.yaml``,
    ``db://project/name[:tag|@hash]`` or ``hub://[source/]name[:tag]``. ``kind`` is the kind
    you expect: a function of another kind is refused, and the result is typed as that kind
    (``kind="serving"`` gives a serving function to type checkers, as ``new_function`` does).

    >>> fn = import_function("db://default/prep:latest")  # doctest: +SKIP
    >>> serving = import_function("graph.yaml", kind="serving")  # doctest: +SKIP
    """
    if url.startswith("db://"):
        fn = function_from_dict(read_db_uri(url, db), url)
    elif url.startswith("hub://"):
        fn = _from_hub(url)
    else:
        fn = function_from_dict(load_document(url), url)
    if kind and runtime_class(kind) is not type(fn):
        raise InvalidArgumentError(
            f"{url} is a {fn.kind!r} function, not {kind!r}",
            field="kind",
            hint=f"import it with kind={fn.kind!r}, or without kind",
        )
    if project:
        fn.metadata.project = project
    if new_name:
        fn.metadata.name = normalize_name(new_name)
    return fn


def _from_hub(url: str) -> BaseRuntime:
    """A hub function, with where it came from in its annotations (kept by save/export)."""
    from fnrun.marketplace import resolve

    item = resolve(url)
    fn = function_from_dict(from_yaml(item.text, item.location), item.location)
    fn.metadata.annotations["fnrun/hub-origin"] = item.uri
    fn.metadata.annotations["fnrun/hub-location"] = item.location
    fn.metadata.annotations["fnrun/hub-sha256"] = item.sha256
    return fn


def parse_db_uri(uri: str) -> tuple[str, str, str, str]:
    """``db://project/name[:tag][@hash]`` -> (project, name, tag, hash)."""
    match = _DB_URI.match(uri)
    if not match:
        raise InvalidArgumentError(
            f"malformed function URI {uri!r}",
            field="url",
            hint="use db://project/name, db://project/name:tag or @hash",
        )
    return match["project"], match["name"], match["tag"] or "", match["hash"] or ""


def read_db_uri(uri: str, db: RunDB | None = None) -> dict[str, Any]:
    project, name, tag, hash_key = parse_db_uri(uri)
    if db is None:
        from fnrun.db import get_run_db

        db = get_run_db()
    return db.get_function(name, project, tag=tag, hash_key=hash_key)


def load_document(url: str) -> Any:
    """Parse a YAML or JSON document from a local path or an http(s) URL."""
    if url.startswith(("http://", "https://")):
        text = _fetch(url)
    else:
        path = Path(url.removeprefix("file://")).expanduser()
        if not path.is_file():
            raise NotFoundError(f"function file not found: {url}", field="url")
        text = path.read_text()
    if url.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"cannot parse {url}: {exc}", field="url") from exc
    return from_yaml(text, url)


def _fetch(url: str) -> str:
    from fnrun.marketplace.resolve import HubUnreachable, fetch_text

    try:
        return fetch_text(url)
    except HubUnreachable as exc:
        raise NotFoundError(f"cannot fetch {url}: {exc}", field="url") from exc


# RunStep (graph layer) resolves function URLs, and aborts a run its deadline cut short
hand_down(import_function=import_function, abort_run=abort_run)
