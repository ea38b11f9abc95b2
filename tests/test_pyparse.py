"""``fnrun.pyparse.parse``: a spurious 3.11 AST-builder race is retried, anything else raised."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from fnrun import pyparse


def _flaky(failures: list[Exception]) -> Any:
    real = ast.parse

    def parse(*args: Any, **kwargs: Any) -> ast.AST:
        if failures:
            raise failures.pop(0)
        return real(*args, **kwargs)

    return parse


def test_the_recursion_depth_race_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    race = SystemError("AST constructor recursion depth mismatch (before=147, after=49)")
    failures: list[Exception] = [race, race]
    monkeypatch.setattr(ast, "parse", _flaky(failures))
    tree = pyparse.parse("def f(x):\n    return x\n", "f.py")
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["f"]
    assert failures == []
    assert isinstance(pyparse.parse("a + 1", mode="eval").body, ast.BinOp)


def test_a_race_that_persists_and_other_errors_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    race = SystemError("AST constructor recursion depth mismatch (before=1, after=2)")
    monkeypatch.setattr(ast, "parse", _flaky([race] * 3))
    with pytest.raises(SystemError, match="mismatch"):
        pyparse.parse("x = 1")
    monkeypatch.setattr(ast, "parse", _flaky([SystemError("something else")]))
    with pytest.raises(SystemError, match="something else"):
        pyparse.parse("x = 1")
    monkeypatch.undo()
    with pytest.raises(SyntaxError):
        pyparse.parse("def (:")
