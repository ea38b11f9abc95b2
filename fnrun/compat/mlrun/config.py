"""``mlrun.mlconf`` / ``mlrun.config.config``: the settings MLRun code reads, from fnrun's
(read live, so ``FNRUN_*`` changes and :func:`~fnrun.compat.mlrun.run.set_environment` show)."""

from __future__ import annotations

from typing import Any

from fnrun.config import get_settings, reset_settings

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

    @property
    def mock_nuclio_deployment(self) -> str:
        """``"1"``: deploy and invoke real-time functions as in-process mocks; ``"auto"``: when
        no Nuclio is known (``nuclio_version`` empty); ``""``: never (``FNRUN_MOCK_DEPLOY``)."""
        return get_settings().mock_deploy

    @property
    def nuclio_version(self) -> str:
        return get_settings().nuclio_version

    def is_nuclio_detected(self) -> bool:
        return bool(get_settings().nuclio_version)

    def use_nuclio_mock(self, force_mock: bool | None = None) -> bool:
        return get_settings().use_mock_deploy(force_mock)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def __setattr__(self, name: str, value: Any) -> None:
        """Settable as in MLRun: the paths, the default project and the mock switches (this
        process's settings change; ``FNRUN_*`` in the environment are left alone)."""
        field = _SETTABLE.get(name)
        if field is None:
            raise AttributeError(
                f"mlconf.{name} cannot be set on fnrun's MLRun surface "
                f"(settable: {', '.join(_SETTABLE)})"
            )
        if name == "mock_nuclio_deployment" and isinstance(value, bool):
            value = "1" if value else ""
        reset_settings(get_settings().with_(**{field: str(value or "")}))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"mlconf.{name} is not one of the settings fnrun's MLRun surface has "
            f"({', '.join(_FIELDS)})"
        )


_FIELDS = (
    "artifact_path",
    "default_project",
    "dbpath",
    "hub_url",
    "is_ce_mode",
    "mock_nuclio_deployment",
    "nuclio_version",
)
# mlconf name -> fnrun Settings field
_SETTABLE = {
    "artifact_path": "artifact_path",
    "default_project": "default_project",
    "dbpath": "dbpath",
    "mock_nuclio_deployment": "mock_deploy",
    "nuclio_version": "nuclio_version",
}
config = mlconf = _Config()
