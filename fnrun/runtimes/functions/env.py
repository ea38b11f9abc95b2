"""Environment variables of a function: ``set_env``, ``set_envs``, ``set_env_from_secret``.

Env entries keep Kubernetes' shape (``{"name", "value"}`` or ``{"name", "valueFrom"}``) so
they go into pod manifests and MLRun's ``function.yaml`` unchanged.
"""

from __future__ import annotations

import re
from typing import Any, Self

from fnrun.errors import InvalidArgumentError
from fnrun.execution.secrets import read_env_file

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class EnvMixin:
    spec: Any

    def set_env(
        self, name: str, value: Any = None, value_from: dict[str, Any] | None = None
    ) -> Self:
        """Set (or replace) one environment variable."""
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise InvalidArgumentError(
                f"invalid environment variable name {name!r}",
                field="env",
                hint="use letters, digits, '_', '-' or '.', not starting with a digit",
            )
        entry: dict[str, Any] = {"name": name}
        if value_from is not None:
            entry["valueFrom"] = value_from
        else:
            entry["value"] = "" if value is None else str(value)
        env = [e for e in self.spec.env if e.get("name") != name]
        env.append(entry)
        self.spec.env = env
        return self

    def set_envs(
        self, env_vars: dict[str, Any] | None = None, file_path: str | None = None
    ) -> Self:
        """Set several variables from a dict and/or a ``KEY=VALUE`` env file."""
        if env_vars is None and file_path is None:
            raise InvalidArgumentError("give env_vars or file_path", field="set_envs")
        merged = dict(read_env_file(file_path)) if file_path else {}
        merged.update(env_vars or {})
        for name, value in merged.items():
            self.set_env(name, value)
        return self

    def set_env_from_secret(self, name: str, secret: str = "", secret_key: str = "") -> Self:
        """Read ``name`` from key ``secret_key`` (default ``name``) of Kubernetes secret."""
        if not secret:
            raise InvalidArgumentError(
                "no secret name given",
                field="secret",
                hint="set_env_from_secret(name, secret='my-secret', ...)",
            )
        ref = {"secretKeyRef": {"name": secret, "key": secret_key or name}}
        return self.set_env(name, value_from=ref)

    def local_env(self) -> dict[str, str]:
        """The variables a process of this function gets on this machine: every plain
        ``value``; ``valueFrom`` references (Kubernetes secrets, fields) exist only in a pod,
        so locally a run reads those through its secrets (``context.get_secret``)."""
        return {e["name"]: str(e["value"]) for e in self.spec.env if "value" in e}

    def get_env(self, name: str, default: Any = None) -> Any:
        """The plain value of ``name`` (a ``valueFrom`` entry returns its reference dict)."""
        for entry in self.spec.env:
            if entry.get("name") == name:
                return entry.get("value", entry.get("valueFrom"))
        return default
