"""The function marketplace: ``hub://`` functions from configured hub sources (MLRun's
published hub layout over HTTP or in a directory, or a source repository's folders).

May import: graph and the layers below; an item's code becomes a function through the builder
the kinds hand it (build.use_function_builder).
"""

from fnrun.marketplace.resolve import HubItem, parse_hub_uri, resolve
from fnrun.marketplace.sources import HubSource, add_source, hub_sources, remove_source

__all__ = [
    "HubItem",
    "HubSource",
    "add_source",
    "hub_sources",
    "parse_hub_uri",
    "remove_source",
    "resolve",
]
