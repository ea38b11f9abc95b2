"""Names that become parts of paths: checked once, here, before anything is written.

A name (artifact key, run, function or project name) is one path segment: no separator, no
``..``, no NUL, not absolute. A relative file name inside an artifact folder (``extra_data``
keys, files of a directory artifact) may have sub-folders but each part follows the same rule.
``join_under`` builds a path (or URL) below a root and refuses anything that would leave it.

``check_name("../x", "key")`` raises ``InvalidArgumentError`` naming ``key`` and the rule.
"""

from __future__ import annotations

import posixpath

from fnrun.errors import InvalidArgumentError

_HINT = "use letters, digits, '-', '_' or '.'"


def _problem(part: str) -> str:
    if not part:
        return "it is empty"
    if part in (".", ".."):
        return f"{part!r} refers to a folder"
    if "/" in part or "\\" in part:
        return "it holds a path separator"
    if "\x00" in part:
        return "it holds a NUL character"
    if len(part) > 255:
        return "it is longer than 255 characters"
    return ""


def check_name(value: object, field: str) -> str:
    """``value`` as a name that is one safe path segment, else a clear error naming ``field``."""
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"expected a string name, got {type(value).__name__}", field=field, hint=_HINT
        )
    problem = _problem(value)
    if problem:
        raise InvalidArgumentError(
            f"{value!r} is not a valid name: {problem}", field=field, hint=_HINT
        )
    return value


def check_names(**values: object) -> None:
    """Each value a name by :func:`check_name` (its keyword the field); ``""`` for an
    optional one that is not set passes: ``check_names(project=p, name=n)``."""
    for field, value in values.items():
        if value is not None:
            check_name(value, field)


def check_optional_name(value: object, field: str) -> str:
    """Like :func:`check_name`, but an empty name (not set yet) passes."""
    return "" if value == "" else check_name(value, field)


def is_absolute(path: str) -> bool:
    """A POSIX or Windows absolute path (``/x``, ``\\x``, ``C:x``)."""
    return path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":")


def check_relative(value: object, field: str) -> str:
    """A relative file name with optional sub-folders (``data/vocab.txt``), each part safe."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"invalid file name {value!r}", field=field, hint=_HINT)
    if is_absolute(value):
        raise InvalidArgumentError(
            f"{value!r} is an absolute path", field=field, hint="give a path relative to the folder"
        )
    for part in value.replace("\\", "/").split("/"):
        problem = _problem(part)
        if problem:
            raise InvalidArgumentError(
                f"{value!r} is not a safe relative path: {problem}",
                field=field,
                hint="use sub/folder/file names without '..' or empty parts",
            )
    return value


def join_under(root: str, *parts: str, field: str = "path") -> str:
    """``root/part/...`` (a local path or a URL); refuses parts that would leave ``root``."""
    rel = "/".join(check_relative(p, field) for p in parts)
    base = root.rstrip("/")
    joined = posixpath.normpath(f"{base}/{rel}")
    if not (joined + "/").startswith(posixpath.normpath(base or "/") + "/"):
        raise InvalidArgumentError(
            f"{rel!r} leaves {root!r}", field=field, hint="give a path inside the folder"
        )
    return f"{base}/{rel}"
