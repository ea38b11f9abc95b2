from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.model.quantity import parse_quantity, validate_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1Gi", 2**30),
        ("512Mi", 512 * 2**20),
        ("4G", 4e9),
        ("0.5", 0.5),
        ("250m", 0.25),
        ("1e3", 1000.0),
        (2, 2.0),
        ("1.5Ki", 1536.0),
        (".5", 0.5),
    ],
)
def test_valid_quantities(text: str | int, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["4Gx", "abc", "-1", "1 G", "", "1.2.3", "Gi", -3, True])
def test_invalid_quantities_are_clear_errors(text: object) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid quantity") as err:
        parse_quantity(text, "resources.limits.memory")  # type: ignore[arg-type]
    assert err.value.field == "resources.limits.memory"
    assert "512Mi" in err.value.hint


def test_validate_quantity_keeps_none() -> None:
    assert validate_quantity(None, "x") is None
    assert validate_quantity("2", "x") == "2"
