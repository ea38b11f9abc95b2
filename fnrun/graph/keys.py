"""A hash of text that is the same in every process and on every machine (Python's own
``hash`` is seeded per process): sticky routes and sampled requests agree across replicas
and restarts."""

from __future__ import annotations

import hashlib


def stable_hash(text: str) -> int:
    """A 64-bit BLAKE2b hash of ``text``."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
