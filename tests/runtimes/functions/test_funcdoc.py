from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.model.schema import NOTSET
from fnrun.runtimes.functions.funcdoc import entry_points, parse_docstring
from tests.conftest import DATA


def test_entry_points_from_sphinx_docstring_and_signature() -> None:
    eps = entry_points((DATA / "code" / "trainer.py").read_text())
    assert list(eps) == ["train", "prep"]  # private functions are not entry points
    train = eps["train"]
    assert train.doc == "Train a model."
    params = {p.name: p for p in train.parameters}
    assert params["context"].default is NOTSET
    assert params["p1"].type == "int" and params["p1"].default == 1
    assert params["p1"].doc == "number of epochs, spread over two lines"
    assert params["p2"].default == "x" and params["tags"].default is None
    assert train.outputs[0].doc == "the accuracy"
    assert train.lineno == 4 and not train.has_kwargs


def test_entry_points_from_google_docstring_varargs_kwonly() -> None:
    prep = entry_points((DATA / "code" / "trainer.py").read_text())["prep"]
    params = {p.name: p for p in prep.parameters}
    assert params["data"].doc == "the input table"
    assert params["limit"].doc == "max rows" and params["limit"].default is None
    assert prep.has_varargs and prep.has_kwargs
    assert prep.outputs[0].type == "dict" and prep.outputs[0].doc == "a summary"


def test_non_literal_default_is_kept_as_source_text() -> None:
    eps = entry_points("import os\ndef f(a=os.sep, b=[1, 2]):\n    pass\n")
    assert [p.default for p in eps["f"].parameters] == ["os.sep", [1, 2]]


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(InvalidArgumentError, match=r"cannot parse x.py: .*line 1"):
        entry_points("def f(:\n", "x.py")


def test_parse_docstring_plain() -> None:
    assert parse_docstring("Just text.\n\nMore.") == ("Just text.\n\nMore.", {}, "")
