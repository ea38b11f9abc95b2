"""Stores by URL scheme: local files, ``memory://``, ``http(s)://`` (read) and any fsspec scheme.

Each store is a small object with byte-level operations; :class:`~fnrun.datastore.dataitem.DataItem`
builds everything else on them. ``register_store(scheme, factory)`` adds a scheme.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from fnrun.errors import FnrunError, InvalidArgumentError, NotFoundError
from fnrun.extras import FSSPEC_EXTRAS, require


class Store(Protocol):
    def get(self, path: str, size: int | None = None, offset: int = 0) -> bytes: ...
    def put(self, path: str, data: bytes, append: bool = False) -> None: ...
    def open(self, path: str, mode: str = "rb") -> IO[Any]: ...
    def listdir(self, path: str) -> list[str]: ...
    def stat(self, path: str) -> dict[str, Any]: ...
    def local(self, path: str) -> str | None: ...


class FileStore:
    """Paths on this machine (``/a/b``, ``file:///a/b``, relative paths)."""

    def get(self, path: str, size: int | None = None, offset: int = 0) -> bytes:
        with self.open(path) as f:
            f.seek(offset)
            return bytes(f.read() if size is None else f.read(size))

    def put(self, path: str, data: bytes, append: bool = False) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("ab" if append else "wb") as f:
            f.write(data)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if "r" in mode and not Path(path).exists():
            raise NotFoundError(f"file not found: {path}", field="url")
        if "w" in mode or "a" in mode:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, mode)

    def listdir(self, path: str) -> list[str]:
        folder = Path(path)
        if not folder.is_dir():
            raise NotFoundError(f"not a directory: {path}", field="url")
        return sorted(p.name for p in folder.iterdir())

    def stat(self, path: str) -> dict[str, Any]:
        p = Path(path)
        if not p.exists():
            raise NotFoundError(f"file not found: {path}", field="url")
        st = p.stat()
        return {"size": st.st_size, "modified": st.st_mtime, "is_dir": p.is_dir()}

    def local(self, path: str) -> str | None:
        return path

    def copy_from(self, src: str, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)


class MemoryStore:
    """A process-wide in-memory store (``memory://key``), for tests and mocks."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, path: str, size: int | None = None, offset: int = 0) -> bytes:
        if path not in self._data:
            raise NotFoundError(f"memory://{path} not found", field="url")
        data = self._data[path][offset:]
        return data if size is None else data[:size]

    def put(self, path: str, data: bytes, append: bool = False) -> None:
        with self._lock:
            self._data[path] = (self._data.get(path, b"") if append else b"") + data

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        import io

        if "r" in mode:
            raw = io.BytesIO(self.get(path))
            return raw if "b" in mode else io.TextIOWrapper(raw)
        raise InvalidArgumentError(
            "memory:// supports open() for reading only; use put()", field="mode"
        )

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/" if path else ""
        return sorted(
            {k[len(prefix) :].split("/", 1)[0] for k in self._data if k.startswith(prefix)}
        )

    def stat(self, path: str) -> dict[str, Any]:
        return {"size": len(self.get(path)), "modified": None, "is_dir": False}

    def local(self, path: str) -> str | None:
        return None


class HttpStore:
    """Read-only ``http(s)://`` URLs."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme

    def _url(self, path: str) -> str:
        return f"{self.scheme}://{path}"

    def get(self, path: str, size: int | None = None, offset: int = 0) -> bytes:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(self._url(path), timeout=60) as resp:
                data = bytes(resp.read())
        except urllib.error.HTTPError as exc:
            raise NotFoundError(
                f"cannot read {self._url(path)}: HTTP {exc.code}", field="url"
            ) from exc
        except urllib.error.URLError as exc:
            raise NotFoundError(
                f"cannot read {self._url(path)}: {exc.reason}", field="url"
            ) from exc
        data = data[offset:]
        return data if size is None else data[:size]

    def put(self, path: str, data: bytes, append: bool = False) -> None:
        raise InvalidArgumentError(
            f"{self.scheme}:// is read-only",
            field="url",
            hint="write to a file path, s3:// or another writable store",
        )

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        import io

        if "r" not in mode:
            self.put(path, b"")
        raw = io.BytesIO(self.get(path))
        return raw if "b" in mode else io.TextIOWrapper(raw)

    def listdir(self, path: str) -> list[str]:
        raise InvalidArgumentError("http(s) URLs cannot be listed", field="url")

    def stat(self, path: str) -> dict[str, Any]:
        return {"size": len(self.get(path)), "modified": None, "is_dir": False}

    def local(self, path: str) -> str | None:
        return None


class FsspecStore:
    """Any fsspec scheme whose package is installed (``s3://`` through s3fs, ``gs://``...)."""

    def __init__(self, scheme: str, options: dict[str, Any] | None = None) -> None:

        package, extra = FSSPEC_EXTRAS.get(scheme, ("fsspec", "data"))
        fsspec = require("fsspec", extra, f"{scheme}:// URLs", field="url")
        if package != "fsspec":
            require(package, extra, f"{scheme}:// URLs", field="url")
        try:
            self.fs = fsspec.filesystem(scheme, **(options or {}))
        except (ImportError, ValueError) as exc:
            raise FnrunError(
                f"no store for {scheme}:// ({exc})",
                field="url",
                hint=f"install the fsspec package for {scheme} (s3 -> s3fs)",
            ) from exc
        self.scheme = scheme

    def _full(self, path: str) -> str:
        return f"{self.scheme}://{path}"

    def get(self, path: str, size: int | None = None, offset: int = 0) -> bytes:
        with self.open(path) as f:
            f.seek(offset)
            return bytes(f.read() if size is None else f.read(size))

    def put(self, path: str, data: bytes, append: bool = False) -> None:
        if append and self.fs.exists(self._full(path)):
            data = self.get(path) + data
        self.fs.pipe_file(self._full(path), data)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if "r" in mode and not self.fs.exists(self._full(path)):
            raise NotFoundError(f"{self._full(path)} not found", field="url")
        return self.fs.open(self._full(path), mode)  # type: ignore[no-any-return]

    def listdir(self, path: str) -> list[str]:
        return sorted(
            p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self._full(path), detail=False)
        )

    def stat(self, path: str) -> dict[str, Any]:
        info = self.fs.info(self._full(path))
        return {
            "size": info.get("size"),
            "modified": info.get("LastModified") or info.get("mtime"),
            "is_dir": info.get("type") == "directory",
        }

    def local(self, path: str) -> str | None:
        return None

    def copy_from(self, src: str, path: str) -> None:
        self.fs.put_file(src, self._full(path))


StoreFactory = Callable[[str, dict[str, Any]], Any]
_FACTORIES: dict[str, StoreFactory] = {}
_memory = MemoryStore()
_file = FileStore()


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``scheme://`` URLs use ``factory(scheme, options)``."""
    _FACTORIES[scheme] = factory


def store_for(scheme: str, options: dict[str, Any] | None = None) -> Any:
    if scheme in ("", "file"):
        return _file
    if scheme == "memory":
        return _memory
    if scheme in ("http", "https"):
        return HttpStore(scheme)
    factory = _FACTORIES.get(scheme)
    if factory is not None:
        return factory(scheme, options or {})
    return FsspecStore(scheme, options)
