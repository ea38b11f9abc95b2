"""Time stamps: ISO-8601 UTC strings, sortable as text in every DB backend."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
