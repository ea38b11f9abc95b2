"""Source archives loaded at run time: a directory, a .zip/.tar.gz (local or remote), or git.

Extraction refuses members that would land outside the target directory (``../`` or
absolute paths, links pointing out, paths through links made by earlier members), so an
archive cannot write elsewhere.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

from fnrun.datastore.dataitem import get_dataitem
from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.model.names import is_absolute

_MAX_PATH = 3072  # below Linux's PATH_MAX (4096) with room for the target folder


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

    return Path(get_dataitem(source).local())


def extract(archive: Path, target: Path) -> None:
    """Unpack ``archive`` into ``target`` (replacing what was there), refusing unsafe members.

    Members are checked before anything is written (:func:`check_members`), unpacked into a
    fresh folder next to ``target`` (so links left on disk by an earlier extraction are never
    followed, and a refused archive leaves nothing half-written), then moved into place.
    """
    name = archive.name
    if not name.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
        raise InvalidArgumentError(
            f"unsupported archive {name}", field="source", hint="use .zip, .tar.gz, .tgz or .tar"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                check_members([(m, "file", "") for m in zf.namelist()])
                zf.extractall(fresh)
        else:
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                check_members([(m.name, _tar_kind(m), m.linkname) for m in members])
                tf.extractall(fresh, members=members, filter="data")
        if target.exists():
            shutil.rmtree(target)
        fresh.rename(target)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh, ignore_errors=True)


def _tar_kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    return "dir" if info.isdir() else "file"


def check_members(members: list[tuple[str, str, str]]) -> None:
    """Refuse archive members ``(name, kind, link target)`` that could write outside the root.

    The names and link targets are resolved lexically, with one extra rule that makes that
    sound: no path may pass *through* a link made by an earlier member (``a/x`` after a link
    ``a``), and no member may replace a link. Symlink chains are how CVE-2025-4517 escapes
    ``tarfile``'s ``data`` filter on interpreters without the fix (their resolved path grows
    past PATH_MAX, where ``realpath`` stops resolving); with this rule no chain is followed.
    """
    links: set[str] = set()
    for name, kind, link in members:
        parts = _walk(name, [], links, name, final_may_be_link=False)
        path = "/".join(parts)
        if path in links:
            raise _unsafe(name, "it replaces a link made by an earlier member")
        if kind == "symlink":
            _walk(link, parts[:-1], links, name, final_may_be_link=True)
            links.add(path)
        elif kind == "hardlink":
            _walk(link, [], links, name, final_may_be_link=False)
            links.add(path)


def _walk(
    path: str, start: list[str], links: set[str], member: str, final_may_be_link: bool
) -> list[str]:
    """The parts of ``path`` resolved lexically from ``start``; refuses escapes and links."""
    if not path or is_absolute(path):
        raise _unsafe(member, f"{path!r} is absolute or empty")
    if len(path) > _MAX_PATH:
        raise _unsafe(member, f"the path is longer than {_MAX_PATH} characters")
    stack = list(start)
    pieces = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    for i, piece in enumerate(pieces):
        if piece == "..":
            if not stack:
                raise _unsafe(member, f"{path!r} leads outside the target directory")
            stack.pop()
            continue
        stack.append(piece)
        last = i == len(pieces) - 1
        if "/".join(stack) in links and not (last and final_may_be_link):
            raise _unsafe(member, f"{path!r} passes through a link made by an earlier member")
    return stack


def _unsafe(member: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"archive member {member!r} is unsafe: {why}",
        field="source",
        hint="the archive could write outside its folder; rebuild it without such links",
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
