"""Unpack a .zip or .tar(.gz) archive into a directory artifact, safely.

Example::

    run = fnrun.import_function("hub://open_archive").run(
        inputs={"archive": "images.zip"}, local=True
    )
    run.outputs["files"], run.artifact("content").local()
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def open_archive(
    context: Any,
    archive: DataItem,
    key: str = "content",
    max_files: int = 100_000,
    max_bytes: int = 10 * 1024**3,
) -> None:
    """Unpack ``archive`` and log its files as the directory artifact ``key``; results
    ``files`` and ``bytes``. A member whose path is absolute or climbs out (``..``), a link,
    a device, or more than ``max_files`` files / ``max_bytes`` unpacked bytes fails the run
    before anything is written: an archive never writes outside its folder.

    :param context: the run's context
    :param archive: a .zip, .tar, .tar.gz or .tgz (a DataItem)
    :param key: key of the directory artifact
    :param max_files: most files to unpack
    :param max_bytes: most bytes to unpack (a guard against archive bombs)
    """
    from fnrun.artifacts import DirArtifact

    members = _members(archive.get(), archive.url)
    if len(members) > max_files:
        raise ValueError(f"the archive has {len(members)} files, more than max_files={max_files}")
    total = sum(len(data) for _, data in members)
    if total > max_bytes:
        raise ValueError(f"the archive unpacks to {total} bytes, more than max_bytes={max_bytes}")
    with tempfile.TemporaryDirectory(prefix="fnrun-archive-") as tmp:
        root = Path(tmp)
        for name, data in members:
            target = root.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        context.log_artifact(DirArtifact(key, local_path=str(root)))
    context.log_results({"files": len(members), "bytes": total})


def _safe(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        raise ValueError(f"archive member {name!r} would be written outside the folder")
    return str(path)


def _members(data: bytes, url: str) -> list[tuple[str, bytes]]:
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            out = []
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ValueError(f"archive member {info.filename!r} is a link")
                out.append((_safe(info.filename), zf.read(info)))
            return out
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            out = []
            for member in tf.getmembers():
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ValueError(f"archive member {member.name!r} is a link or device")
                handle = tf.extractfile(member)
                out.append((_safe(member.name), handle.read() if handle else b""))
            return out
    except tarfile.ReadError as exc:
        raise ValueError(f"{url} is not a zip or tar archive") from exc
