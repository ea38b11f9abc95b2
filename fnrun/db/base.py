"""The ``RunDB`` protocol: every run DB (embedded SQL, PostgreSQL, the HTTP service) has it.

Documents are plain dicts (``{kind, metadata, spec, status}``); the DB stores them as JSON.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Doc = dict[str, Any]


@runtime_checkable
class RunDB(Protocol):
    url: str

    # projects
    def store_project(self, name: str, project: Doc | None = None) -> None: ...
    def get_project(self, name: str) -> Doc: ...
    def list_projects(self) -> list[Doc]: ...
    def delete_project(self, name: str) -> None: ...

    # functions: versions by content hash, tags that point at hashes
    def store_function(
        self,
        function: Doc,
        name: str,
        project: str = "",
        tag: str = "latest",
        versioned: bool = True,
    ) -> str: ...
    def get_function(
        self, name: str, project: str = "", tag: str = "", hash_key: str = ""
    ) -> Doc: ...
    def list_functions(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]: ...
    def list_function_versions(self, name: str, project: str = "") -> list[Doc]: ...
    def tag_function(self, name: str, project: str, tag: str, hash_key: str) -> None: ...
    def delete_function(self, name: str, project: str = "") -> None: ...

    # runs (each iteration its own row)
    def store_run(self, run: Doc, uid: str, project: str = "", iter: int = 0) -> None: ...
    def update_run(
        self, updates: dict[str, Any], uid: str, project: str = "", iter: int = 0
    ) -> Doc: ...
    def read_run(self, uid: str, project: str = "", iter: int = 0) -> Doc: ...
    def list_runs(
        self,
        name: str | None = None,
        project: str | None = None,
        labels: dict[str, str] | None = None,
        state: str | None = None,
        uid: str | None = None,
        iter: bool = False,
        last: int = 0,
        offset: int = 0,
        sort: str = "",
    ) -> list[Doc]:
        """Runs newest first (``sort``: ``name``, ``state`` or ``start_time``, ``-`` before it
        for descending): ``last`` of them (0: all) after skipping ``offset`` (paging)."""

    def del_run(self, uid: str, project: str = "", iter: int | None = None) -> None:
        """One iteration, or (``iter=None``) the run, its iterations, log and artifact
        records."""

    # artifacts
    def store_artifact(
        self, key: str, artifact: Doc, uid: str, iter: int = 0, tag: str = "", project: str = ""
    ) -> None: ...
    def read_artifact(
        self,
        key: str,
        tag: str = "",
        iter: int | None = None,
        project: str = "",
        uid: str | None = None,
    ) -> Doc: ...
    def list_artifacts(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
        kind: str | None = None,
    ) -> list[Doc]: ...
    def del_artifact(self, key: str, project: str = "", tag: str | None = None) -> None: ...

    # logs
    def store_log(
        self, uid: str, project: str = "", body: bytes = b"", append: bool = True
    ) -> None: ...
    def get_log(
        self, uid: str, project: str = "", offset: int = 0, size: int = -1
    ) -> tuple[str, bytes]: ...

    # schedules (run by the service: fnrun.service.scheduler)
    def store_schedule(self, schedule: Doc, project: str = "") -> Doc: ...
    def get_schedule(self, name: str, project: str = "") -> Doc: ...
    def list_schedules(
        self,
        project: str | None = None,
        name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]: ...
    def delete_schedule(self, name: str, project: str = "") -> None: ...


def labels_match(have: dict[str, Any], want: dict[str, str] | None) -> bool:
    """Every wanted label is present with the same (string) value."""
    return not want or all(str(have.get(k)) == str(v) for k, v in want.items())
