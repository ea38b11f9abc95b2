"""Every missing optional dependency fails through one helper naming the exact extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError


def _missing(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # the next import raises ImportError


def test_as_df_without_pandas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a\n1\n")
    _missing(monkeypatch, "pandas")
    with pytest.raises(InvalidArgumentError, match=r"pip install 'fnrun\[data\]'") as err:
        fnrun.get_dataitem(str(data)).as_df()
    assert "the pandas package is not installed" in str(err.value)


def test_s3_without_s3fs(monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch, "s3fs")
    with pytest.raises(InvalidArgumentError, match=r"s3:// URLs: the s3fs package .*fnrun\[s3\]"):
        fnrun.get_dataitem("s3://bucket/key.csv").get()


def test_notebook_without_nuclio_jupyter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text("{}")
    _missing(monkeypatch, "nuclio")
    with pytest.raises(InvalidArgumentError, match=r"nuclio-jupyter .*fnrun\[notebook\]"):
        fnrun.code_to_function("nb", filename=str(notebook), kind="job")


def test_serve_without_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from fnrun.cli import app

    _missing(monkeypatch, "uvicorn")
    result = CliRunner().invoke(app, ["serve", "nope.yaml"])
    assert result.exit_code != 0
    assert "pip install 'fnrun[serve]'" in str(result.exception) + result.output
