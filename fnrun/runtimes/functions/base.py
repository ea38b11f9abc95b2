"""The function object every kind derives from: document, round-trip, versions, doc.

A function is ``{kind, metadata, spec, status}``; ``spec_class`` gives each kind its strict
spec. Capabilities are class attributes, not kind-string checks.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, Unpack, overload

from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError, SchemaError
from fnrun.execution.hyper import with_selector
from fnrun.execution.options import Handler, RunOptions
from fnrun.execution.task import task_arguments
from fnrun.model.function import FunctionMetadata, FunctionSpec, FunctionStatus
from fnrun.model.schema import NOTSET, unknown_key_error
from fnrun.model.serialize import to_json, to_yaml
from fnrun.notebook.function_card import function_card
from fnrun.runtimes.functions.env import EnvMixin
from fnrun.runtimes.functions.source import SourceMixin

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.execution.options import LaunchOptions
    from fnrun.runtimes.launch.runobject import RunObject

_TOP_KEYS = ("kind", "metadata", "spec", "status", "verbose")


class BaseRuntime(SourceMixin, EnvMixin):
    """A versioned function: code + spec + resources, of one ``kind``."""

    kind: ClassVar[str] = "base"
    aliases: ClassVar[tuple[str, ...]] = ()
    spec_class: ClassVar[type[FunctionSpec]] = FunctionSpec
    # capabilities
    is_batch: ClassVar[bool] = True
    is_deployable: ClassVar[bool] = False
    is_kubernetes: ClassVar[bool] = False
    runs_in_process: ClassVar[bool] = False
    placement: ClassVar[str] = "process"  # where runs go by default (fnrun.runtimes.placements)
    parallel_placement: ClassVar[str] = "process"  # where parallel hyper-param iterations go
    local_placement: ClassVar[str] = ""  # where ``local=True`` runs go, if not ``placement``
    runs_on_this_machine: ClassVar[bool] = False
    # runs are submitted (a Job, mpirun): ``run(watch=False)`` returns once the run is
    # submitted and the run goes on (MLRun's remote kinds); others finish before ``run``
    # returns, ``watch=False`` only keeps them quiet (MLRun's local runs)
    submits_runs: ClassVar[bool] = False

    def wants_cluster(self) -> bool:
        """Whether a run placed ``kubernetes`` goes to the cluster when one is configured
        (a kind may say no for a function that names where it runs: a Spark master URL)."""
        return True

    workload: ClassVar[str] = (
        ""  # its Kubernetes workload (fnrun.runtimes.kubernetes.manifests), if any
    )

    def __init__(
        self,
        metadata: FunctionMetadata | None = None,
        spec: FunctionSpec | None = None,
        status: FunctionStatus | None = None,
        verbose: bool = False,
    ) -> None:
        self.metadata = metadata or FunctionMetadata()
        self.spec: Any = spec or self.spec_class()
        self.status = status or FunctionStatus()
        self.verbose = verbose

    # -- document ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str = "") -> Self:
        """Build from a function document; unknown keys and wrong types are SchemaErrors."""
        if not isinstance(data, dict):
            raise SchemaError(f"expected a mapping, got {type(data).__name__}", field=path or "$")
        for key in data:
            if key not in _TOP_KEYS:
                raise unknown_key_error(key, list(_TOP_KEYS), path, "a function document")
        prefix = f"{path}." if path else ""
        verbose = data.get("verbose") or False
        if not isinstance(verbose, bool):
            raise SchemaError("expected bool", field=f"{prefix}verbose")
        return cls(
            metadata=FunctionMetadata.from_dict(data.get("metadata"), f"{prefix}metadata"),
            spec=cls.spec_class.from_dict(data.get("spec"), f"{prefix}spec"),
            status=FunctionStatus.from_dict(data.get("status"), f"{prefix}status"),
            verbose=verbose,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "metadata": self.metadata.to_dict(),
            "spec": self.spec.to_dict(),
        }
        status = self.status.to_dict()
        if status:
            out["status"] = status
        if self.verbose:
            out["verbose"] = True
        return out

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())

    def to_json(self) -> str:
        return to_json(self.to_dict())

    def export(self, target: str = "", format: str = ".yaml") -> Self:
        """Write the function document to ``target`` (default ``function.yaml``)."""
        target = target or f"function{format}"
        text = self.to_json() if target.endswith(".json") else self.to_yaml()
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return self

    def copy(self) -> Self:
        return type(self).from_dict(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BaseRuntime) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        project = f"{self.metadata.project}/" if self.metadata.project else ""
        return f"<{type(self).__name__} {project}{self.metadata.name} kind={self.kind}>"

    # -- versions ----------------------------------------------------------------------------
    @property
    def uri(self) -> str:
        """``db://project/name@hash`` once saved (else ``:tag``)."""
        project = self.metadata.project or _default_project()
        ref = (
            f"@{self.metadata.hash}" if self.metadata.hash else f":{self.metadata.tag or 'latest'}"
        )
        return f"db://{project}/{self.metadata.name}{ref}"

    def save(self, tag: str = "", versioned: bool = True, db: RunDB | None = None) -> str:
        """Store this function in the run DB under its content hash; return the
        ``db://project/name@hash`` URI of that version (as MLRun; the hash is also in
        ``fn.metadata.hash``).

        ``tag`` (default: the function's tag, else ``latest``) is moved to that hash; ``latest``
        always follows the newest save. The same content always gives the same hash.
        """
        if not self.metadata.name:
            raise InvalidArgumentError(
                "the function has no name",
                field="metadata.name",
                hint="set fn.metadata.name before saving",
            )

        db = db or get_run_db()
        self.metadata.project = self.metadata.project or _default_project()
        tag = tag or self.metadata.tag or "latest"
        self.metadata.tag = tag
        self.metadata.hash = db.store_function(
            self.to_dict(), self.metadata.name, self.metadata.project, tag=tag, versioned=versioned
        )
        return f"db://{self.metadata.project}/{self.metadata.name}@{self.metadata.hash}"

    # -- running -------------------------------------------------------------------------------
    @overload
    def run(
        self,
        runspec: Any = None,
        handler: Handler = None,
        *,
        schedule: str | dict[str, Any],
        **options: Unpack[LaunchOptions],
    ) -> None: ...

    @overload
    def run(
        self,
        runspec: Any = None,
        handler: Handler = None,
        *,
        schedule: None = None,
        **options: Unpack[LaunchOptions],
    ) -> RunObject: ...

    def run(
        self,
        runspec: Any = None,
        handler: Handler = None,
        *,
        schedule: str | dict[str, Any] | None = None,
        **options: Any,
    ) -> RunObject | None:
        """Run the function as a tracked batch run and return its RunObject.

        ``runspec`` is a task from :func:`fnrun.new_task` (or its dict); the options given
        here (:class:`fnrun.execution.options.LaunchOptions`) override it. With ``schedule``
        (a cron string, or ``{"cron", "overlap", "missed"}``) the run is stored as a schedule
        in the fnrun service, which runs it on time (:mod:`fnrun.runtimes.launch.schedule`),
        and this returns None (as MLRun).
        """
        from fnrun.runtimes.launch.launcher import run_function

        local = options.pop("local", False)
        watch = options.pop("watch", True)
        name, project = options.pop("name", ""), options.pop("project", "")
        params, selector = options.pop("params", None), options.pop("selector", "")
        given = {k: v for k, v in options.items() if v or k not in RunOptions.__annotations__}
        merged = task_arguments(
            runspec, handler=handler, name=name, project=project, params=params, **given
        )
        if selector:  # over the task's own options, not instead of them
            merged["hyper_param_options"] = with_selector(
                merged.get("hyper_param_options"), selector
            )
        if schedule is not None:
            from fnrun.runtimes.launch.schedule import schedule_run

            schedule_run(self, schedule, {**merged, "local": local})
            return None
        return run_function(self, local=local, watch=watch, **merged)

    def run_extras(self) -> dict[str, Any]:
        """What a run's context gets in the process that runs the handler, by kind (the
        dask kind's ``dask_client``, the spark kinds' ``spark_session``): the same wherever
        that process is (here, a child, a pod)."""
        return {}

    # -- code and documentation ----------------------------------------------------------------
    @property
    def code(self) -> str:
        """The embedded source code (also where MLRun's nuclio kinds keep it)."""
        if self.spec.build.function_source_code:
            return str(self.spec.build.code)
        base = getattr(self.spec, "base_spec", None) or {}
        encoded = base.get("spec", {}).get("build", {}).get("functionSourceCode", "")
        return base64.b64decode(encoded).decode("utf-8") if encoded else ""

    def _repr_html_(self) -> str:
        """The function as an HTML card in a notebook (a serving graph drawn inline)."""

        return function_card(self)

    def doc(self) -> None:
        """Print the function's description and its handlers with their parameters."""
        print(self.doc_text())

    def doc_text(self) -> str:
        lines = [f"function: {self.metadata.name} (kind {self.kind})"]
        if self.spec.description:
            lines.append(self.spec.description)
        if self.spec.default_handler:
            lines.append(f"default handler: {self.spec.default_handler}")
        for name, entry in self.spec.entry_points.items():
            lines.append(
                f"entry point: {name}" + (f" - {_first_line(entry.doc)}" if entry.doc else "")
            )
            for param in entry.parameters:
                if param.name == "context":
                    continue
                kind = f"({param.type})" if param.type else ""
                default = "" if param.default is NOTSET else f", default={param.default!r}"
                lines.append(f"    {param.name}{kind} - {_first_line(param.doc)}{default}")
        return "\n".join(lines)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _default_project() -> str:

    return get_settings().default_project
