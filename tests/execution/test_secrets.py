from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.execution.secrets import resolve
from tests.conftest import DATA


def test_resolve_inline_env_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_ENV", "e-value")
    env_file = tmp_path / "s.env"
    env_file.write_text("FILE_KEY=f-value\n")
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text("Y_KEY: y-value\n")
    values = resolve(
        [
            {"kind": "inline", "source": {"A": "1"}},
            {"kind": "env", "source": "FROM_ENV,NOT_SET_ANYWHERE"},
            {"kind": "file", "source": str(env_file)},
            {"kind": "file", "source": str(yaml_file)},
        ]
    )
    assert values == {"A": "1", "FROM_ENV": "e-value", "FILE_KEY": "f-value", "Y_KEY": "y-value"}
    assert resolve({"B": 2}) == {"B": "2"}
    with pytest.raises(NotFoundError):
        resolve([{"kind": "file", "source": str(tmp_path / "none.env")}])
    with pytest.raises(InvalidArgumentError):
        resolve([{"kind": "inline", "source": "not a dict"}])


def test_secret_from_file_reaches_handler_not_db(tmp_path: Path, fnrun_home: Path) -> None:
    secret = "file-secret-value-9876"
    path = tmp_path / "secrets.env"
    path.write_text(f"ACCESS_KEY={secret}\n")
    fn = fnrun.code_to_function("jobs", filename=str(DATA / "code" / "jobs.py"), kind="job")
    task = fnrun.new_task(handler="uses_secret").with_secrets("file", str(path))
    run = fn.run(task, local=True, watch=False)  # a child process: secrets via its environment
    assert "accesskey = ***" in run.logs()
    assert secret not in run.to_yaml()
    db_bytes = b"".join(p.read_bytes() for p in fnrun_home.glob("fnrun.db*"))
    assert secret.encode() not in db_bytes
