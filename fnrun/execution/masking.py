"""Mask a run's secret values in everything written about the run: records, logs, consoles.

A secret can appear in other spellings than its own: JSON-escaped (a password with a quote
or a backslash, ``\\u00e9`` for ``é``), as Python's ``repr`` shows it, or as the repr of its
UTF-8 bytes. Every spelling is masked. A secret shorter than :data:`MIN_FREE_LENGTH`
characters is masked only where it stands alone (not inside longer words), since masking
every ``"ab"`` would shred the logs; :meth:`Masker.short_keys` names them so the run can
warn why.

>>> m = Masker({"TOKEN": 'pa"ss'})
>>> m.text('login pa"ss and {"p": "pa\\\\"ss"}')
'login *** and {"p": "***"}'
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "***"
MIN_FREE_LENGTH = 4


def _spellings(value: str) -> set[str]:
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        value.encode("unicode_escape").decode("ascii"),
        repr(value.encode("utf-8"))[2:-1],
    }
    return {f for f in forms if f}


class Masker:
    """Replaces every spelling of the given secret values with :data:`MASK`."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        secrets = {k: v for k, v in (secrets or {}).items() if isinstance(v, str) and v}
        self._values = set(secrets.values())
        self.short_keys = sorted(k for k, v in secrets.items() if len(v) < MIN_FREE_LENGTH)
        free: set[str] = set()
        alone: set[str] = set()
        for value in secrets.values():
            (alone if len(value) < MIN_FREE_LENGTH else free).update(_spellings(value))
        patterns = [re.escape(f) for f in sorted(free, key=len, reverse=True)]
        patterns += [rf"(?<!\w){re.escape(f)}(?!\w)" for f in sorted(alone, key=len, reverse=True)]
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        """``text`` with every secret spelling masked."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def doc(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.doc(k): self.doc(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.doc(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return MASK if str(value) in self._values else value  # a numeric PIN as a result
        return value
