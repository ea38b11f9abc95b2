from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from fnrun.errors import SchemaError
from fnrun.model.schema import NOTSET, Model, alias, type_name


@dataclass
class Inner(Model):
    _schema_name = "inner"
    size: int = 0
    ratio: float = 1.0


@dataclass
class Outer(Model):
    _schema_name = "outer"
    name: str = ""
    flag: bool = False
    tags: list[str] = field(default_factory=list)
    inner: Inner = field(default_factory=Inner)
    items: dict[str, Inner] = field(default_factory=dict)
    maybe: int | None = None
    code: str = alias("sourceCode", default="")
    anything: object = NOTSET


def test_round_trip_keeps_values_and_omits_defaults() -> None:
    data = {
        "name": "a",
        "tags": ["x"],
        "inner": {"size": 3},
        "items": {"k": {"ratio": 2}},
        "sourceCode": "abc",
        "maybe": 0,
    }
    obj = Outer.from_dict(data)
    assert obj.inner.size == 3 and obj.items["k"].ratio == 2 and obj.code == "abc"
    assert obj.to_dict() == data
    assert Outer.from_dict(obj.to_dict()) == obj


def test_unknown_key_names_path_and_suggests() -> None:
    with pytest.raises(SchemaError) as err:
        Outer.from_dict({"inner": {"sise": 1}})
    assert err.value.field == "inner.sise"
    assert "did you mean 'size'" in str(err.value)


def test_unknown_key_without_close_match_lists_keys() -> None:
    with pytest.raises(SchemaError, match=r"known keys: .*name"):
        Outer.from_dict({"zzzzzz": 1})


@pytest.mark.parametrize(
    ("data", "field_path", "expected"),
    [
        ({"name": 3}, "name", "expected str"),
        ({"flag": "yes"}, "flag", "expected bool"),
        ({"tags": "x"}, "tags", "expected list of str"),
        ({"tags": ["x", 2]}, "tags[1]", "expected str"),
        ({"inner": {"size": True}}, "inner.size", "expected int"),
        ({"inner": {"size": 1.5}}, "inner.size", "expected int"),
        ({"items": {"k": 3}}, "items.k", "expected mapping"),
        ({"maybe": "3"}, "maybe", "expected int"),
    ],
)
def test_wrong_type_names_field_and_type(data: dict, field_path: str, expected: str) -> None:
    with pytest.raises(SchemaError) as err:
        Outer.from_dict(data)
    assert err.value.field == field_path
    assert expected in str(err.value)


def test_int_is_accepted_for_float_and_none_for_optional() -> None:
    assert Outer.from_dict({"inner": {"ratio": 2}, "maybe": None}).inner.ratio == 2


def test_notset_distinguishes_absent_from_none() -> None:
    assert "anything" not in Outer.from_dict({}).to_dict()
    assert Outer.from_dict({"anything": None}).to_dict() == {"anything": None}


def test_not_a_mapping_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="expected a mapping"):
        Outer.from_dict(["a"])  # type: ignore[arg-type]


def test_type_names_read_well() -> None:
    assert type_name(dict[str, list[int]]) == "mapping of str to list of int"
    assert type_name(int | None) == "int"
