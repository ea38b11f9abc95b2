"""Source archives loaded at run time: a directory, a .zip/.tar.gz (local or remote), or git.

Extraction refuses members that would land outside the target directory (``../`` or
absolute paths, and links pointing out), so an archive cannot write elsewhere.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

from fnrun.errors import FnrunError, InvalidArgumentError


def load_source(source: str, cache_dir: Path, target_dir: str = "") -> Path:
    """Make ``source`` available as a local directory; return it."""
    if not target_dir and Path(source).is_dir():
        return Path(source).resolve()
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    target = Path(target_dir) if target_dir else cache_dir / digest
    if source.startswith("git://"):
        _git_clone(source, target)
    elif Path(source).is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        archive = _local_archive(source, cache_dir)
        extract(archive, target)
    return target.resolve()


def _local_archive(source: str, cache_dir: Path) -> Path:
    if Path(source).is_file():
        return Path(source)
    from fnrun.datastore.dataitem import get_dataitem

    return Path(get_dataitem(source).local())


def extract(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    name = archive.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                _guard(root, member)
            zf.extractall(root)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tf:
            for info in tf.getmembers():
                _guard(root, info.name)
                if info.issym() or info.islnk():
                    _guard(root, str(Path(info.name).parent / info.linkname))
            tf.extractall(root, filter="data")
    else:
        raise InvalidArgumentError(
            f"unsupported archive {name}", field="source", hint="use .zip, .tar.gz, .tgz or .tar"
        )


def _guard(root: Path, member: str) -> None:
    dest = (root / member).resolve()
    if dest != root and root not in dest.parents:
        raise InvalidArgumentError(
            f"archive member {member!r} escapes the target directory",
            field="source",
            hint="the archive is unsafe; rebuild it",
        )


def _git_clone(source: str, target: Path) -> None:
    """``git://host/org/repo.git#ref`` (https), or ``git:///abs/path#ref`` for a local repo."""
    url, _, ref = source.removeprefix("git://").partition("#")
    url = url if url.startswith("/") else f"https://{url}"
    if target.exists():
        shutil.rmtree(target)
    cmd = ["git", "clone", "--quiet", "--depth", "1"]
    if ref:
        cmd += ["--branch", ref]
    proc = subprocess.run([*cmd, url, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise FnrunError(
            f"git clone of {source} failed: {proc.stderr.strip()}",
            field="source",
            hint="check the repository URL and ref",
        )
