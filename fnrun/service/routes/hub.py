"""``/api/v1/hub``: the function hub's items (search, and one item with its document)."""

from dataclasses import asdict

from fnrun.marketplace.listing import list_items
from fnrun.marketplace.resolve import resolve
from fnrun.model.serialize import from_yaml
from fnrun.service.queries import Doc, Router


def routes() -> Router:
    router = Router()

    @router.get("/hub/items")
    def hub_items(text: str = "", source: str = "") -> Doc:
        """Every hub item (its latest version) whose name, description or categories hold
        ``text``; ``unreachable`` names the sources that could not be read."""
        rows, unreachable = list_items(text, source)
        return {"items": [asdict(row) for row in rows], "unreachable": unreachable}

    @router.get("/hub/items/{name}")
    def hub_item(name: str, source: str = "", tag: str = "latest") -> Doc:
        """One hub function: its URI, version, digest and function document."""
        where = f"{source}/" if source else ""
        item = resolve(f"hub://{where}{name}:{tag}")
        return {"uri": item.uri, "source": item.source.name, "name": item.name,
                "version": item.version, "sha256": item.sha256,
                "function": from_yaml(item.text, item.uri)}  # fmt: skip

    return router
