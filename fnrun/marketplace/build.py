"""``fnrun hub build``: a folder of function sources in MLRun's source layout
(``<name>/<name>.py`` + ``<name>/item.yaml``) -> a hub in MLRun's published layout that any
fnrun (or MLRun) can use over plain HTTP or as a directory::

    <out>/functions/<channel>/catalog.json
    <out>/functions/<channel>/<name>/<version>/src/{function.yaml,item.yaml,<name>.py}
    <out>/functions/<channel>/<name>/latest/src/...     (a copy of the highest version)

A missing ``item.yaml`` is made from the code (handler, docstrings, a V2ModelServer subclass
making it a serving function). Versions already in ``out`` are kept side by side; a version
already published with different content is refused (bump the version, or ``force``), so a
user pinned to ``hub://name:1.0.0`` never gets other code under the same version.

The function document is built with :func:`fnrun.code_to_function` from the code, the same
way the bundled hub's items are built when they are read (:func:`function_yaml`).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fnrun.pyparse as pyparse
from fnrun.errors import ConflictError, InvalidArgumentError, NotFoundError
from fnrun.model.function_like import maker
from fnrun.model.serialize import from_yaml, to_yaml

_VERSION = re.compile(r"^\d+(\.\d+){0,2}([.-]?[A-Za-z0-9.]+)?$")


@dataclass(frozen=True)
class Built:
    name: str
    version: str
    kind: str
    made_item: bool  # item.yaml was made from the code
    unchanged: bool  # this version was already published with the same content


def build_hub(src: Path, out: Path, channel: str = "master", force: bool = False) -> list[Built]:
    """Build every item folder under ``src`` into the published hub at ``out``."""
    folders = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    folders = [p for p in folders if (p / f"{p.name}.py").is_file() or (p / "item.yaml").is_file()]
    if not folders:
        raise NotFoundError(
            f"no function sources in {src}",
            field="src",
            hint="put each function in <name>/<name>.py (with an optional <name>/item.yaml)",
        )
    root = out / "functions" / channel
    catalog_file = root / "catalog.json"
    catalog: dict[str, dict[str, Any]] = (
        json.loads(catalog_file.read_text()) if catalog_file.is_file() else {}
    )
    built = [_build_one(folder, root, catalog, force) for folder in folders]
    root.mkdir(parents=True, exist_ok=True)
    tmp = catalog_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(catalog, indent=1, sort_keys=True))
    tmp.replace(catalog_file)
    return built


def hub_key(name: str) -> str:
    """The one name rule of the hub: the catalog key and the published folder of an item
    named ``name``, and what ``hub://<name>`` looks up — ``-`` and ``_`` are the same
    (``acc-tool`` in folder ``acc_tool`` is ``hub://acc-tool`` and ``hub://acc_tool``), as in
    MLRun's hub (``load-dataset`` under ``load_dataset``)."""
    return name.strip().replace("-", "_")


def _build_one(folder: Path, root: Path, catalog: dict[str, Any], force: bool) -> Built:
    made = not (folder / "item.yaml").is_file()
    item = item_of(folder)
    name, version = hub_key(item["name"]), item["version"]
    code_file = folder / item["spec"]["filename"]
    files = {
        "function.yaml": function_yaml(folder, item),
        "item.yaml": to_yaml(item),
        code_file.name: code_file.read_text(),
    }
    target = root / name / version / "src"
    unchanged = False
    if target.is_dir():
        same = all((target / f).is_file() and (target / f).read_text() == t
                   for f, t in files.items())  # fmt: skip
        if not same and not force:
            raise ConflictError(
                f"{name} {version} is already published in {root} with different content",
                field="version",
                hint=f"raise the version in {folder / 'item.yaml'} (or pass --force)",
            )
        unchanged = same
    if not unchanged:
        _write(target, files)
    versions = catalog.setdefault(name, {})
    versions.pop("latest", None)
    versions[version] = _entry(item)
    latest = max(versions, key=version_key)
    versions["latest"] = versions[latest]
    if latest == version or not (root / name / "latest" / "src").is_dir():
        shutil.rmtree(root / name / "latest", ignore_errors=True)
        shutil.copytree(root / name / latest, root / name / "latest")
    return Built(name, version, item["spec"]["kind"], made, unchanged)


def _write(target: Path, files: dict[str, str]) -> None:
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, text in files.items():
        (staging / name).write_text(text)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "version", "description", "categories", "labels", "hidden", "spec", "doc")
    return {k: item[k] for k in keys if k in item}


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Orders versions numerically part by part (``1.10.0`` after ``1.9.2``)."""
    parts = re.split(r"[.-]", version)
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts)


# -- one item -------------------------------------------------------------------------------
def item_of(folder: Path) -> dict[str, Any]:
    """The folder's ``item.yaml`` (checked), or one made from its ``<name>.py``."""
    path = folder / "item.yaml"
    if path.is_file():
        item = from_yaml(path.read_text(), str(path))
        if not isinstance(item, dict):
            raise InvalidArgumentError(f"{path} is not a mapping", field="item.yaml")
        item.setdefault("name", folder.name)
        spec = item.setdefault("spec", {})
        spec.setdefault("filename", f"{folder.name}.py")
        if not spec.get("handler") or not spec.get("kind"):
            derived = _from_code(folder / spec["filename"], folder.name)["spec"]
            spec.setdefault("kind", derived["kind"])
            spec.setdefault("handler", derived["handler"])
    else:
        item = _from_code(folder / f"{folder.name}.py", folder.name)
    item["version"] = str(item.get("version") or "0.1.0")
    if not _VERSION.match(item["version"]):
        raise InvalidArgumentError(
            f"{folder.name}: version {item['version']!r}", field="version", hint="e.g. 1.2.0"
        )
    if not (folder / item["spec"]["filename"]).is_file():
        raise NotFoundError(f"{folder / item['spec']['filename']} not found", field="filename")
    checked: dict[str, Any] = item
    return checked


