"""An artifact's body for ``GET /api/v1/artifacts/{key}/download``, never from outside the store.

- a body kept inline in the artifact document is answered as is;
- a local target (a path or ``file://``) must resolve, links followed, inside one of the
  service's artifact roots (``--artifact-root``, default the service's artifact path):
  anything else is refused with 403, so a crafted ``target_path`` (``/etc/passwd``,
  ``../../``) or a link planted in the store cannot read the host's files. A directory
  artifact (a model folder) answers one file by ``path=``, which must stay inside it;
- an object-store target (``s3://``, ``gs://``, ``az://``, ``memory://``) is read through the
  datastore with the service's credentials; web URLs are refused (the service would fetch
  whatever a client recorded).

The bytes are checked against the hash the artifact recorded, when it recorded one.

The web UI's previews read through the same guard (:func:`preview_bytes`), bounded in bytes
and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fnrun.datastore.dataitem import get_dataitem, split_url
from fnrun.errors import AccessError, InvalidArgumentError, NotFoundError
from fnrun.model.names import check_relative, join_under

_OBJECT_STORES = ("s3", "gs", "gcs", "az", "abfs", "memory")
# what a browser may draw inline from our origin: passive pictures and text (as text/plain,
# so no JSON or CSV is ever sniffed into something active); HTML and SVG only sandboxed
_PASSIVE = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp"}  # fmt: skip
_TEXT = (".txt", ".csv", ".tsv", ".json", ".log", ".md", ".yaml", ".yml", ".ndjson")
# an artifact's own page: no script, an origin of its own, nothing loaded but inline pictures
_ARTIFACT_CSP = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                 "frame-ancestors 'self'")  # fmt: skip
_SANDBOXED = {".html": "text/html", ".htm": "text/html", ".svg": "image/svg+xml"}


def answer_headers(filename: str, inline: bool) -> tuple[str, dict[str, str]]:
    """The media type and headers of a download: ``inline`` answers only passive types
    (pictures but SVG; text, CSV and JSON as ``text/plain``) and HTML/SVG under
    ``Content-Security-Policy: sandbox``; everything else (JavaScript included) is an
    attachment of ``application/octet-stream``. Every answer is ``nosniff``."""
    from urllib.parse import quote

    suffix = PurePosixPath(filename.lower()).suffix
    media, disposition = "application/octet-stream", "attachment"
    if inline and suffix in _PASSIVE:
        media, disposition = _PASSIVE[suffix], "inline"
    elif inline and suffix in _TEXT:
        media, disposition = "text/plain; charset=utf-8", "inline"
    elif inline and suffix in _SANDBOXED:
        media, disposition = _SANDBOXED[suffix], "inline"
    headers = {
        "x-content-type-options": "nosniff",
        "content-security-policy": _ARTIFACT_CSP,
        "content-disposition": f'{disposition}; filename="{quote(filename)}"',
    }
    return media, headers


@dataclass
class Body:
    """What to send: a local file (``path``) or bytes (``data``), and a file name."""

    filename: str
    path: Path | None = None
    data: bytes = b""


PREVIEW_TIMEOUT = 2.0  # seconds an object-store read for a preview may take
_preview_pool: Any = None


def preview_bytes(
    doc: dict[str, Any], roots: list[Path], limit: int, timeout: float = PREVIEW_TIMEOUT
) -> bytes:
    """At most ``limit`` bytes of an artifact's body for a preview, read by the download
    rules (so a page shows nothing the download route refuses), within ``timeout``."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as Late

    global _preview_pool
    if _preview_pool is None:  # a few threads: a store that hangs cannot pile them up
        _preview_pool = ThreadPoolExecutor(4, thread_name_prefix="fnrun-preview")
    future = _preview_pool.submit(_bounded, doc, roots, limit)
    try:
        return bytes(future.result(timeout=timeout))
    except Late:
        future.cancel()
        raise TimeoutError(f"the artifact's store did not answer within {timeout} s") from None


def _bounded(doc: dict[str, Any], roots: list[Path], limit: int) -> bytes:
    body = artifact_body(doc, roots, size=limit)
    if body.path is None:
        return body.data[:limit]
    with body.path.open("rb") as file:
        return file.read(limit)


def artifact_body(
    doc: dict[str, Any], roots: list[Path], inner: str = "", size: int | None = None
) -> Body:
    """What to answer for ``doc`` (``size``: read at most that much from an object store)."""
    spec = doc.get("spec") or {}
    key = str((doc.get("metadata") or {}).get("key") or "artifact")
    target = str(spec.get("target_path") or "")
    if "body" in spec and not inner:
        return Body(filename=_name(target) or key, data=str(spec["body"]).encode())
    if not target:
        raise NotFoundError(f"artifact {key!r} has no stored body", field="key")
    scheme, rest = split_url(target)
    if scheme == "":
        return _local(Path(rest), roots, inner, key, doc, check=size is None)
    if scheme in _OBJECT_STORES:
        return _remote(target, inner, key, size)
    raise InvalidArgumentError(
        f"artifact {key!r} is at {scheme}://, which the service does not fetch",
        field="key",
        hint="read it from where it is; the service serves its own store and object stores",
    )


def _local(
    target: Path, roots: list[Path], inner: str, key: str, doc: dict[str, Any], check: bool
) -> Body:
    path = target.resolve()
    if not any(path == root or path.is_relative_to(root) for root in _resolved(roots)):
        raise AccessError(
            f"artifact {key!r} is outside the service's artifact store",
            field="key",
            hint="the service serves files under its --artifact-root only",
        )
    if path.is_dir():
        if not inner:
            raise InvalidArgumentError(
                f"artifact {key!r} is a directory",
                field="path",
                hint="name one of its files: ?path=<file inside it>",
            )
        file = _inside(path, inner)
    else:
        if inner:
            raise InvalidArgumentError(f"artifact {key!r} is a single file", field="path")
        file = path
    if not file.is_file():
        raise NotFoundError(f"{inner or target} not found in artifact {key!r}", field="path")
    if file == path and check:  # a preview reads part of it: nothing to check against
        from fnrun.datastore.integrity import check_local

        check_local(doc, str(file))  # the bytes the run recorded, or 409
    return Body(filename=file.name, path=file)


def _inside(folder: Path, inner: str) -> Path:
    """``inner`` (a relative path) under ``folder``, links resolved; never outside it."""
    file = (folder / _relative(inner)).resolve()
    if not file.is_relative_to(folder):
        raise AccessError(
            f"path {inner!r} leaves the artifact",
            field="path",
            hint="a link inside the artifact points outside it",
        )
    return file


def _relative(inner: str) -> str:
    """``inner`` checked by the project's own rule for relative paths (no absolute path, no
    ``..``, no empty or odd parts); refused as an access outside the artifact."""

    try:
        return check_relative(inner, "path")
    except InvalidArgumentError as exc:
        raise AccessError(
            f"path {inner!r} leaves the artifact: {exc.to_dict()['message']}",
            field="path",
            hint="a relative path inside the artifact, without '..'",
        ) from exc


def _remote(target: str, inner: str, key: str, size: int | None) -> Body:

    url = join_under(target, _relative(inner)) if inner else target
    try:
        data = get_dataitem(url).get(size=size)
    except FileNotFoundError as exc:
        raise NotFoundError(f"artifact {key!r}: {url} not found", field="key") from exc
    return Body(filename=_name(url) or key, data=bytes(data))


def _resolved(roots: list[Path]) -> list[Path]:
    return [root.resolve() for root in roots]


def _name(target: str) -> str:
    return PurePosixPath(target.rstrip("/")).name
