"""RunContext: what a handler sees of its run (params, secrets, results, labels, logs).

>>> ctx = RunContext(name="train", parameters={"p1": 2}, db=None)
>>> ctx.get_param("p1"), ctx.get_param("p2", 5)
(2, 5)
>>> ctx.log_result("accuracy", 0.9); ctx.results
{'accuracy': 0.9}
"""

from __future__ import annotations

import copy
import os
import threading
import time
import traceback
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from fnrun.artifacts.model import ModelArtifact, schema_of
from fnrun.artifacts.tabular import DatasetArtifact
from fnrun.clock import now_iso
from fnrun.datastore.dataitem import get_dataitem
from fnrun.db.monitor import this_executor
from fnrun.errors import InvalidArgumentError
from fnrun.execution.masking import Masker
from fnrun.execution.retry import fault_of_exception
from fnrun.execution.runlogger import run_logger
from fnrun.model.names import check_name, check_optional_name
from fnrun.model.serialize import to_json, to_yaml
from fnrun.model.values import check_json

if TYPE_CHECKING:
    from fnrun.datastore.dataitem import DataItem
    from fnrun.db.base import RunDB

STATES = ("created", "running", "completed", "error", "aborted")
WRITE_EVERY = 0.5  # seconds: how stale the stored copy of a running run may be


