from __future__ import annotations

import pytest

from fnrun.errors import SchemaError
from fnrun.model.serialize import content_hash, from_yaml, to_yaml


def test_yaml_round_trip() -> None:
    data = {"kind": "job", "spec": {"args": ["a", "b"], "env": [{"name": "X", "value": "1"}]}}
    assert from_yaml(to_yaml(data)) == data


def test_yaml_syntax_error_is_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"cannot parse f\.yaml"):
        from_yaml("a: [1, 2", "f.yaml")


def test_content_hash_ignores_version_fields_and_key_order() -> None:
    doc = {
        "kind": "job",
        "metadata": {"name": "a", "tag": "v1"},
        "spec": {"command": "x", "image": "i"},
    }
    same = {
        "spec": {"image": "i", "command": "x"},
        "kind": "job",
        "metadata": {"name": "a", "hash": "abc", "updated": "now", "tag": "v2"},
        "status": {"state": "ready"},
    }
    assert content_hash(doc) == content_hash(same)
    changed = {**doc, "spec": {"command": "y", "image": "i"}}
    assert content_hash(doc) != content_hash(changed)
    assert doc["metadata"]["tag"] == "v1"  # the input is not modified
