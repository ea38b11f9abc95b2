"""Serving platforms are registered once each; ``fn.deploy`` finds them by name."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.placements.platforms import DeployOptions, get_platform, register_platform


def test_the_built_in_platforms_are_registered() -> None:
    for name in ("local", "kubernetes", "nuclio"):
        assert callable(get_platform(name))


def test_an_unknown_platform_names_the_known_ones() -> None:
    fn = fnrun.new_function("srv", kind="serving")
    with pytest.raises(InvalidArgumentError) as caught:
        fn.deploy(platform="heroku")  # type: ignore[attr-defined]
    assert "heroku" in str(caught.value)
    assert all(p in caught.value.hint for p in ("'local'", "'kubernetes'", "'nuclio'"))


def test_a_registered_platform_serves_deploy() -> None:
    seen: list[tuple[str, DeployOptions]] = []

    def deploy(fn: Any, options: DeployOptions) -> str:
        seen.append((fn.metadata.name, options))
        return "http://elsewhere:1"

    register_platform("elsewhere", deploy)
    fn = fnrun.new_function("srv", kind="serving")
    assert fn.deploy(platform="elsewhere", port=7, timeout=3) == "http://elsewhere:1"  # type: ignore[attr-defined]
    assert seen == [("srv", DeployOptions(port=7, timeout=3))]
