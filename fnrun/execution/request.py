"""A run's request from ``fn.run``'s options: :func:`build_request` fills the defaults (the
function's name and project, the configured artifact path) and checks the values (params
JSON, inputs URLs, secrets resolved), once for every caller (the launcher, the service's
submissions, ``fn.manifests``, a Dask cluster's run objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from fnrun.config import get_settings
from fnrun.errors import InvalidArgumentError
from fnrun.execution.execute import RunRequest
from fnrun.execution.options import Handler, LaunchOptions
from fnrun.execution.secrets import resolve as resolve_secrets
from fnrun.model.values import check_json

if TYPE_CHECKING:
    from fnrun.model.function_like import FunctionLike


def build_request(
    fn: FunctionLike, handler: Handler = None, **options: Unpack[LaunchOptions]
) -> RunRequest:
    """The run request of a call to ``fn.run(...)``: defaults filled, values checked (the
    hyper-parameters and where it runs are not part of one run's request)."""

    settings = get_settings()
    name, params = options.get("name"), options.get("params") or {}
    return RunRequest(
        function=fn,
        handler=handler,
        name=name or fn.metadata.name or getattr(handler, "__name__", "") or "run",
        project=options.get("project") or fn.metadata.project or settings.default_project,
        params={k: check_json(v, f"params.{k}") for k, v in params.items()},
        inputs=_check_inputs(options.get("inputs")),
        labels=dict(options.get("labels") or {}),
        secrets=resolve_secrets(options.get("secrets")),
        artifact_path=options.get("artifact_path") or settings.artifact_path,
        returns=options.get("returns"),
    )


def _check_inputs(inputs: dict[str, str] | None) -> dict[str, str]:
    out = {}
    for key, url in (inputs or {}).items():
        if not isinstance(url, str) or not url:
            raise InvalidArgumentError(
                f"input {key!r} must be a URL or path, got {url!r}", field=f"inputs.{key}"
            )
        out[key] = url
    return out
