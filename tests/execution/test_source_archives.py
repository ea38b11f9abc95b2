"""Source archives cannot write outside their folder, whatever links they chain."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.source import check_members, extract


def _tar(path: Path, members: list[tuple[str, str, str]]) -> Path:
    """A tar of (name, kind, link-or-data) members, in order."""
    with tarfile.open(path, "w") as tar:
        for name, kind, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = extra.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}[kind]
            info.linkname = extra
            tar.addfile(info)
    return path


def _pathmax_chain() -> list[tuple[str, str, str]]:
    """The shape of CVE-2025-4517: a chain of links whose resolved path outgrows PATH_MAX, so
    ``realpath`` stops resolving and the ``data`` filter sees a harmless-looking path."""
    comp, steps, path = "d" * 247, "abcdefghijklmnop", ""
    members: list[tuple[str, str, str]] = []
    for step in steps:
        members += [
            (os.path.join(path, comp), "dir", ""),
            (os.path.join(path, step), "symlink", comp),
        ]
        path = os.path.join(path, comp)
    linkpath = os.path.join(*steps, "l" * 254)
    members.append((linkpath, "symlink", os.path.join(*[".."] * len(steps))))
    members.append(("escape", "symlink", linkpath + "/.."))
    members.append(("escape/evil.txt", "file", "pwned"))
    return members


def _written_outside(tmp_path: Path, root: Path) -> list[Path]:
    return [p for p in tmp_path.rglob("evil*") if root not in p.parents]


def test_the_pathmax_symlink_chain_is_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "poc.tar", _pathmax_chain())
    root = tmp_path / "box" / "code"
    with pytest.raises(InvalidArgumentError, match="unsafe"):
        extract(archive, root)
    assert _written_outside(tmp_path, root) == [] and not root.exists()


def test_the_chain_is_refused_by_the_link_rule_alone() -> None:
    # without the length bound the rule still stops it: "a/b/..." passes through link "a"
    long = "d" * 247
    short = [(n.replace(long, "d"), k, t.replace(long, "d")) for n, k, t in _pathmax_chain()]
    with pytest.raises(InvalidArgumentError, match="passes through a link"):
        check_members(short)


@pytest.mark.parametrize(
    "members",
    [
        [("up", "symlink", "..")],
        [("abs", "symlink", "/etc")],
        [("/etc/evil.txt", "file", "")],
        [("a/../../evil.txt", "file", "")],
        [("here", "symlink", "."), ("x", "symlink", "here/../outside"), ("x/evil.txt", "file", "")],
        [("d", "dir", ""), ("d/l", "symlink", "."), ("d/l/evil.txt", "file", "")],
        [("l", "symlink", "sub"), ("l", "file", "replaces the link")],
    ],
)
def test_escaping_members_are_refused(tmp_path: Path, members: list[tuple[str, str, str]]) -> None:
    root = tmp_path / "code"
    with pytest.raises(InvalidArgumentError, match="unsafe"):
        extract(_tar(tmp_path / "bad.tar", members), root)
    assert _written_outside(tmp_path, root) == []


def test_safe_archives_with_inner_links_extract(tmp_path: Path) -> None:
    members = [
        ("pkg", "dir", ""),
        ("pkg/mod.py", "file", "X = 1\n"),
        ("pkg/alias.py", "symlink", "mod.py"),
        ("latest", "symlink", "pkg"),
    ]
    root = tmp_path / "code"
    extract(_tar(tmp_path / "ok.tar", members), root)
    assert (root / "pkg" / "alias.py").read_text() == "X = 1\n"
    assert (root / "latest" / "mod.py").read_text() == "X = 1\n"


def test_re_extraction_replaces_the_folder_and_never_follows_old_links(tmp_path: Path) -> None:
    root = tmp_path / "code"
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "pkg").symlink_to(outside)  # left by someone else, or an earlier archive
    extract(_tar(tmp_path / "ok.tar", [("pkg/evil.txt", "file", "x")]), root)
    assert not (outside / "evil.txt").exists()
    assert (root / "pkg" / "evil.txt").read_text() == "x" and not (root / "pkg").is_symlink()
