"""``mlrun.mlconf`` / ``mlrun.config.config``: the settings MLRun code reads, from fnrun's
(read live, so ``FNRUN_*`` changes and :func:`~fnrun.compat.mlrun.run.set_environment` show)."""

from __future__ import annotations

from typing import Any

from fnrun.config import get_settings

__all__ = ["config", "mlconf"]


class _Config:
    @property
    def artifact_path(self) -> str:
        return get_settings().artifact_path

    @property
    def default_project(self) -> str:
        return get_settings().default_project

    @property
    def dbpath(self) -> str:
        return get_settings().dbpath

    @property
    def hub_url(self) -> str:
        from fnrun.marketplace.sources import hub_sources

        sources = hub_sources()
        return sources[0].location if sources else ""

    @property
    def is_ce_mode(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"mlconf.{name} is not one of the settings fnrun's MLRun surface has "
            f"({', '.join(_FIELDS)})"
        )


_FIELDS = ("artifact_path", "default_project", "dbpath", "hub_url", "is_ce_mode")
config = mlconf = _Config()
