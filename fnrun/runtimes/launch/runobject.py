"""RunObject: what ``fn.run`` returns — the tracked run, refreshed from the run DB on demand."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from fnrun.datastore.dataitem import get_dataitem
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.docview import DocView
from fnrun.model.serialize import to_json, to_yaml
from fnrun.notebook import in_notebook

FINAL_STATES = ("completed", "error", "aborted")

if TYPE_CHECKING:
    from fnrun.datastore.dataitem import DataItem
    from fnrun.db.base import RunDB


class Section(DocView):
    """A part of the run document (``metadata``, ``spec``, ``status``) read as a dict or by
    attribute, as MLRun's objects: ``run.status.state``, ``run.spec.parameters``. A field the
    document does not hold reads as its empty value (``results`` -> ``{}``, ``error`` -> None)."""


class _Metadata(Section):
    _defaults = {"labels": dict, "annotations": dict, "iteration": lambda: 0}


class _Spec(Section):
    _defaults = {"parameters": dict, "inputs": dict, "hyperparams": dict, "handler": str}


class _Status(Section):
    """The status; ``artifacts`` (the artifact documents) is read from the DB when asked."""

    def __getattr__(self, key: str) -> Any:
        if key == "artifacts" and "artifacts" not in self:
            loader = self.__dict__.get("load_artifacts")
            if loader is not None and self.get("artifact_uris"):
                self["artifacts"] = loader(self["artifact_uris"])
        return super().__getattr__(key)

    _defaults = {
        "results": dict,
        "artifact_uris": dict,
        "artifacts": list,
        "iterations": list,
        "state": str,
    }


class RunObject:
    """A run document with accessors: ``uid()``, ``state()``, ``outputs``, ``show()``..., and
    MLRun's attribute paths (``run.status.results``, ``run.metadata.uid``,
    ``run.spec.parameters``), the same whether the run was in this process, in a child process
    or read back from the DB."""

    def __init__(self, run: dict[str, Any], db: RunDB | None = None) -> None:
        self._run = run
        self._db = db

    @property
    def metadata(self) -> Section:
        return _Metadata(self._run.get("metadata", {}))

    @property
    def spec(self) -> Section:
        return _Spec(self._run.get("spec", {}))

    @property
    def status(self) -> Section:
        """The status; ``status.artifacts`` lists the run's artifact documents."""
        status = _Status(self._run.get("status", {}))
        status.__dict__["load_artifacts"] = self._artifact_docs  # only when .artifacts is read
        return status

    def _artifact_docs(self, uris: dict[str, str]) -> list[dict[str, Any]]:
        if self._db is None:
            return [{"key": key, "uri": uri} for key, uri in uris.items()]

        return [
            dict(get_dataitem(uri, key=key, db=self._db).meta or {}) for key, uri in uris.items()
        ]

    def uid(self) -> str:
        return str(self._run["metadata"]["uid"])

    def state(self) -> str:
        return str(self._run.get("status", {}).get("state", ""))

    @property
    def error(self) -> str:
        """The error message ("" when the run did not fail)."""
        return str(self._run.get("status", {}).get("error", "") or "")

    @property
    def outputs(self) -> dict[str, Any]:
        """Results and artifact ``store://`` URIs by key."""
        status = self._run.get("status", {})
        return {**status.get("results", {}), **status.get("artifact_uris", {})}

    def artifact(self, key: str) -> DataItem:
        """The artifact ``key`` of this run as a DataItem (``.meta`` holds its document)."""
        uris = self._run.get("status", {}).get("artifact_uris", {})
        if key not in uris:
            raise NotFoundError(
                f"run {self.uid()} has no artifact {key!r}",
                field="key",
                hint=f"artifacts: {', '.join(sorted(uris)) or 'none'}",
            )

        return get_dataitem(uris[key], key=key, db=self._db)

    def output(self, key: str) -> Any:
        outputs = self.outputs
        if key not in outputs:
            raise NotFoundError(
                f"run {self.uid()} has no output {key!r}",
                field="key",
                hint=f"outputs: {', '.join(sorted(outputs)) or 'none'}",
            )
        return outputs[key]

    def abort(self) -> RunObject:
        """Stop the run wherever it executes (its Kubernetes Job deleted, its process sent
        SIGTERM) and mark it ``aborted`` (as MLRun's ``run.abort()``)."""
        from fnrun.runtimes.launch.abort import abort_run  # the placements know where runs are

        if self._db is None:
            raise InvalidArgumentError("this run has no run DB to abort it through")
        meta = self._run["metadata"]
        self._run = abort_run(
            self._db, meta["uid"], meta.get("project", ""), meta.get("iteration", 0)
        )
        return self

    def refresh(self) -> RunObject:
        if self._db is not None:
            meta = self._run["metadata"]
            self._run = self._db.read_run(
                meta["uid"], meta.get("project", ""), meta.get("iteration", 0)
            )
        return self

    def wait_for_completion(
        self,
        sleep: float = 0.5,
        timeout: float = 0,
        raise_on_failure: bool = True,
        show_logs: bool | None = None,
    ) -> RunObject:
        """Wait until the run reaches a final state (completed, error, aborted), checking every
        ``sleep`` seconds, at most ``timeout`` seconds (0: no limit); ``show_logs`` prints its
        output as it comes. A run that did not complete raises :class:`~fnrun.errors.RunError`
        unless ``raise_on_failure=False`` (as MLRun's)."""
        deadline = time.monotonic() + timeout if timeout else None
        if show_logs:
            self.logs(watch=True, poll=sleep, timeout=timeout)
        while self.refresh().state() not in FINAL_STATES:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.uid()} still {self.state()} after {timeout} s")
            time.sleep(sleep)
        from fnrun.runtimes.launch.background import join_keeper

        left = max(0.0, deadline - time.monotonic()) if deadline is not None else None
        join_keeper(self.uid(), left)  # what this process still records of its end
        self.refresh()
        if raise_on_failure and self.state() != "completed":
            from fnrun.errors import RunError

            raise RunError(
                f"run {self.metadata.name} ({self.uid()}) did not complete "
                f"(state={self.state()}): {self.error}",
                run=self,
                hint=f"see the logs: fnrun logs {self.uid()[:12]}",
            )
        return self

    def logs(self, watch: bool = False, poll: float = 0.5, timeout: float = 0) -> str:
        """The captured stdout/stderr so far; ``watch`` prints it as the run goes, to the end
        (or for ``timeout`` seconds, 0: no limit)."""
        if self._db is None:
            return ""
        meta = self._run["metadata"]
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            state, data = self._db.get_log(
                meta["uid"], meta.get("project", ""), offset=sum(map(len, chunks))
            )
            if data:
                chunks.append(data)
                if watch:
                    sys.stdout.write(data.decode("utf-8", errors="replace"))
                    sys.stdout.flush()
            if not watch or state in FINAL_STATES or not state:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(poll)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        return dict(self._run)

    def to_yaml(self) -> str:
        return to_yaml(self._run)

    def to_json(self) -> str:
        return to_json(self._run)

    def _rows(self) -> list[tuple[str, str]]:
        meta, status = self._run["metadata"], self._run.get("status", {})
        rows = [
            ("project", str(meta.get("project", ""))),
            ("uid", self.uid()),
            ("iteration", str(meta.get("iteration", 0))),
            (
                "state",
                self.state() + (f" ({status['status_text']})" if status.get("status_text") else ""),
            ),
            ("started", str(status.get("start_time", ""))),
            ("params", _kv(self._run.get("spec", {}).get("parameters", {}))),
            ("results", _kv(status.get("results", {}))),
            ("artifacts", _kv(status.get("artifact_uris", {}))),
        ]
        if status.get("best_iteration"):
            rows.append(("best iteration", str(status["best_iteration"])))
        if meta.get("labels"):
            rows.append(("labels", _kv(meta["labels"])))
        if self.error:
            rows.append(("error", self.error))
        for failed in status.get("iteration_errors") or []:
            rows.append((f"iteration {failed.get('iter', '')}", str(failed.get("error", ""))))
        if self.ui_url:
            rows.append(("web UI", self.ui_url))
        return rows

    @property
    def ui_url(self) -> str:
        """The run's page in the fnrun service's web UI ("" when the run DB is no service)."""
        url = str(getattr(self._db, "url", "") or "")
        if not url.startswith(("http://", "https://")):
            return ""
        from urllib.parse import quote

        project = quote(str(self.metadata.get("project", "")), safe="")
        return f"{url.rstrip('/')}/ui/projects/{project}/runs/{quote(self.uid(), safe='')}"

    def show(self) -> None:
        """Show the run: an HTML table in a notebook, a rich table in a terminal."""

        if in_notebook():
            from IPython.display import HTML, display

            display(HTML(self._repr_html_()))  # type: ignore[no-untyped-call]
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"run {self.metadata.get('name')}", show_header=False)
        table.add_column("field")
        table.add_column("value", overflow="fold")  # a uid or store:// URI wraps, never cut

        for key, value in self._rows():  # a run's words are text, never Rich markup
            table.add_row(escape(key), escape(value))
        Console().print(table)

    def _repr_html_(self) -> str:
        """The run as an HTML card (Jupyter shows this instead of the text table)."""
        from fnrun.notebook.run_card import run_card

        return run_card(self, ui_url=self.ui_url)

    def __repr__(self) -> str:
        return f"<RunObject {self.metadata.get('name')} uid={self.uid()[:8]} state={self.state()}>"


def _kv(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
