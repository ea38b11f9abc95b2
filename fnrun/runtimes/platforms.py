"""Serving platforms: where ``fn.deploy(platform=...)`` runs a real-time function's server.
One registration per platform, as placements are for runs (``local``: a background process
here, ``kubernetes``: Deployments and Services, ``nuclio``: the Nuclio dashboard).

The registry sits below every platform: each platform's ``deploy`` module calls
:func:`register_platform` when it is imported, and :func:`get_platform` imports the module
of a built-in platform by name the first time that platform is asked for (as fsspec finds a
protocol's implementation): only the platform used is loaded (the local one pulls in
``urllib.request``, ~13 ms), and the registry never depends on the platforms' code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from fnrun.errors import InvalidArgumentError


@dataclass(frozen=True)
class DeployOptions:
    """What ``fn.deploy`` was asked, for whichever platform serves the function."""

    port: int = 0
    workers: int = 0
    timeout: float = 60.0
    dashboard_url: str = ""


class Platform(Protocol):
    def __call__(self, fn: Any, options: DeployOptions) -> str:
        """Start ``fn``'s server on the platform; its address."""
        ...


_PLATFORMS: dict[str, Platform] = {}
#: the built-in platforms and the module that registers each
BUILTIN = {
    "local": "fnrun.runtimes.local.deploy",
    "kubernetes": "fnrun.runtimes.kubernetes.deploy",
    "nuclio": "fnrun.runtimes.nuclio.deploy",
}


def register_platform(name: str, deploy: Platform) -> None:
    _PLATFORMS[name] = deploy


def get_platform(name: str) -> Platform:
    if name not in _PLATFORMS and name in BUILTIN:
        importlib.import_module(BUILTIN[name])  # it registers itself
    found = _PLATFORMS.get(name)
    if found is None:
        raise InvalidArgumentError(
            f"unknown platform {name!r}",
            field="platform",
            hint=f"use one of {', '.join(repr(p) for p in sorted({*_PLATFORMS, *BUILTIN}))}",
        )
    return found
