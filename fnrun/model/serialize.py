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


def from_yaml(text: str | bytes, source: str = "YAML") -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise SchemaError(f"cannot parse {source}: {exc}", hint="fix the YAML syntax") from exc


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
