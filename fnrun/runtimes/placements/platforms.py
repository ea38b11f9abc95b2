"""Serving platforms: where ``fn.deploy(platform=...)`` runs a real-time function's server.
One registration per platform, as placements are for runs (``local``: a background process
here, ``kubernetes``: Deployments and Services, ``nuclio``: the Nuclio dashboard)."""

from __future__ import annotations

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


def register_platform(name: str, deploy: Platform) -> None:
    _PLATFORMS[name] = deploy


def get_platform(name: str) -> Platform:
    from fnrun.runtimes.kubernetes import deploy as _k8s  # noqa: F401 - each registers itself
    from fnrun.runtimes.local import deploy as _local  # noqa: F401
    from fnrun.runtimes.nuclio import deploy as _nuclio  # noqa: F401

    found = _PLATFORMS.get(name)
    if found is None:
        raise InvalidArgumentError(
            f"unknown platform {name!r}",
            field="platform",
            hint=f"use one of {', '.join(repr(p) for p in sorted(_PLATFORMS))}",
        )
    return found
