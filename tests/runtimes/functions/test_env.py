from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError


def test_set_env_replaces_by_name() -> None:
    fn = fnrun.new_function("f", kind="local").set_env("A", "1").set_env("A", 2)
    assert fn.spec.env == [{"name": "A", "value": "2"}]
    assert fn.get_env("A") == "2" and fn.get_env("B", "d") == "d"


def test_set_envs_from_dict_and_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nexport A=1\nB='two words'\n\nC=\"x=y\"\n")
    fn = fnrun.new_function("f", kind="job").set_envs(
        {"C": "override", "D": 4}, file_path=str(env_file)
    )
    assert {e["name"]: e["value"] for e in fn.spec.env} == {
        "A": "1",
        "B": "two words",
        "C": "override",
        "D": "4",
    }


def test_set_envs_errors(tmp_path: Path) -> None:
    fn = fnrun.new_function("f", kind="job")
    with pytest.raises(NotFoundError):
        fn.set_envs(file_path=str(tmp_path / "missing.env"))
    bad = tmp_path / "bad.env"
    bad.write_text("A=1\nnot a pair\n")
    with pytest.raises(InvalidArgumentError, match="line 2 is not KEY=VALUE"):
        fn.set_envs(file_path=str(bad))
    with pytest.raises(InvalidArgumentError, match="invalid environment variable name"):
        fn.set_env("1BAD", "x")
    with pytest.raises(InvalidArgumentError, match="no secret name"):
        fn.set_env_from_secret("A")


def test_secret_reference_not_value_in_yaml() -> None:
    fn = fnrun.new_function("f", kind="job").set_env_from_secret("PASSWORD", secret="db-creds")
    text = fn.to_yaml()
    assert "secretKeyRef" in text and "db-creds" in text and "value:" not in text


def test_env_files_follow_dotenv_and_refuse_what_they_cannot_read(tmp_path: Path) -> None:
    from fnrun.execution.secrets import read_env_file

    good = tmp_path / "good.env"
    good.write_text("A=1 # a note\nB=\"line\\nbreak\"\n\n\nC='$NOT_EXPANDED'\n")
    assert read_env_file(str(good)) == {"A": "1", "B": "line\nbreak", "C": "$NOT_EXPANDED"}
    for text, line in (("A=1\n\n\nNOVALUE\n", 4), ('A=1\nB="never closed\n', 2)):
        bad = tmp_path / "bad.env"
        bad.write_text(text)
        with pytest.raises(InvalidArgumentError, match=f"line {line} is not KEY=VALUE"):
            read_env_file(str(bad))
