"""Hyper-parameter iterations: strategies, param files, the best-iteration selector.

Strategies: ``grid`` (every combination), ``list`` (the i-th value of every list together),
``random`` (``max_iterations`` random combinations, seeded), ``custom`` (a list of param
dicts). A param file is a CSV (one iteration per row) or JSON (a dict of lists, or a list of
dicts). The selector ``max.<result>`` / ``min.<result>`` is correct for any sign of results.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
from dataclasses import dataclass, field, replace
from typing import Any

from fnrun.datastore.dataitem import get_dataitem
from fnrun.errors import InvalidArgumentError

STRATEGIES = ("grid", "list", "random", "custom")


@dataclass
class HyperParamOptions:
    strategy: str = ""
    param_file: str = ""
    selector: str = ""
    stop_condition: str = ""
    max_iterations: int = 10
    max_errors: int = 0
    parallel_runs: int = 1
    dask_cluster_uri: str = ""  # parallel iterations on this Dask scheduler (MLRun's option)
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_any(cls, value: HyperParamOptions | dict[str, Any] | None) -> HyperParamOptions:
        if value is None:
            return cls()
        if isinstance(value, HyperParamOptions):
            return value
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        unknown = set(value) - known
        if unknown:
            raise InvalidArgumentError(
                f"unknown hyper_param_options {sorted(unknown)}",
                field="hyper_param_options",
                hint=f"known: {', '.join(sorted(known))}",
            )
        return cls(**value)


def with_selector(
    options: HyperParamOptions | dict[str, Any] | None, selector: str
) -> HyperParamOptions:
    """``options`` with ``selector`` set: MLRun's ``fn.run(..., selector="max.accuracy")`` is
    ``hyper_param_options={"selector": "max.accuracy"}``."""
    return replace(HyperParamOptions.from_any(options), selector=selector)


def iterations(
    hyperparams: dict[str, list[Any]] | list[dict[str, Any]] | None, options: HyperParamOptions
) -> list[dict[str, Any]]:
    """The params of each iteration, in order."""
    if options.param_file:
        hyperparams = read_param_file(options.param_file)
    if not hyperparams:
        raise InvalidArgumentError(
            "no hyper-parameters given",
            field="hyperparams",
            hint="pass hyperparams={'p': [1, 2]} or a param_file",
        )
    if isinstance(hyperparams, list):
        if options.strategy not in ("", "custom", "list"):
            raise InvalidArgumentError(
                "a list of param dicts needs strategy 'custom' or 'list'", field="strategy"
            )
        return [dict(p) for p in hyperparams]
    strategy = options.strategy or "grid"
    if strategy not in STRATEGIES:
        raise InvalidArgumentError(
            f"unknown strategy {strategy!r}",
            field="strategy",
            hint=f"use one of {', '.join(STRATEGIES)}",
        )
    _check_lists(hyperparams)
    keys = list(hyperparams)
    if strategy == "list":
        lengths = {len(v) for v in hyperparams.values()}
        if len(lengths) != 1:
            raise InvalidArgumentError(
                "strategy 'list' needs lists of equal length", field="hyperparams"
            )
        return [
            dict(zip(keys, values, strict=True))
            for values in zip(*hyperparams.values(), strict=True)
        ]
    if strategy == "random":
        rng = random.Random(options.seed)
        return [
            {k: rng.choice(hyperparams[k]) for k in keys} for _ in range(options.max_iterations)
        ]
    if strategy == "custom":
        raise InvalidArgumentError(
            "strategy 'custom' needs a list of param dicts", field="hyperparams"
        )
    return [
        dict(zip(keys, values, strict=True)) for values in itertools.product(*hyperparams.values())
    ]


def _check_lists(hyperparams: dict[str, Any]) -> None:
    for key, values in hyperparams.items():
        if not isinstance(values, list) or not values:
            raise InvalidArgumentError(
                f"hyper-parameter {key!r} must be a non-empty list", field=f"hyperparams.{key}"
            )


def read_param_file(path: str) -> dict[str, list[Any]] | list[dict[str, Any]]:
    """CSV rows (values parsed as JSON when they can be) or a JSON document."""

    text = get_dataitem(path).get(encoding="utf-8")
    if path.endswith(".json"):
        data = json.loads(text)
        if not isinstance(data, dict | list):
            raise InvalidArgumentError(
                "a JSON param file holds a dict of lists or a list of dicts", field="param_file"
            )
        return data
    rows = list(csv.DictReader(io.StringIO(text)))
    return [{k: _cell(v) for k, v in row.items()} for row in rows]


def _cell(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def parse_selector(selector: str) -> tuple[str, str]:
    """``"max.accuracy"`` -> ("max", "accuracy"); a bare name means max."""
    if not selector:
        return "", ""
    mode, _, key = selector.partition(".")
    if not key:
        return "max", mode
    if mode not in ("max", "min"):
        raise InvalidArgumentError(
            f"invalid selector {selector!r}",
            field="selector",
            hint="use max.<result> or min.<result>",
        )
    return mode, key


def best_iteration(results: list[tuple[int, dict[str, Any]]], selector: str) -> int:
    """The iteration whose result is best; 0 when no iteration has the key."""
    mode, key = parse_selector(selector)
    if not mode:
        return 0
    best, best_value = 0, None
    for iteration, values in results:
        value = values.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        better = best_value is None or (value > best_value if mode == "max" else value < best_value)
        if better:
            best, best_value = iteration, value
    return best
