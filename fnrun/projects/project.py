"""A project: functions (stored in the run DB and versioned), runs and artifacts, one object.

``project.yaml`` has MLRun's shape for these fields: ``{kind: project, metadata: {name},
spec: {description, params, artifact_path, functions: [{name, url, kind, image, handler,
tag} | {name, spec: <function document>}]}}``; a function given as a file keeps its path
relative to the project's ``context`` folder, so the folder can move or be cloned.

>>> project = new_project("shop", context="./")                      # doctest: +SKIP
>>> project.set_function("src/train.py", name="trainer", kind="job", handler="train")
>>> run = project.run_function("trainer", params={"lr": 0.1}, local=True)
>>> project.export()                                                 # ./project.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.execution.context import RunContext
from fnrun.model.names import check_name
from fnrun.model.serialize import from_yaml, to_yaml
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.factory import call_deploy, code_to_function
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.launch.runobject import RunObject

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.runtimes.functions.base import BaseRuntime
    from fnrun.runtimes.launch.runobject import RunObject

PROJECT_FILE = "project.yaml"
_CODE_SUFFIXES = (".py", ".ipynb")


class Project:
    def __init__(
        self,
        name: str,
        context: str = "./",
        description: str = "",
        params: dict[str, Any] | None = None,
        artifact_path: str = "",
        functions: list[dict[str, Any]] | None = None,
        db: RunDB | None = None,
    ) -> None:
        self.name = check_name(name, "project")
        self.context = str(context or "./")
        self.description = description
        self.params = dict(params or {})
        self.artifact_path = artifact_path
        self.functions: list[dict[str, Any]] = [dict(f) for f in functions or []]
        self._db = db
        self._loaded: dict[str, BaseRuntime] = {}

    # -- functions ---------------------------------------------------------------------------
    def set_function(
        self,
        func: Any = None,
        name: str = "",
        kind: str = "",
        image: str = "",
        handler: str = "",
        tag: str = "",
        requirements: list[str] | None = None,
    ) -> BaseRuntime:
        """Add (or replace) a function: a ``.py``/``.ipynb`` file (relative to the context), a
        ``function.yaml`` path or URL, ``db://``/``hub://`` URI, or a function object. It is
        saved as a new version in the run DB, and the project with it; the returned object is
        the project's copy."""
        fn, entry = self._function_and_entry(func, name, kind, image, handler, requirements)
        fn.metadata.project = self.name
        fn.save(tag=tag or "latest", db=self._run_db())
        key = entry["name"] = fn.metadata.name
        if tag:
            entry["tag"] = tag
        self.functions = [f for f in self.functions if f.get("name") != key] + [entry]
        self._loaded[key] = fn
        self.save()
        return fn

    def _function_and_entry(
        self,
        func: Any,
        name: str,
        kind: str,
        image: str,
        handler: str,
        requirements: list[str] | None,
    ) -> tuple[BaseRuntime, dict[str, Any]]:

        if isinstance(func, BaseRuntime):
            if name:
                func.metadata.name = name
            return func, {"name": func.metadata.name, "spec": func.to_dict()}
        if not isinstance(func, str) or not func:
            raise InvalidArgumentError(
                "set_function needs a file, a URL or a function object",
                field="func",
                hint='e.g. project.set_function("src/train.py", name="trainer", kind="job")',
            )
        if func.endswith(_CODE_SUFFIXES) and "://" not in func:
            fn: BaseRuntime = code_to_function(
                name=name,
                project=self.name,
                filename=str(self._in_context(func)),
                kind=kind or "job",
                handler=handler,
                image=image,
                requirements=requirements,
            )
            entry = {"url": func, "kind": fn.kind, "image": image, "handler": handler}
            return fn, {k: v for k, v in entry.items() if v}
        fn = import_function(func if "://" in func else str(self._in_context(func)))
        if name:
            fn.metadata.name = name
        return fn, {"url": func}

    def get_function(self, key: str) -> BaseRuntime:
        """The project's function ``key``: this session's copy, else its saved version."""
        if key in self._loaded:
            return self._loaded[key]
        entry = next((f for f in self.functions if f.get("name") == key), None)
        if entry is None:
            raise NotFoundError(
                f"project {self.name!r} has no function {key!r}",
                field="key",
                hint=f"functions: {', '.join(self.function_names()) or 'none'}",
            )

        tag = entry.get("tag", "latest")
        fn = import_function(f"db://{self.name}/{key}:{tag}", db=self._run_db())
        self._loaded[key] = fn
        return fn

    def function_names(self) -> list[str]:
        return [str(f.get("name", "")) for f in self.functions]

    def list_functions(self) -> list[BaseRuntime]:
        return [self.get_function(name) for name in self.function_names()]

    def run_function(self, function: str | BaseRuntime, **kwargs: Any) -> RunObject | None:
        """Run a project function (by name, or an object) in this project, with the
        project's ``params`` as defaults and its ``artifact_path`` (None with ``schedule=``:
        the schedule is stored in the service)."""
        fn = self.get_function(function) if isinstance(function, str) else function
        kwargs["params"] = {**self.params, **(kwargs.get("params") or {})}
        kwargs.setdefault("project", self.name)
        if self.artifact_path:
            kwargs.setdefault("artifact_path", self.artifact_path)
        run: RunObject | None = fn.run(**kwargs)
        return run

    def deploy_function(
        self, function: str | BaseRuntime, mock: bool | None = None, **kwargs: Any
    ) -> str:
        """Deploy a project function (by name, or an object) in this project, as
        ``fnrun.deploy_function``; ``mock=True`` keeps it in this process (classes found in
        the caller's globals)."""
        fn = self.get_function(function) if isinstance(function, str) else function
        fn.metadata.project = fn.metadata.project or self.name
        return call_deploy(fn, sys._getframe(1).f_globals, mock, kwargs)

    # -- runs and artifacts ------------------------------------------------------------------
    def list_runs(
        self, name: str = "", labels: dict[str, str] | None = None, state: str = ""
    ) -> list[RunObject]:

        db = self._run_db()
        rows = db.list_runs(
            name=name or None, project=self.name, labels=labels, state=state or None
        )
        return [RunObject(r, db) for r in rows]

    def log_artifact(self, item: Any, body: Any = None, **kwargs: Any) -> Any:
        """Log an artifact that no run made (a dataset the project starts from...); it is
        registered in the project like a run's, with the project as its producer."""

        return self._producer().log_artifact(item, body=body, **kwargs)

    def _producer(self) -> RunContext:
        """The context artifacts the project logs itself are logged through."""
        ctx = RunContext(
            name=self.name,
            project=self.name,
            artifact_path=self.artifact_path or _default_artifact_path(),
            db=self._run_db(),
        )
        ctx.producer_kind = "project"
        return ctx

    def log_model(self, key: str, **kwargs: Any) -> Any:
        """Log a model that no run made (MLRun's ``project.log_model``), as
        :meth:`RunContext.log_model <fnrun.execution.context.RunContext.log_model>` takes it
        (``model_file``, ``target_path``, ``training_set`` and ``label_column``...)."""
        return self._producer().log_model(key, **kwargs)

    def get_artifact_uri(
        self, key: str, category: str = "artifact", tag: str = "", iter: int | None = None
    ) -> str:
        """``store://<category>s/<project>/<key>[#iter][:tag]`` (category: artifact, dataset,
        model)."""
        if category not in ("artifact", "dataset", "model"):
            raise InvalidArgumentError(
                f"unknown category {category!r}",
                field="category",
                hint="artifact, dataset or model",
            )
        uri = f"store://{category}s/{self.name}/{key}"
        uri += f"#{iter}" if iter is not None else ""
        return uri + (f":{tag}" if tag else "")

    # -- the project file ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "description": self.description,
            "params": self.params,
            "artifact_path": self.artifact_path,
            "functions": self.functions,
        }
        return {
            "kind": "project",
            "metadata": {"name": self.name},
            "spec": {k: v for k, v in spec.items() if v},
        }

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())

    def export(self, filepath: str = "") -> str:
        """Write ``project.yaml`` (default: in the context folder); returns its path."""
        path = Path(filepath) if filepath else Path(self.context) / PROJECT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml())
        return str(path)

    def save(self) -> Project:
        """Store the project document in the run DB (and its file in the context)."""
        self._run_db().store_project(self.name, self.to_dict())
        return self

    @classmethod
    def from_dict(
        cls, doc: dict[str, Any], context: str = "./", db: RunDB | None = None
    ) -> Project:
        if doc.get("kind", "project") != "project":
            raise InvalidArgumentError(
                f"not a project document (kind {doc.get('kind')!r})", field="kind"
            )
        spec = doc.get("spec") or {}
        return cls(
            name=str((doc.get("metadata") or {}).get("name", "")),
            context=context,
            description=str(spec.get("description", "")),
            params=dict(spec.get("params") or {}),
            artifact_path=str(spec.get("artifact_path", "")),
            functions=list(spec.get("functions") or []),
            db=db,
        )

    # -- helpers -----------------------------------------------------------------------------
    def _run_db(self) -> RunDB:
        if self._db is None:
            from fnrun.db import get_run_db

            self._db = get_run_db()
        return self._db

    def _in_context(self, path: str) -> Path:
        return Path(path) if Path(path).is_absolute() else Path(self.context) / path

    def __repr__(self) -> str:
        return f"<Project {self.name} functions={self.function_names()}>"


