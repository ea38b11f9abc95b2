"""Forked worker pools for steps whose objects cannot be pickled (a compiled route, a loaded
model): the object is registered here before the pool forks, and a worker finds its inherited
copy by id. Used by ``ParallelRun(executor_type="process")`` and ``ModelRunnerStep``'s
process mechanisms."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_REGISTRY: dict[int, Any] = {}
_IDS = itertools.count(1)


def register(obj: Any) -> int:
    """Keep ``obj`` for the workers forked from now on; its id for :func:`call_in_worker`."""
    key = next(_IDS)
    _REGISTRY[key] = obj
    return key


def unregister(key: int) -> None:
    _REGISTRY.pop(key, None)


def forked_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` forked processes, every one forked now (while the server is
    still starting), so each inherits what is registered at this moment."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    for done in [pool.submit(_ping) for _ in range(workers)]:
        done.result()
    return pool


def call_in_worker(key: int, method: str, *args: Any) -> Any:
    """In a forked worker: ``getattr(<the registered object>, method)(*args)``."""
    return getattr(_REGISTRY[key], method)(*args)


def _ping() -> int:
    return os.getpid()
