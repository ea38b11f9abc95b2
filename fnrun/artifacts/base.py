"""Artifacts: files a run produces, tracked with their producer, labels and versions.

Each kind says how to turn itself into bytes (``get_body``) or files (``get_files``) and what
it adds to its spec (``spec_extra``); :mod:`fnrun.artifacts.manager` does the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class Artifact:
    """A file or blob: ``Artifact("report", body=b"...", format="html")``."""

    kind: ClassVar[str] = "artifact"

    def __init__(
        self,
        key: str = "",
        body: bytes | str | None = None,
        viewer: str = "",
        is_inline: bool = False,
        format: str = "",
        size: int | None = None,
        target_path: str = "",
        local_path: str = "",
        labels: dict[str, str] | None = None,
        description: str = "",
    ) -> None:
        self.key = key
        self.body = body
        self.viewer = viewer
        self.is_inline = is_inline
        self.format = format
        self.size = size
        self.target_path = target_path
        self.src_path = local_path
        self.labels: dict[str, str] = dict(labels or {})
        self.description = description

    @property
    def is_dir(self) -> bool:
        return False

    def suffix(self) -> str:
        if self.src_path:
            name = Path(self.src_path).name
            return name[name.index(".") :] if "." in name else ""
        return f".{self.format}" if self.format else ""

    def get_body(self) -> bytes | None:
        """The bytes to store, or None to upload ``src_path``."""
        if self.body is None:
            return None
        return self.body.encode("utf-8") if isinstance(self.body, str) else bytes(self.body)

    def get_files(self) -> dict[str, bytes]:
        """Files of a directory artifact, by relative name."""
        return {}

    def spec_extra(self) -> dict[str, Any]:
        return {}

    def status_extra(self) -> dict[str, Any]:
        """Fields for the document's ``status`` (a dataset's ``stats``, as MLRun 1.x)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r}>"


class DirArtifact(Artifact):
    """A whole local directory, uploaded file by file (or registered where it is, given only
    ``target_path``)."""

    kind: ClassVar[str] = "dir"

    @property
    def is_dir(self) -> bool:
        return True

    def suffix(self) -> str:
        return ""

    def get_files(self) -> dict[str, bytes]:
        # a folder already in place (MLRun's ``DirArtifact(target_path=...)``) is read there
        root = Path(self.src_path or self.target_path)
        if not root.is_dir():
            from fnrun.errors import NotFoundError

            raise NotFoundError(
                f"directory not found: {self.src_path or self.target_path}", field="local_path"
            )
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }


class LinkArtifact(Artifact):
    """A pointer to another artifact (or one of its iterations)."""

    kind: ClassVar[str] = "link"

    def __init__(
        self,
        key: str = "",
        target_path: str = "",
        link_iteration: int | None = None,
        link_key: str = "",
        link_tree: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(key, target_path=target_path, **kwargs)
        self.link_iteration = link_iteration
        self.link_key = link_key
        self.link_tree = link_tree

    def get_body(self) -> bytes | None:
        return None

    def spec_extra(self) -> dict[str, Any]:
        return {
            "link_iteration": self.link_iteration,
            "link_key": self.link_key,
            "link_tree": self.link_tree,
        }