class RunContext:
    """The tracked state of one run (or one hyper-parameter iteration)."""

    def __init__(
        self,
        name: str = "",
        project: str = "",
        uid: str = "",
        iteration: int = 0,
        parameters: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        artifact_path: str = "",
        secrets: dict[str, str] | None = None,
        handler: str = "",
        function_uri: str = "",
        db: RunDB | None = None,
        watcher: dict[str, Any] | None = None,
    ) -> None:
        self.name = check_name(name or "run", "name")
        self.project = check_optional_name(project, "project")
        self.uid = uid or uuid.uuid4().hex
        self.iteration = iteration
        self._parameters = copy.deepcopy(parameters or {})
        self.inputs: dict[str, str] = dict(inputs or {})
        self.artifact_uris: dict[str, str] = {}
        self.labels: dict[str, str] = dict(labels or {})
        self.annotations: dict[str, str] = {}
        self.artifact_path = artifact_path
        self.handler = handler
        self.producer_kind = "run"  # what artifact documents name as their producer
        self.function_uri = function_uri
        self.function: Any = None  # the function object the run executes (this process only)
        self.results: dict[str, Any] = {}
        self.spec_extra: dict[str, Any] = {}
        self.status_extra: dict[str, Any] = {}
        self.state = "created"
        self.error = ""
        self.fault = ""  # whose fault the error is (fnrun.execution.retry)
        self.error_traceback = ""
        self.last_update = ""  # when the run was last written (status.last_update)
        self.start_time = now_iso()
        self._secrets = dict(secrets or {})
        self.masker = Masker(self._secrets)
        self._db = db
        self.executor = this_executor()
        self.watcher = watcher
        self._dirty = False
        self._last_commit = 0.0
        self._commit_lock = threading.Lock()  # the periodic writer and the run's own commits
        # False on the ranks of an MPI run other than rank 0: same code, nothing stored
        self.logging_worker = True
        self.logger = run_logger(self.name)

    # -- parameters and secrets --------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Any]:
        """A copy of the run's parameters (editing it changes nothing stored)."""
        return copy.deepcopy(self._parameters)

    def get_param(self, key: str, default: Any = None) -> Any:
        """The parameter ``key``, or ``default``; never writes the default into the run."""
        return copy.deepcopy(self._parameters.get(key, default))

    def get_secret(self, key: str) -> str | None:
        """A secret from the run's secret sources, else the environment; never logged."""
        if key in self._secrets:
            return self._secrets[key]
        return os.environ.get(key)

    def secret_values(self) -> dict[str, str]:
        """The run's own secrets, for a process of this run (never logged or stored)."""
        return dict(self._secrets)

    @property
    def db(self) -> RunDB | None:
        return self._db

    # -- inputs and data -----------------------------------------------------------------------
    def get_input(self, key: str, url: str = "") -> DataItem:
        """The input ``key`` as a DataItem (``url`` is used when the run has no such input)."""
        target = self.inputs.get(key) or url
        if not target:
            known = ", ".join(sorted(self.inputs)) or "none"
            raise InvalidArgumentError(
                f"the run has no input {key!r}",
                field=f"inputs.{key}",
                hint=f"pass inputs={{'{key}': url}}; inputs: {known}",
            )
        return self.get_dataitem(target, key)

    def get_dataitem(self, url: str, key: str = "") -> DataItem:

        return get_dataitem(url, key=key, db=self._db)

    # -- artifacts -----------------------------------------------------------------------------
    def log_artifact(
        self,
        item: Any,
        body: bytes | str | None = None,
        local_path: str = "",
        artifact_path: str = "",
        tag: str = "",
        target_path: str = "",
        labels: dict[str, str] | None = None,
        format: str = "",
        viewer: str = "",
        upload: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Store a file or Artifact at ``<artifact_path>/<run>/<uid>/<iter>/<key><suffix>``.
        ``db_key`` (MLRun's): the key to register it under instead of its own."""
        from fnrun.artifacts.manager import log_artifact

        if kwargs.get("db_key") and not isinstance(item, str):
            item.key = str(kwargs["db_key"])
        elif kwargs.get("db_key"):
            item = str(kwargs["db_key"])
        return log_artifact(
            self,
            item,
            body=body,
            local_path=local_path,
            artifact_path=artifact_path,
            tag=tag,
            target_path=target_path,
            labels=labels,
            format=format,
            viewer=viewer,
            upload=upload,
            description=kwargs.get("description", ""),
        )

    def log_dataset(
        self,
        key: str,
        df: Any = None,
        tag: str = "",
        local_path: str = "",
        artifact_path: str = "",
        upload: bool = True,
        labels: dict[str, str] | None = None,
        format: str = "",
        preview: int = 20,
        stats: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Store a DataFrame (parquet by default, or csv) with schema, preview and stats;
        MLRun's ``index=`` (write the index; by default only one that carries data),
        ``extra_data=`` and ``db_key=`` are taken."""

        if not format and local_path:
            format = "csv" if local_path.endswith(".csv") else "parquet"
        target_path = str(kwargs.get("target_path") or "")
        if df is None and target_path:  # MLRun's: register data already written there
            item = DatasetArtifact(
                key, target_path=target_path, format=format, labels=labels, stats=False
            )
            return self.log_artifact(item, tag=tag, upload=False, db_key=kwargs.get("db_key"))
        item = DatasetArtifact(
            key,
            df=df,
            preview=preview,
            format=format,
            stats=stats,
            labels=labels,
            description=kwargs.get("description", ""),
            extra_data=kwargs.get("extra_data"),
            index=kwargs.get("index"),
        )
        return self.log_artifact(
            item, artifact_path=artifact_path, tag=tag, upload=upload, db_key=kwargs.get("db_key")
        )

    def log_model(
        self,
        key: str,
        body: bytes | None = None,
        model_file: str = "",
        metrics: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        inputs: list[dict[str, Any]] | None = None,
        outputs: list[dict[str, Any]] | None = None,
        framework: str = "",
        algorithm: str = "",
        model_dir: str = "",
        extra_data: dict[str, bytes | str] | None = None,
        tag: str = "",
        labels: dict[str, str] | None = None,
        artifact_path: str = "",
        training_set: Any = None,
        label_column: str | list[str] | None = None,
        target_path: str = "",
        **kwargs: Any,
    ) -> Any:
        """Store a model folder: the model file, extra files and ``model_spec.yaml``. As
        MLRun's: ``training_set`` (a DataFrame) with ``label_column`` gives the model's
        ``inputs`` (features, with their value types) and ``outputs`` (the labels) when they are
        not given; ``target_path`` is the folder ``model_file`` is in. The files are always
        copied under the run (so ``upload=False`` changes nothing); other MLRun options are
        noted in the run's log as not used."""
        if training_set is not None and not (inputs and outputs):
            found_in, found_out = schema_of(training_set, label_column)
            inputs, outputs = inputs or found_in, outputs or found_out
        if target_path and model_file and not Path(model_file).is_absolute():
            model_file = str(Path(target_path) / model_file)
        unused = sorted(k for k in kwargs if k != "upload")
        if unused:
            self.logger.warning(f"log_model {key!r}: not used by fnrun: {', '.join(unused)}")
        item = ModelArtifact(
            key,
            body=body,
            model_file=model_file,
            model_dir=model_dir,
            metrics=metrics,
            parameters=parameters,
            inputs=inputs,
            outputs=outputs,
            framework=framework,
            algorithm=algorithm,
            extra_data=extra_data,
            labels=labels,
        )
        return self.log_artifact(item, artifact_path=artifact_path, tag=tag)

    # -- results and metadata ----------------------------------------------------------------
    def log_result(self, key: str, value: Any, commit: bool = False) -> None:
        """Record one result; numpy values become plain values; must be JSON-serialisable."""
        self._set_result(key, value)
        self.changed(commit)

    def log_results(self, results: dict[str, Any], commit: bool = False) -> None:
        for key, value in results.items():
            self._set_result(key, value)
        self.changed(commit)

    def _set_result(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError("a result needs a non-empty string key", field="key")
        self.results[key] = check_json(value, f"results.{key}")

    def set_label(self, key: str, value: Any, replace: bool = True) -> None:
        if replace or key not in self.labels:
            self.labels[key] = str(value)
            self.changed()

    def set_annotation(self, key: str, value: Any, replace: bool = True) -> None:
        if replace or key not in self.annotations:
            self.annotations[key] = str(value)
            self.changed()

    def changed(self, commit: bool = False) -> None:
        """Note a change to the run. A running run writes it at once when its last write is
        :data:`WRITE_EVERY` seconds old, else the periodic flush of its log capture writes it
        within a second (batched), so a crash keeps what was logged before it."""
        self._dirty = True
        if commit or (
            self.state == "running" and time.monotonic() - self._last_commit >= WRITE_EVERY
        ):
            self.commit()

    def flush_if_dirty(self) -> None:
        """Write pending changes of a running run (called periodically while it runs)."""
        if self._dirty and self.state == "running":
            self.commit()

    def set_state(self, state: str = "", error: str = "", commit: bool = True) -> None:
        """Set the state (``error`` given alone implies ``error``)."""
        state = state or ("error" if error else self.state)
        if state not in STATES:
            raise InvalidArgumentError(
                f"unknown run state {state!r}",
                field="state",
                hint="use one of " + ", ".join(STATES),
            )
        self.state = state
        if error:
            self.error = str(error)
        if commit:
            self.commit()

    def mark_error(self, exc: BaseException) -> None:
        self.error = self.redact(f"{type(exc).__name__}: {exc}")
        self.error_traceback = self.redact("".join(traceback.format_exception(exc)))
        self.state = "aborted" if isinstance(exc, KeyboardInterrupt) else "error"
        self.fault = fault_of_exception(exc)

    def redact(self, text: str) -> str:
        """``text`` with every secret value of this run masked, for logs and errors."""
        return self.masker.text(text)

    # -- persistence -------------------------------------------------------------------------
    def commit(self, message: str = "", completed: bool = False) -> None:
        """Write the run to the run DB (``completed=True`` also marks it completed)."""
        if completed and self.state not in ("error", "aborted"):
            self.state = "completed"
        if message:
            self.annotations["message"] = message
        with self._commit_lock:  # snapshot and write in one step: writes land in order
            self._dirty = False
            self._last_commit = time.monotonic()
            self.last_update = now_iso()  # MLRun's status.last_update: the run's end, once over
            if self._db is not None and self.logging_worker:
                self._db.store_run(self.to_dict(), self.uid, self.project, self.iteration)

    def is_logging_worker(self) -> bool:
        """Whether this process stores the run (as MLRun): True except on the MPI ranks other
        than rank 0, whose results, artifacts and log writes are skipped (their output reaches
        the run's log through mpirun, prefixed by rank)."""
        return self.logging_worker

    def to_dict(self) -> dict[str, Any]:
        """The run document, secret values masked wherever a handler put them."""
        status: dict[str, Any] = {
            "state": self.state,
            "start_time": self.start_time,
            "results": dict(self.results),
            "artifact_uris": dict(self.artifact_uris),
            "executor": dict(self.executor),
            **self.status_extra,
        }
        if self.last_update:
            status["last_update"] = self.last_update
        if self.watcher:
            status["watcher"] = dict(self.watcher)
        if self.error:
            status["error"] = self.error
            if self.fault and self.state == "error":
                status["fault"] = self.fault
        if self.error_traceback:
            status["traceback"] = self.error_traceback
        return self.masker.doc(  # type: ignore[no-any-return]
            {
                "kind": "run",
                "metadata": {
                    "name": self.name,
                    "uid": self.uid,
                    "project": self.project,
                    "iteration": self.iteration,
                    "labels": dict(self.labels),
                    "annotations": dict(self.annotations),
                },
                "spec": {
                    "function": self.function_uri,
                    "handler": self.handler,
                    "parameters": self.parameters,
                    "inputs": dict(self.inputs),
                    "output_path": self.artifact_path,
                    "secret_sources": [{"kind": "inline", "keys": sorted(self._secrets)}]
                    if self._secrets
                    else [],
                    **self.spec_extra,
                },
                "status": status,
            }
        )

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())

    def to_json(self) -> str:
        return to_json(self.to_dict())

    # -- with-statement: an exception marks the run `error` and propagates ---------------------
    def __enter__(self) -> Self:
        if self.state == "created":
            self.state = "running"
            self.commit()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.mark_error(exc)
            self.commit()
        else:
            self.commit(completed=True)

    def __repr__(self) -> str:
        return f"<RunContext {self.project}/{self.name} uid={self.uid[:8]} state={self.state}>"
