"""Secret values are masked in every spelling a record, log or console may hold."""

from __future__ import annotations

import json

from fnrun.execution.masking import MASK, Masker

HOSTILE = 'p"a\\ss-wörd'


def test_every_spelling_is_masked() -> None:
    masker = Masker({"PW": HOSTILE})
    spellings = [
        HOSTILE,
        json.dumps(HOSTILE),
        json.dumps(HOSTILE, ensure_ascii=False),
        repr(HOSTILE),
        str(HOSTILE.encode()),
    ]
    for text in spellings:
        masked = masker.text(f"before {text} after")
        assert "ss-w" not in masked and MASK in masked, (text, masked)


def test_documents_are_masked_in_keys_values_and_numbers() -> None:
    masker = Masker({"PW": "hunter22", "PIN": "4711"})
    doc = {"results": {"a": "x hunter22 y", "hunter22": 1, "pin": 4711, "n": [4711.5, True]}}
    assert masker.doc(doc) == {
        "results": {"a": f"x {MASK} y", MASK: 1, "pin": MASK, "n": [4711.5, True]}
    }


def test_short_secrets_are_masked_only_where_they_stand_alone() -> None:
    masker = Masker({"K": "ab1"})
    assert masker.short_keys == ["K"]
    assert masker.text("key=ab1 in cab1e") == f"key={MASK} in cab1e"
    assert masker.doc({"r": "ab1"}) == {"r": MASK}


def test_no_secrets_changes_nothing() -> None:
    masker = Masker({})
    assert not masker and masker.text("x") == "x" and masker.doc({"a": 1}) == {"a": 1}
