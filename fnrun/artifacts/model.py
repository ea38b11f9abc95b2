"""ModelArtifact: a model file (or folder) plus ``model_spec.yaml`` with metrics and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from fnrun.artifacts.base import Artifact
from fnrun.datastore.dataitem import DataItem, get_dataitem
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.docview import DocView
from fnrun.model.names import check_relative
from fnrun.model.serialize import from_yaml, to_yaml
from fnrun.model.values import check_json

MODEL_SPEC = "model_spec.yaml"


class ModelArtifact(Artifact):
    """A model stored as a folder: the model file, extra files and ``model_spec.yaml``."""

    kind: ClassVar[str] = "model"

    def __init__(
        self,
        key: str = "",
        body: bytes | None = None,
        model_file: str = "",
        model_dir: str = "",
        metrics: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        inputs: list[dict[str, Any]] | None = None,
        outputs: list[dict[str, Any]] | None = None,
        framework: str = "",
        algorithm: str = "",
        extra_data: dict[str, bytes | str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(key, body=body, **kwargs)
        if body is None and not model_file and not model_dir:
            raise InvalidArgumentError(
                "a model needs body=, model_file= or model_dir=", field="model_file"
            )
        self.model_file = model_file
        self.model_dir = model_dir
        self.metrics = {k: check_json(v, f"metrics.{k}") for k, v in (metrics or {}).items()}
        self.parameters = {
            k: check_json(v, f"parameters.{k}") for k, v in (parameters or {}).items()
        }
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self.framework = framework
        self.algorithm = algorithm
        self.extra_data = {
            check_relative(k, f"extra_data.{k}"): v for k, v in (extra_data or {}).items()
        }

    @property
    def is_dir(self) -> bool:
        return True

    def suffix(self) -> str:
        return ""

    def _file_name(self) -> str:
        return Path(self.model_file).name if self.model_file else f"{self.key}.pkl"

    def get_files(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        if self.model_dir:
            root = Path(self.model_dir)
            if not root.is_dir():
                raise NotFoundError(f"model_dir not found: {self.model_dir}", field="model_dir")
            files.update(
                {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
            )
        if self.body is not None:
            files[self._file_name()] = self.get_body() or b""
        elif self.model_file:
            path = Path(self.model_file)
            if not path.is_file():
                raise NotFoundError(f"model_file not found: {self.model_file}", field="model_file")
            files[path.name] = path.read_bytes()
        for name, data in self.extra_data.items():
            files[name] = data.encode("utf-8") if isinstance(data, str) else data

        files[MODEL_SPEC] = to_yaml(
            {"kind": self.kind, "key": self.key, **self.spec_extra()}
        ).encode()
        return files

    def spec_extra(self) -> dict[str, Any]:
        return {
            "model_file": self._file_name() if (self.model_file or self.body is not None) else "",
            "metrics": self.metrics,
            "parameters": self.parameters,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "framework": self.framework,
            "algorithm": self.algorithm,
            "extra_data": sorted(self.extra_data),
        }


def get_model(uri: Any, suffix: str = "") -> tuple[str, Any, dict[str, Any]]:
    """``(model file, model artifact, extra data)`` for a model (MLRun's
    ``mlrun.artifacts.get_model``): ``uri`` is a ``store://models/...`` URI, a model folder
    (with ``model_spec.yaml``), a file, or a DataItem of one of them. The artifact is its
    document, read by attribute too (``artifact.spec.metrics``; None for a plain path); the
    extra data are DataItems by name.

    >>> path, artifact, extra = get_model(run.outputs["model"])          # doctest: +SKIP
    """

    item = uri if isinstance(uri, DataItem) else get_dataitem(str(uri))
    doc = DocView(item.meta) if item.meta else None
    spec: dict[str, Any] = dict(doc.get("spec", {})) if doc else {}
    local = Path(item.local())
    if not local.is_dir():
        return str(local), doc, {}
    model_spec = read_model_spec(local)
    model_file = spec.get("model_file") or model_spec.get("model_file", "")
    candidates = [local / model_file] if model_file else sorted(local.glob(f"*{suffix}"))
    files = [p for p in candidates if p.is_file() and p.name != MODEL_SPEC]
    if not files:
        raise NotFoundError(
            f"no model file{' *' + suffix if suffix else ''} in {uri}",
            field="model_path",
            hint="log the model with model_file= (or pass suffix= matching its file)",
        )
    names = spec.get("extra_data") or model_spec.get("extra_data") or []
    extra = {str(n): get_dataitem(str(local / str(n))) for n in names if (local / str(n)).is_file()}
    for name, ref in (spec.get("extra_data_refs") or {}).items():  # logged artifacts, by URI
        extra[str(name)] = get_dataitem(str(ref))
    return str(files[0]), doc, extra


def read_model_spec(folder: Path) -> dict[str, Any]:
    """The folder's ``model_spec.yaml`` (model file, metrics, schema, extra data), or {}."""
    path = folder / MODEL_SPEC
    if not path.is_file():
        return {}

    data = from_yaml(path.read_text())
    return data if isinstance(data, dict) else {}


def schema_of(
    frame: Any, label_column: str | list[str] | None
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(inputs, outputs) of a model trained on ``frame`` (a DataFrame): each column as
    ``{"name", "value_type"}``, the ``label_column`` ones as outputs (MLRun's model schema)."""
    columns = getattr(frame, "columns", None)
    dtypes = getattr(frame, "dtypes", None)
    if columns is None or dtypes is None:
        raise InvalidArgumentError(
            f"training_set must be a DataFrame, got {type(frame).__name__}", field="training_set"
        )
    labels = [label_column] if isinstance(label_column, str) else list(label_column or [])
    missing = [c for c in labels if c not in columns]
    if missing:
        raise InvalidArgumentError(
            f"label_column {missing} is not a column of the training set",
            field="label_column",
            hint=f"columns: {', '.join(map(str, columns))}",
        )
    fields = [{"name": str(c), "value_type": _value_type(dtypes[c])} for c in columns]
    inputs = [f for f in fields if f["name"] not in labels]
    outputs = [f for f in fields if f["name"] in labels]
    return inputs, outputs


def _value_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"f": "float", "i": "int", "u": "int", "b": "bool", "M": "datetime"}.get(kind, "str")
