"""``mlrun.datastore``: ``DataItem`` (fnrun's own class, so ``type(x) == DataItem`` holds for
the inputs fnrun passes), ``store_manager.object(url)``, ``parse_store_uri``/``is_store_uri``
with MLRun's return shapes."""

from __future__ import annotations

from fnrun.datastore.dataitem import DataItem, get_dataitem

__all__ = ["DataItem", "is_store_uri", "parse_store_uri", "store_manager"]

_PREFIXES = ("artifacts", "datasets", "models", "feature-sets", "feature-vectors", "functions")


def is_store_uri(url: str) -> bool:
    return url.startswith("store://")


def parse_store_uri(url: str) -> tuple[str | None, str]:
    """``(kind, rest)``: ``store://models/p/m`` gives ``("models", "p/m")``; a bare
    ``store://p/key`` is an artifact; anything else ``(None, "")``."""
    if not is_store_uri(url):
        return None, ""
    rest = url[len("store://") :].strip("/")
    head, _, tail = rest.partition("/")
    if head in _PREFIXES and tail:
        return head, tail
    return "artifacts", rest


class _StoreManager:
    """MLRun's ``store_manager``: data items by URL."""

    def object(self, url: str, key: str = "", project: str = "", **_options: object) -> DataItem:
        return get_dataitem(url, key=key)


store_manager = _StoreManager()
