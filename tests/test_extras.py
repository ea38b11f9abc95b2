from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require


def test_require_names_the_extra_that_brings_a_missing_module() -> None:
    assert require("json", "none", "parsing").dumps([1]) == "[1]"
    with pytest.raises(
        InvalidArgumentError, match="remote steps: the no_such_mod package is not installed"
    ) as info:
        require("no_such_mod.sub", "http", "remote steps", field="class_name")
    assert info.value.hint == "pip install 'fnrun[http]'" and info.value.field == "class_name"
