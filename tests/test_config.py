from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.config import Settings, to_db_url
from fnrun.db import get_run_db, reset_run_dbs


def test_defaults_under_home() -> None:
    s = Settings.from_env({"HOME": "/h", "FNRUN_HOME": "/data/fn"})
    assert s.dbpath == "/data/fn/fnrun.db" and s.artifact_path == "/data/fn/artifacts"
    assert s.db_url == "sqlite:////data/fn/fnrun.db" and s.default_project == "default"


def test_overrides() -> None:
    s = Settings.from_env(
        {
            "FNRUN_HOME": "/x",
            "FNRUN_DBPATH": "postgresql://u@h/db",
            "FNRUN_ARTIFACT_PATH": "s3://bucket/a",
        }
    )
    assert s.db_url == "postgresql://u@h/db" and s.artifact_path == "s3://bucket/a"
    assert s.with_(default_project="p").default_project == "p"


def test_bare_path_becomes_absolute_sqlite_url(tmp_path: Path) -> None:
    assert to_db_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"


def test_fnrun_dbpath_file_path_is_used(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fnrun.config import reset_settings

    target = tmp_path / "elsewhere" / "my.db"
    monkeypatch.setenv("FNRUN_DBPATH", str(target))
    reset_settings()
    reset_run_dbs()
    fnrun.new_function("a", kind="job").save()
    assert target.is_file()
    assert get_run_db() is get_run_db()  # one instance per URL


def test_a_relative_db_path_follows_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert to_db_url("runs.db") == f"sqlite:///{tmp_path / 'a' / 'runs.db'}"
    monkeypatch.chdir(tmp_path / "b")
    assert to_db_url("runs.db") == f"sqlite:///{tmp_path / 'b' / 'runs.db'}"  # not cached
    absolute = str(tmp_path / "a" / "runs.db")
    assert to_db_url(absolute) == to_db_url(absolute) == f"sqlite:///{absolute}"
    assert to_db_url("postgresql://h/db") == "postgresql://h/db"
