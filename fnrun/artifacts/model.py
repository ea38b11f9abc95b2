"""ModelArtifact: a model file (or folder) plus ``model_spec.yaml`` with metrics and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from fnrun.artifacts.base import Artifact
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.execution.values import check_json
from fnrun.model.names import check_relative

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
        from fnrun.model.serialize import to_yaml

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
