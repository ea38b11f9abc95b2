"""Serving platforms are registered once each; ``fn.deploy`` finds them by name."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.platforms import BUILTIN, DeployOptions, get_platform, register_platform


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


def test_only_the_platform_asked_for_is_loaded() -> None:
    """The registry imports a built-in platform's module when that platform is first asked
    for (the local one costs ``urllib.request`` at import): nothing is loaded by ``import
    fnrun``, and asking for one loads that one."""
    import subprocess
    import sys

    modules = ", ".join(repr(m) for m in BUILTIN.values())
    code = (
        "import sys, fnrun\n"
        "from fnrun.runtimes.platforms import get_platform\n"
        f"mods = ({modules})\n"
        "before = [m for m in mods if m in sys.modules]\n"
        "get_platform('kubernetes')\n"
        "print(before, [m for m in mods if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] ['fnrun.runtimes.kubernetes.deploy']"
