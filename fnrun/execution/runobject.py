"""RunObject: what ``fn.run`` returns — the tracked run, refreshed from the run DB on demand."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from fnrun.errors import NotFoundError
from fnrun.model.serialize import to_json, to_yaml

if TYPE_CHECKING:
    from fnrun.datastore.dataitem import DataItem
    from fnrun.db.base import RunDB


class RunObject:
    """A run document with accessors: ``uid()``, ``state()``, ``outputs``, ``show()``..."""

    def __init__(self, run: dict[str, Any], db: RunDB | None = None) -> None:
        self._run = run
        self._db = db

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._run.get("metadata", {}))

    @property
    def status(self) -> dict[str, Any]:
        return dict(self._run.get("status", {}))

    def uid(self) -> str:
        return str(self._run["metadata"]["uid"])

    def state(self) -> str:
        return str(self._run.get("status", {}).get("state", ""))

    @property
    def error(self) -> str:
        return str(self._run.get("status", {}).get("error", ""))

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
        from fnrun.datastore.dataitem import get_dataitem

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

    def refresh(self) -> RunObject:
        if self._db is not None:
            meta = self._run["metadata"]
            self._run = self._db.read_run(
                meta["uid"], meta.get("project", ""), meta.get("iteration", 0)
            )
        return self

    def wait_for_completion(self) -> RunObject:
        """In-process runs are complete when ``run`` returns; this refreshes the state."""
        return self.refresh()

    def logs(self, watch: bool = False) -> str:
        """The captured stdout/stderr of the run (printed too when ``watch``)."""
        if self._db is None:
            return ""
        meta = self._run["metadata"]
        _, data = self._db.get_log(meta["uid"], meta.get("project", ""))
        text = data.decode("utf-8", errors="replace")
        if watch:
            sys.stdout.write(text)
        return text

    def to_dict(self) -> dict[str, Any]:
        return dict(self._run)

    def to_yaml(self) -> str:
        return to_yaml(self._run)

    def to_json(self) -> str:
        return to_json(self._run)

    def show(self) -> None:
        """Print the run as a table (rich in a terminal)."""
        from rich.console import Console
        from rich.table import Table

        meta, status = self._run["metadata"], self._run.get("status", {})
        table = Table("field", "value", title=f"run {meta.get('name')}", show_header=False)
        table.add_row("project", str(meta.get("project", "")))
        table.add_row("uid", self.uid())
        table.add_row("state", self.state())
        table.add_row("started", str(status.get("start_time", "")))
        table.add_row("params", _kv(self._run.get("spec", {}).get("parameters", {})))
        table.add_row("results", _kv(self.outputs))
        if meta.get("labels"):
            table.add_row("labels", _kv(meta["labels"]))
        if self.error:
            table.add_row("error", self.error)
        Console().print(table)

    def __repr__(self) -> str:
        return f"<RunObject {self.metadata.get('name')} uid={self.uid()[:8]} state={self.state()}>"


def _kv(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
