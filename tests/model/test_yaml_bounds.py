"""YAML documents are bounded: alias bombs, recursive aliases and deep nesting are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import SchemaError
from fnrun.model.serialize import from_yaml


def _bomb(levels: int, fan: int) -> str:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * fan)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    text = _bomb(9, 9)  # ~400 bytes standing for 9**8 = 43M strings
    assert len(text) < 500
    with pytest.raises(SchemaError, match="expands"):
        from_yaml(text)
    doc = tmp_path / "function.yaml"
    labels = "".join(f"    {line}\n" for line in text.splitlines())
    doc.write_text(f"kind: job\nmetadata:\n  name: f\n  labels:\n{labels}spec: {{}}\n")
    with pytest.raises(SchemaError, match="expands"):
        fnrun.import_function(str(doc))


def test_recursive_aliases_and_deep_nesting_are_refused() -> None:
    with pytest.raises(SchemaError, match="recursive alias"):
        from_yaml("a: &a [1, *a]\n")
    with pytest.raises(SchemaError, match=r"nested too deeply|cannot parse"):
        from_yaml("[" * 200_000 + "]" * 200_000)


def test_ordinary_aliases_still_load() -> None:
    data = from_yaml("base: &b {image: python:3.11}\nspec: {build: *b, other: *b}\n")
    assert data["spec"]["build"] == {"image": "python:3.11"} == data["spec"]["other"]


def test_expansion_is_bounded_by_ratio() -> None:
    """Aliases may expand a document to 100 times its size (or 1 MiB when it is small)."""
    small = _bomb(6, 7)  # ~300 bytes standing for 7**5 = 16,807 strings (~134k units)
    assert len(small) < 400 and from_yaml(small)["a5"]
    mid = _bomb(8, 7)  # ~400 bytes, ~6.6M units: 22 MB once exported, far past 1 MiB
    with pytest.raises(SchemaError, match="100 times its size"):
        from_yaml(mid)
    block = "x" * 20_000
    ok = f"a: &a {block}\nb: [{', '.join(['*a'] * 80)}]\n"  # 20 KB -> 1.6 MB (80x)
    assert len(from_yaml(ok)["b"]) == 80
    big = f"a: &a {block}\nb: [{', '.join(['*a'] * 150)}]\n"  # 21 KB -> 3 MB (150x)
    with pytest.raises(SchemaError, match="expands"):
        from_yaml(big)