def _default_artifact_path() -> str:

    return get_settings().artifact_path


def new_project(
    name: str,
    context: str = "./",
    description: str = "",
    params: dict[str, Any] | None = None,
    artifact_path: str = "",
    overwrite: bool = False,
    db: RunDB | None = None,
    save: bool = True,
) -> Project:
    """A new project, stored in the run DB; an existing one is an error unless
    ``overwrite=True`` (as MLRun). ``save=False`` (MLRun's): only in this process, nothing
    stored or checked."""
    project = Project(name, context, description, params, artifact_path, db=db)
    if not save:
        return project
    store = project._run_db()
    if not overwrite and _stored(store, project.name):
        raise InvalidArgumentError(
            f"project {project.name!r} already exists",
            field="name",
            hint="use get_or_create_project(), load_project(), or overwrite=True",
        )
    return project.save()


def load_project(context: str = "./", url: str = "", db: RunDB | None = None) -> Project:
    """The project of ``context/project.yaml`` (or the file ``url``)."""
    path = Path(url) if url else Path(context) / PROJECT_FILE
    if not path.is_file():
        raise NotFoundError(
            f"no project file at {path}", field="context", hint="create one with new_project()"
        )
    doc = from_yaml(path.read_text()) or {}
    return Project.from_dict(doc, context=str(context), db=db).save()


def get_or_create_project(
    name: str, context: str = "./", db: RunDB | None = None, **kwargs: Any
) -> Project:
    """The project from ``context/project.yaml``, else from the run DB, else a new one."""
    if (Path(context) / PROJECT_FILE).is_file():
        project = load_project(context, db=db)
        if project.name != name:
            raise InvalidArgumentError(
                f"{Path(context) / PROJECT_FILE} is project {project.name!r}, not {name!r}",
                field="name",
            )
        return project

    store = db or get_run_db()
    if _stored(store, name):
        doc = store.get_project(name)
        if doc.get("spec"):
            return Project.from_dict(doc, context=context, db=store)
    return new_project(name, context, db=store, overwrite=True, **kwargs)


def _stored(db: RunDB, name: str) -> bool:
    try:
        db.get_project(name)
    except NotFoundError:
        return False
    return True
