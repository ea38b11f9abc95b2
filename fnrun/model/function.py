"""The function document: ``{kind, metadata, spec, status}``, wire-compatible with MLRun.

Field names follow MLRun's ``function.yaml`` so a hub function imports unchanged and an
exported fnrun YAML reads in MLRun. Kind-specific specs live in :mod:`fnrun.model.pod`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from fnrun.model.names import check_optional_name
from fnrun.model.schema import NOTSET, Model, alias


@dataclass
class FunctionMetadata(Model):
    _schema_name = "function metadata"
    name: str = ""
    tag: str = ""
    hash: str = ""
    project: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    updated: str = ""
    credentials: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # name and project become folders (deploy, code cache): refuse "../x" at the door
        check_optional_name(self.name, "metadata.name")
        check_optional_name(self.project, "metadata.project")


@dataclass
class BuildSpec(Model):
    """``spec.build``: the image recipe and the embedded source code (base64)."""

    _schema_name = "build spec"
    function_source_code: str = alias("functionSourceCode", default="")
    source: str = ""
    image: str = ""
    base_image: str = ""
    commands: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    extra: str = ""
    extra_args: str = ""
    secret: str = ""
    registry: str = ""
    code_origin: str = ""
    origin_filename: str = ""
    with_mlrun: bool | None = None
    auto_build: bool | None = None
    build_pod: str = ""
    load_source_on_run: bool | None = None
    source_code_target_dir: str = ""
    no_base_images_pull: bool | None = alias("noBaseImagesPull", default=None)

    @property
    def code(self) -> str:
        """The embedded source code, decoded ("" when none)."""
        if not self.function_source_code:
            return ""
        return base64.b64decode(self.function_source_code).decode("utf-8")

    @code.setter
    def code(self, text: str) -> None:
        self.function_source_code = base64.b64encode(text.encode("utf-8")).decode("ascii")


@dataclass
class ParamDoc(Model):
    """One handler parameter in ``entry_points``; ``default`` absent means required."""

    _schema_name = "entry point parameter"
    name: str = ""
    type: str = ""
    doc: str = ""
    default: Any = NOTSET

    @property
    def required(self) -> bool:
        """True when the handler has no default for this parameter."""
        return self.default is NOTSET


@dataclass
class OutputDoc(Model):
    _schema_name = "entry point output"
    name: str = ""
    type: str = ""
    doc: str = ""
    default: Any = NOTSET


@dataclass
class EntryPoint(Model):
    """A handler in the function's code, documented from its signature and docstring."""

    _schema_name = "entry point"
    name: str = ""
    doc: str = ""
    parameters: list[ParamDoc] = field(default_factory=list)
    outputs: list[OutputDoc] = field(default_factory=list)
    lineno: int = -1
    has_varargs: bool = False
    has_kwargs: bool = False


@dataclass
class FunctionSpec(Model):
    """What every kind carries: the command or code, handler, image and build recipe."""

    _schema_name = "function spec"
    command: str = ""
    args: list[str] = field(default_factory=list)
    image: str = ""
    mode: str = ""
    build: BuildSpec = field(default_factory=BuildSpec)
    entry_points: dict[str, EntryPoint] = field(default_factory=dict)
    description: str = ""
    workdir: str = ""
    default_handler: str = ""
    pythonpath: str = ""
    disable_auto_mount: bool = False
    clone_target_dir: str = ""
    env: list[dict[str, Any]] = field(default_factory=list)
    # a serving graph run as a batch job (``srv.to_job()``): the serving function's document
    # without its code (the job carries the code); MLRun's form is the serving spec's JSON
    serving_spec: dict[str, Any] | str | None = None


@dataclass
class FunctionStatus(Model):
    """Written by fnrun (build and deploy state); tolerant of MLRun's extra status fields."""

    _schema_name = "function status"
    state: str = ""
    build_pod: str = ""
    address: str = ""
    nuclio_name: str = ""
    container_image: str = ""
    build_log: str = ""  # the last lines of the image build's log (fn.deploy())
    internal_invocation_urls: list[str] = field(default_factory=list)
    external_invocation_urls: list[str] = field(default_factory=list)
    scheduler_address: str = ""  # the dask kind: a running cluster's scheduler (MLRun's)
    cluster_name: str = ""
    node_ports: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
