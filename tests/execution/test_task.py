from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.task import new_task, task_arguments


def test_template_merges_and_overrides() -> None:
    task = new_task("t", project="p", params={"a": 1}).with_params(b=2).set_label("x", 1)
    args = task_arguments(task, params={"b": 3, "c": 4}, name="", handler=None)
    assert args["params"] == {"a": 1, "b": 3, "c": 4}
    assert args["name"] == "t" and args["labels"] == {"x": "1"}


def test_dict_runspec() -> None:
    spec = {"metadata": {"name": "n"}, "spec": {"handler": "h", "parameters": {"a": 1}}}
    args = task_arguments(spec, name="")
    assert args["handler"] == "h" and args["params"] == {"a": 1} and args["name"] == "n"


def test_secrets_keys_only_in_yaml() -> None:
    task = new_task("t").with_secrets("inline", {"TOKEN": "hidden-value"})
    assert "hidden-value" not in task.to_yaml() and "TOKEN" in task.to_yaml()
    with pytest.raises(InvalidArgumentError, match="unsupported secret source kind"):
        task.with_secrets("vault", {})
    task.with_secrets("env", "A, B")
    assert task.to_dict()["spec"]["secret_sources"] == [
        {"kind": "inline", "keys": ["TOKEN"]},
        {"kind": "env", "source": ["A", "B"]},
    ]
