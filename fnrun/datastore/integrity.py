"""Content hashes of stored artifacts, checked when they are read back.

A file artifact records the SHA-1 of its body (``spec.hash``); a folder artifact (model, dir)
records the SHA-1 of each file (``spec.file_hashes``) and a hash over that manifest
(``spec.hash``). Reading an artifact through its ``store://`` URI checks what it reads against
them, so a replaced or corrupted file is a clear error, never a silently different model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fnrun.errors import IntegrityError

_CHUNK = 1 << 20


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def file_digest(path: str | Path) -> str:
    sha = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def manifest_digest(file_hashes: dict[str, str]) -> str:
    """One hash of a folder's files: their sorted names and hashes."""
    return digest("".join(f"{n}\0{h}\n" for n, h in sorted(file_hashes.items())).encode())


def _mismatch(meta: dict[str, Any], what: str) -> IntegrityError:
    uri = meta.get("uri") or meta.get("spec", {}).get("target_path", "")
    return IntegrityError(
        f"artifact {uri}: {what} does not match the hash recorded when the run logged it",
        field="hash",
        hint="the stored file was changed or replaced after it was logged; "
        "re-run the producing run or restore the file",
    )


def check_bytes(meta: dict[str, Any], data: bytes) -> None:
    """Raise when ``data`` (a whole artifact body) differs from its recorded hash."""
    spec = meta.get("spec", {})
    expected = spec.get("hash")
    if expected and not spec.get("file_hashes") and digest(data) != expected:
        raise _mismatch(meta, "the body")


def check_local(meta: dict[str, Any], path: str) -> None:
    """Raise when the local file or folder at ``path`` differs from its recorded hashes."""
    spec = meta.get("spec", {})
    files: dict[str, str] = spec.get("file_hashes") or {}
    if files:
        root = Path(path)
        for name, expected in files.items():
            target = root / name
            if not target.is_file():
                raise _mismatch(meta, f"file {name!r} (missing)")
            if file_digest(target) != expected:
                raise _mismatch(meta, f"file {name!r}")
    elif spec.get("hash") and Path(path).is_file() and file_digest(path) != spec["hash"]:
        raise _mismatch(meta, "the file")
