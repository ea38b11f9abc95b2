"""Kubernetes resource quantities (``"512Mi"``, ``"0.5"``, ``"250m"``, ``"1e3"``), validated.

>>> parse_quantity("1Gi")
1073741824.0
>>> parse_quantity("250m")
0.25
"""

from __future__ import annotations

import re

from fnrun.errors import InvalidArgumentError

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_PATTERN = re.compile(r"^\+?(?P<num>\d+(\.\d*)?|\.\d+)(?P<suffix>[a-zA-Z]*|[eE][+-]?\d+)$")


def parse_quantity(value: str | int | float, field: str = "quantity") -> float:
    """The numeric value of a quantity; a malformed one is an InvalidArgumentError."""
    if isinstance(value, bool):
        raise _bad(value, field)
    if isinstance(value, int | float):
        if value < 0:
            raise _bad(value, field)
        return float(value)
    match = _PATTERN.match(str(value).strip())
    if not match:
        raise _bad(value, field)
    number, suffix = float(match["num"]), match["suffix"]
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    if suffix[:1] in "eE" and suffix[1:].lstrip("+-").isdigit():
        return number * 10.0 ** int(suffix[1:])
    raise _bad(value, field)


def validate_quantity(value: str | int | float | None, field: str) -> str | None:
    """``value`` as a string once it parses; None stays None."""
    if value is None or value == "":
        return None
    parse_quantity(value, field)
    return str(value)


def _bad(value: object, field: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid quantity {value!r}",
        field=field,
        hint="use a number with an optional suffix: 512Mi, 4G, 1Gi, 0.5, 500m",
    )
