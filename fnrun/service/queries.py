"""Query parameters the service's routes share: the integer bound of DB columns and the
``label=k=v`` filters (one rule for the REST API, MLRun's API and the web UI)."""

from __future__ import annotations

from fnrun.errors import InvalidArgumentError

MAX_INT = 2**31 - 1  # query integers the DB columns hold (a larger one is a 422, not a 500)
MAX_LABELS, MAX_LABEL = 32, 512


def query_labels(values: list[str] | None) -> dict[str, str] | None:
    """``label=k=v`` query values as a dict (at most :data:`MAX_LABELS`, each at most
    :data:`MAX_LABEL` characters)."""
    if not values:
        return None
    if len(values) > MAX_LABELS or any(len(v) > MAX_LABEL for v in values):
        raise InvalidArgumentError(
            f"at most {MAX_LABELS} label filters of {MAX_LABEL} characters each",
            field="label",
            hint="filter on fewer or shorter labels",
        )
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(
                f"label filter {value!r} is not key=value", field="label", hint="label=owner=ann"
            )
        out[key] = val
    return out
