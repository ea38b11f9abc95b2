"""Finding runs by a uid prefix, and deleting runs with what they made.

>>> uid, project = resolve_run(db, "3fa9")          # doctest: +SKIP
>>> report = delete_run(db, uid, project)           # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fnrun.errors import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from fnrun.db.base import RunDB


def resolve_run(db: RunDB, prefix: str, project: str = "") -> tuple[str, str]:
    """``(uid, project)`` of the one run whose uid starts with ``prefix`` (in ``project``, or
    in any project); none or several is a clear error."""
    prefix = prefix.strip().lower()
    if len(prefix) < 4:
        raise InvalidArgumentError(
            f"run uid {prefix!r} is too short", field="uid", hint="give at least 4 characters"
        )
    found = {
        (r["metadata"]["uid"], r["metadata"].get("project", ""))
        for r in db.list_runs(project=project or None)
        if str(r["metadata"]["uid"]).startswith(prefix)
    }
    if not found:
        where = f"project {project!r}" if project else "any project"
        raise NotFoundError(
            f"no run {prefix!r} in {where}", field="uid", hint="list runs with `fnrun get runs`"
        )
    if len(found) > 1:
        shown = ", ".join(f"{u[:12]} ({p})" for u, p in sorted(found)[:5])
        raise InvalidArgumentError(
            f"{len(found)} runs start with {prefix!r}: {shown}",
            field="uid",
            hint="give more characters of the uid, or --project",
        )
    return found.pop()


@dataclass
class DeleteReport:
    uid: str
    project: str
    artifacts: int = 0
    removed: list[str] = field(default_factory=list)  # files and folders deleted
    kept: list[str] = field(default_factory=list)  # targets outside the run's own folder


def delete_run(db: RunDB, uid: str, project: str) -> DeleteReport:
    """Delete the run (iterations, log, artifact records) and the artifact files in its own
    folder (a path with the run uid in it: the default layout). Targets elsewhere (a custom
    ``target_path``, a remote store) are never deleted on the word of a DB record; they are
    listed in ``kept``."""
    db.read_run(uid, project)  # a clear error when there is no such run
    report = DeleteReport(uid, project)
    made = [
        a
        for a in db.list_artifacts(project=project, tag="*")
        if a.get("metadata", {}).get("tree") == uid
    ]
    report.artifacts = len(made)
    for doc in made:
        target = str(doc.get("spec", {}).get("target_path", ""))
        _remove(target, uid, report)
    db.del_run(uid, project)
    return report


def _remove(target: str, uid: str, report: DeleteReport) -> None:
    """Delete ``target`` only when it lies in the run's own folder: a local path with no
    ``..`` whose resolved form (links followed) has the run uid as a folder."""
    local = target.removeprefix("file://")
    path = Path(local) if target and "://" not in local else None
    resolved = path.resolve() if path is not None and ".." not in path.parts else None
    if resolved is None or uid not in resolved.parts[:-1]:
        if target:
            report.kept.append(target)
        return
    if resolved.is_dir():
        shutil.rmtree(resolved)
    elif resolved.exists():
        resolved.unlink()
    else:
        return
    report.removed.append(str(resolved))
    stop = next(p for p in resolved.parents if p.name == uid).parent
    for parent in resolved.parents:  # the folders left empty, up to the run's own
        if parent == stop:
            break
        try:
            parent.rmdir()
        except OSError:
            break
