"""DataItem: one piece of data behind a URL, with the same verbs for every store.

>>> item = get_dataitem("memory://demo/hello.txt")
>>> item.put("hi"); item.get(encoding="utf-8")
'hi'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fnrun.datastore.integrity import check_bytes, check_local
from fnrun.datastore.stores import store_for
from fnrun.errors import InvalidArgumentError
from fnrun.model.docview import DocView

if TYPE_CHECKING:
    from fnrun.db.base import RunDB


def split_url(url: str) -> tuple[str, str]:
    """(scheme, path-after-scheme); a bare path has scheme ``""``."""
    if "://" not in url:
        return "", url
    scheme, rest = url.split("://", 1)
    if scheme == "file":
        return "", rest
    return scheme, rest


class DataItem:
    """Data at ``url`` (a path, ``file://``, ``memory://``, ``http(s)://``, ``store://``, ``s3://``...).

    ``meta`` is the artifact document when the item came from a ``store://`` URI (read by key
    or, as MLRun's artifact object, by attribute: ``item.meta.kind``); reads of
    such an item check the data against the hashes the artifact recorded
    (:mod:`fnrun.datastore.integrity`).
    """

    def __init__(
        self,
        key: str,
        url: str,
        meta: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._local_copy: str | None = None
        self._verified = meta is None
        self.key = key
        self._url = url
        self.meta: DocView | None = DocView(meta) if meta is not None else None
        scheme, self._path = split_url(url)
        self._scheme = scheme
        self._store = store_for(scheme, options)

    @property
    def url(self) -> str:
        return self._url

    @property
    def artifact_url(self) -> str:
        """The ``store://`` URI when the item is an artifact, else its URL."""
        return str(self.meta.get("uri") if self.meta else "") or self._url

    @property
    def suffix(self) -> str:
        name = Path(self._path).name
        if name.endswith((".tar.gz", ".csv.gz")):
            return "." + ".".join(name.split(".")[-2:])
        return Path(name).suffix

    @property
    def kind(self) -> str:
        return self._scheme or "file"

    def get(self, size: int | None = None, offset: int = 0, encoding: str | None = None) -> Any:
        """The bytes (or text, with ``encoding``)."""
        data = self._store.get(self._path, size=size, offset=offset)
        if not self._verified and size is None and offset == 0:
            check_bytes(self.meta or {}, data)
            self._verified = True
        return data.decode(encoding) if encoding else data

    def put(self, data: bytes | str, append: bool = False) -> None:
        self._store.put(self._path, data.encode("utf-8") if isinstance(data, str) else data, append)

    def open(self, mode: str = "rb") -> IO[Any]:
        if "r" in mode:
            self._verify_local()
        return self._store.open(self._path, mode)  # type: ignore[no-any-return]

    def listdir(self) -> list[str]:
        return list(self._store.listdir(self._path))

    def stat(self) -> dict[str, Any]:
        return dict(self._store.stat(self._path))

    def local(self) -> str:
        """A local file path with the data (downloaded to a temp file for remote stores)."""
        path = self._store.local(self._path)
        if path is not None:
            self._verify_local()
            return str(path)
        if self._local_copy is None:
            fd, tmp = tempfile.mkstemp(suffix=self.suffix, prefix="fnrun-")
            with os.fdopen(fd, "wb") as f:
                f.write(self.get())
            self._local_copy = tmp
        return self._local_copy

    def _verify_local(self) -> None:
        """Check a local file (or folder) artifact once against its recorded hashes."""
        if self._verified:
            return
        path = self._store.local(self._path)
        if path is None:
            return  # remote: checked when the whole body is read (get)
        if Path(path).exists():
            check_local(self.meta or {}, str(path))
        self._verified = True

    def download(self, target_path: str) -> None:
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        Path(target_path).write_bytes(self.get())

    def upload(self, src_path: str) -> None:
        copy_from = getattr(self._store, "copy_from", None)
        if copy_from is not None:
            copy_from(src_path, self._path)
        else:
            self.put(Path(src_path).read_bytes())

    def as_df(
        self,
        columns: list[str] | None = None,
        df_module: Any = None,
        format: str = "",
        **kwargs: Any,
    ) -> Any:
        """A pandas DataFrame from csv, parquet, json or a directory of parquet files."""
        from fnrun.datastore.frames import read_df

        return read_df(self, columns=columns, format=format, **kwargs)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"DataItem(key={self.key!r}, url={self._url!r})"

    def __del__(self) -> None:
        if self._local_copy:
            with contextlib.suppress(OSError):
                os.remove(self._local_copy)


def get_dataitem(
    url: str, key: str = "", db: RunDB | None = None, options: dict[str, Any] | None = None
) -> DataItem:
    """The DataItem for ``url``; ``store://`` URIs resolve through the run DB to the artifact."""
    if not isinstance(url, str) or not url:
        raise InvalidArgumentError(
            f"invalid data URL {url!r}",
            field="url",
            hint="give a path, file://, memory://, http(s)://, s3:// or store://",
        )
    if url.startswith("store://"):
        from fnrun.datastore.store_uri import resolve_store_uri

        meta = resolve_store_uri(url, db)
        target = meta.get("spec", {}).get("target_path", "")
        meta = {**meta, "uri": url}
        return DataItem(key or meta["metadata"].get("key", ""), target, meta=meta, options=options)
    return DataItem(key or Path(split_url(url)[1]).name, url, options=options)