def _from_code(code_file: Path, name: str) -> dict[str, Any]:
    if not code_file.is_file():
        raise NotFoundError(f"{code_file} not found", field="filename")
    tree = pyparse.parse(code_file.read_text(), str(code_file))
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    public = [f.name for f in functions if not f.name.startswith("_")]
    servers = [n for n in tree.body if isinstance(n, ast.ClassDef) and _serves(n)]
    spec: dict[str, Any] = {"filename": code_file.name, "image": "", "requirements": []}
    if servers:
        spec.update(kind="serving", handler="", customFields={"default_class": servers[0].name})
        described: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef = servers[0]
    else:
        handler = name if name in public else (public[0] if len(public) == 1 else "")
        if not handler:
            raise InvalidArgumentError(
                f"{code_file}: cannot tell which function is the handler",
                field="handler",
                hint=f"name one {name}() or write an item.yaml with spec.handler "
                f"(functions: {', '.join(public) or 'none'})",
            )
        spec.update(kind="job", handler=handler)
        described = next(f for f in functions if f.name == handler)
    doc = ast.get_docstring(tree) or ast.get_docstring(described) or ""
    return {
        "apiVersion": "v1",
        "name": name,
        "version": "0.1.0",
        "description": doc.strip().split("\n\n")[0].replace("\n", " "),
        "categories": [],
        "labels": {},
        "hidden": False,
        "spec": spec,
    }


def _serves(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).rsplit(".", 1)[-1] == "V2ModelServer" for base in node.bases)


def function_yaml(folder: Path, item: dict[str, Any]) -> str:
    """The ``function.yaml`` of an item folder, built from its code."""
    code_to_function = maker("code_to_function")
    spec = item["spec"]
    kind = str(spec.get("kind") or "job")
    fn = code_to_function(
        item["name"].replace("_", "-"),
        filename=str(folder / spec["filename"]),
        kind=kind,
        handler=str(spec.get("handler") or ""),
        image=str(spec.get("image") or ""),
        description=str(item.get("description") or ""),
        requirements=list(spec.get("requirements") or []) or None,
        categories=list(item.get("categories") or []),
        labels={str(k): str(v) for k, v in (item.get("labels") or {}).items()},
    )
    default_class = (spec.get("customFields") or {}).get("default_class")
    if default_class:
        fn.spec.default_class = str(default_class)
    doc = fn.to_dict()
    build = doc["spec"].setdefault("build", {})
    build.pop("code_origin", None)  # the builder's own paths are not the hub's
    build["origin_filename"] = Path(spec["filename"]).name
    return to_yaml(doc)
