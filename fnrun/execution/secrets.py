"""Secret sources of a run, resolved to values at launch: inline dicts, env names, files.

Values travel only in memory and in the child process's environment; the run document keeps
the source kinds and key names, never a value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fnrun.errors import InvalidArgumentError, NotFoundError

KINDS = ("inline", "env", "file")


def normalize(kind: str, source: Any) -> dict[str, Any]:
    """One source as ``{"kind", "source"}``; checks the kind and the source's shape."""
    if kind not in KINDS:
        raise InvalidArgumentError(
            f"unsupported secret source kind {kind!r}",
            field="secrets",
            hint="use 'inline' (a dict), 'env' (names) or 'file' (a path)",
        )
    if kind == "inline" and not isinstance(source, dict):
        raise InvalidArgumentError("inline secrets must be a dict", field="secrets")
    if kind == "env":
        source = [s.strip() for s in source.split(",")] if isinstance(source, str) else list(source)
    if kind == "file" and not isinstance(source, str):
        raise InvalidArgumentError("a secrets file source must be a path", field="secrets")
    return {"kind": kind, "source": source}


def resolve(secrets: dict[str, str] | list[dict[str, Any]] | None) -> dict[str, str]:
    """All secret values by key (later sources win)."""
    if not secrets:
        return {}
    sources = (
        [normalize("inline", secrets)]
        if isinstance(secrets, dict)
        else [normalize(s.get("kind", ""), s.get("source")) for s in secrets]
    )
    values: dict[str, str] = {}
    for src in sources:
        values.update(_values(src["kind"], src["source"]))
    return values


def _values(kind: str, source: Any) -> dict[str, str]:
    if kind == "inline":
        return {str(k): str(v) for k, v in source.items()}
    if kind == "env":
        return {name: os.environ[name] for name in source if name in os.environ}
    path = Path(source)
    if not path.is_file():
        raise NotFoundError(f"secrets file not found: {source}", field="secrets")
    if path.suffix in (".yaml", ".yml", ".json"):
        from fnrun.model.serialize import from_yaml

        data = from_yaml(path.read_text(), str(path))
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"{source} must hold a mapping of secrets", field="secrets")
        return {str(k): str(v) for k, v in data.items()}
    return read_env_file(str(path))


def read_env_file(path: str) -> dict[str, str]:
    """Parse a dotenv file with python-dotenv (``KEY=VALUE``, ``#`` comments, ``export``,
    quotes and their escapes); a line that is not ``KEY=VALUE`` is an error naming it (the
    library would skip it with a log line: a secret silently missing)."""
    from dotenv.parser import parse_stream

    file = Path(path)
    if not file.is_file():
        raise NotFoundError(f"env file not found: {path}", field="file_path")
    out: dict[str, str] = {}
    with file.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            text = binding.original.string
            number = binding.original.line + len(text) - len(text.lstrip("\n"))
            if binding.error or (binding.key is not None and binding.value is None):
                raise InvalidArgumentError(
                    f"line {number} is not KEY=VALUE: {text.strip()!r}",
                    field=f"{path}:{number}",
                )
            if binding.key is not None and binding.value is not None:
                out[binding.key] = binding.value
    return out
