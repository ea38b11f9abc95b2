"""``mlrun.platforms``: ``auto_mount()`` as MLRun does it with no shared volume configured
(a modifier that changes nothing); Iguazio's v3io mounts are not supported."""

from __future__ import annotations

from typing import Any

from fnrun.execution.mlrun_modules import unsupported

__all__ = ["auto_mount", "mount_v3io"]


def auto_mount(*_args: Any, **_kwargs: Any) -> Any:
    def modifier(fn: Any) -> Any:
        return fn

    return modifier


mount_v3io = unsupported("Iguazio platform access (v3io)", "mlrun.platforms.mount_v3io")
