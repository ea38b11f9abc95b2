"""Settings, read once from the environment and passed down.

Environment variables:

- ``FNRUN_HOME``: the home folder (default ``~/.fnrun``); holds the default DB and artifacts.
- ``FNRUN_DBPATH``: a SQLAlchemy URL (``postgresql://...``, ``sqlite:///...``) or a file path
  for an embedded SQLite DB (default ``$FNRUN_HOME/fnrun.db``).
- ``FNRUN_ARTIFACT_PATH``: where artifacts go (default ``$FNRUN_HOME/artifacts``).
- ``FNRUN_DEFAULT_PROJECT``: the project used when none is given (default ``default``).
- ``FNRUN_MOCK_DEPLOY``: ``1`` deploys real-time functions as in-process mocks unless told
  otherwise (MLRun's ``mock_nuclio_deployment``); ``auto`` does so when no Nuclio is known
  (``FNRUN_NUCLIO_VERSION`` empty); empty (the default) never.
- ``FNRUN_FORK_SERVER``: ``0`` starts every child-process run from a fresh interpreter instead
  of the fork server (:mod:`fnrun.runtimes.local.forkserver`; default on where it can fork).

Plain dataclasses rather than pydantic-settings: importing pydantic-settings costs ~0.28 s
here, more than the whole ``import fnrun`` budget, for six string settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """fnrun settings. Build with :meth:`from_env`; derive variants with :meth:`with_`."""

    home: Path
    dbpath: str
    artifact_path: str
    default_project: str = "default"
    mock_deploy: str = ""
    nuclio_version: str = ""
    fork_server: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("FNRUN_HOME") or Path.home() / ".fnrun").expanduser()
        return cls(
            home=home,
            dbpath=env.get("FNRUN_DBPATH") or str(home / "fnrun.db"),
            artifact_path=env.get("FNRUN_ARTIFACT_PATH") or str(home / "artifacts"),
            default_project=env.get("FNRUN_DEFAULT_PROJECT") or "default",
            mock_deploy=env.get("FNRUN_MOCK_DEPLOY", ""),
            nuclio_version=env.get("FNRUN_NUCLIO_VERSION", ""),
            fork_server=env.get("FNRUN_FORK_SERVER", "1").strip().lower()
            not in ("0", "false", "no", "off"),
        )

    def use_mock_deploy(self, mock: bool | None = None) -> bool:
        """Whether a deploy or invoke goes to the in-process mock: ``mock`` when given, else
        what ``mock_deploy`` says (``auto``: when no Nuclio version is known)."""
        if mock is not None:
            return mock
        if self.mock_deploy == "auto":
            return not self.nuclio_version
        return self.mock_deploy not in ("", "0", "false", "False")

    @property
    def db_url(self) -> str:
        """``dbpath`` as a SQLAlchemy URL (a bare path becomes ``sqlite:///<abs path>``)."""
        return to_db_url(self.dbpath)

    def with_(self, **changes: object) -> Settings:
        """A modified copy: ``settings.with_(dbpath="sqlite://")``."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ServeLimits:
    """Bounds of the HTTP serving front-end (``fnrun serve``), from ``FNRUN_SERVE_*``.

    ``max_body`` bytes (413 beyond), JSON ``max_depth`` (400 beyond), ``header_timeout``
    seconds to send a request's headers (idle and slow-loris connections are closed),
    ``body_timeout`` seconds to send its whole body, counted from the end of its headers
    (408, and the connection closed), and at least ``min_body_rate`` bytes a second of it
    once ``RATE_GRACE`` seconds have passed (0: no rate bound), ``keep_alive`` seconds an idle
    keep-alive connection stays open. ``max_body`` also bounds how long one request's JSON
    parse can hold the worker's event loop (~35 ms per MiB here: the C parser holds the GIL,
    so a thread would not help); more ``--workers`` serve others meanwhile.
    """

    max_body: int = 8 * 1024 * 1024
    max_depth: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    min_body_rate: float = 1024.0
    keep_alive: float = 5.0

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        prefix: str = "FNRUN_SERVE_",
        base: ServeLimits | None = None,
    ) -> ServeLimits:
        """The limits from ``<prefix><NAME>`` variables over ``base`` (the service reads
        ``FNRUN_SERVICE_*`` over :data:`SERVICE_LIMITS`)."""
        env = os.environ if environ is None else environ
        base = base or cls()
        values: dict[str, object] = {}
        names = ("max_body", "max_depth", "header_timeout", "body_timeout", "min_body_rate",
                 "keep_alive")  # fmt: skip
        for name in names:
            raw = env.get(f"{prefix}{name.upper()}")
            if raw:
                kind = type(getattr(base, name))
                try:
                    values[name] = kind(raw)
                except ValueError:
                    from fnrun.errors import InvalidArgumentError

                    raise InvalidArgumentError(
                        f"{raw!r} is not a {kind.__name__}",
                        field=f"{prefix}{name.upper()}",
                        hint="give a number",
                    ) from None
        return replace(base, **values)  # type: ignore[arg-type]


# the fnrun service (``FNRUN_SERVICE_*``): a run's log can come in one large append
SERVICE_LIMITS = ServeLimits(max_body=32 * 1024 * 1024)


def to_db_url(dbpath: str) -> str:
    if "://" in dbpath:
        return dbpath
    path = Path(dbpath).expanduser()
    if not path.is_absolute():
        return "sqlite:///" + str(path.resolve())  # against the working directory of now
    return _absolute_db_url(str(path))


@lru_cache(maxsize=64)
def _absolute_db_url(path: str) -> str:
    return "sqlite:///" + str(Path(path).resolve())  # every run asks: resolve it once


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process settings, read from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings(settings: Settings | None = None) -> None:
    """Replace (or drop, to re-read the environment) the process settings; for tests and CLIs."""
    global _settings
    _settings = settings
