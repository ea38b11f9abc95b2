"""YAML/JSON text for model dicts, and the canonical content hash.

YAML is imported lazily (``import fnrun`` stays fast) and uses the C loader/dumper when the
installed PyYAML has them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from fnrun.errors import SchemaError

# Fields that describe a stored version rather than its content.
_VOLATILE_METADATA = ("tag", "hash", "updated", "uid")


def to_yaml(data: Any) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(data, Dumper=dumper, default_flow_style=False, sort_keys=False))


# Bounds on a YAML document. Aliases let a few hundred bytes stand for gigabytes once
# expanded (exported, hashed, copied): the expanded size is measured and capped at
# EXPANSION_RATIO times the text or EXPANSION_FLOOR, whichever is larger, and never beyond
# MAX_EXPANDED.
MAX_YAML_BYTES = 64 * 1024 * 1024
MAX_EXPANDED = 32 * 1024 * 1024  # units: one per node plus one per character of a string
EXPANSION_FLOOR = 1024 * 1024
EXPANSION_RATIO = 100


def from_yaml(text: str | bytes, source: str = "YAML") -> Any:
    """Parse YAML safely (no object tags) within :data:`MAX_YAML_BYTES` and, aliases expanded,
    within 100 times its size or 1 MiB (whichever is larger; :data:`MAX_EXPANDED` at most);
    recursive aliases are refused."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise SchemaError(
            f"{source} is {len(text)} bytes, over the {MAX_YAML_BYTES}-byte limit",
            hint="keep large data out of the document (use an artifact or a source archive)",
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
        if isinstance(data, (dict, list)) and ("&" in _as_str(text)):
            limit = min(MAX_EXPANDED, max(EXPANSION_FLOOR, EXPANSION_RATIO * len(text)))
            _check_expansion(data, source, limit)
    except yaml.YAMLError as exc:
        raise SchemaError(f"cannot parse {source}: {exc}", hint="fix the YAML syntax") from exc
    except RecursionError as exc:
        raise SchemaError(f"{source} is nested too deeply", hint="flatten the document") from exc
    return data


def _as_str(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("utf-8", errors="replace")


def _check_expansion(data: Any, source: str, limit: int) -> None:
    """Raise when ``data``, with every shared (aliased) part counted each time it is used,
    exceeds ``limit``. Shared parts are measured once (memoised), so this is
    linear in the document, not in its expansion."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: Any) -> int:
        if isinstance(node, str):
            return 1 + len(node)
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise SchemaError(f"{source} has a recursive alias", hint="remove the self-reference")
        busy.add(key)
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child)
            if total > limit:
                raise SchemaError(
                    f"{source} expands (through its aliases) beyond {limit} units "
                    "(100 times its size, or 1 MiB for a small document)",
                    hint="an alias bomb, or an oversized document; use fewer aliases",
                )
        busy.discard(key)
        sizes[key] = total
        return total

    size(data)


def to_json(data: Any, indent: int | None = 2) -> str:
    return json.dumps(data, indent=indent, default=str)


def canonical_json(data: Any) -> str:
    """Stable text of a dict: sorted keys, no spaces; the input of content hashes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(document: dict[str, Any]) -> str:
    """SHA-1 of the canonical document without status and version/time metadata."""
    body = copy.deepcopy(document)
    body.pop("status", None)
    metadata = body.get("metadata") or {}
    for key in _VOLATILE_METADATA:
        metadata.pop(key, None)
    return hashlib.sha1(canonical_json(body).encode("utf-8")).hexdigest()
