"""Data access by URL: ``get_dataitem(url)`` -> DataItem; stores registered by scheme.

May import: db, model, notebook and the shared leaves.
"""

from fnrun.datastore.dataitem import DataItem, get_dataitem
from fnrun.datastore.stores import register_store

__all__ = ["DataItem", "get_dataitem", "register_store"]
