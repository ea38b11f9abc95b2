"""Figures: matplotlib (PNG) and plotly (self-contained HTML page)."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from fnrun.artifacts.base import Artifact
from fnrun.errors import InvalidArgumentError
from fnrun.notebook.figures import MARK


class PlotArtifact(Artifact):
    """A matplotlib figure, stored as PNG."""

    kind: ClassVar[str] = "plot"

    def __init__(self, key: str = "", body: Any = None, title: str = "", **kwargs: Any) -> None:
        super().__init__(key, format="png", **kwargs)
        self.figure = body
        self.title = title

    def get_body(self) -> bytes | None:
        if self.figure is None:
            raise InvalidArgumentError("a plot needs a matplotlib figure as body", field="body")
        if isinstance(self.figure, bytes):
            png = self.figure
        else:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", bbox_inches="tight")
            png = buffer.getvalue()
        if self.suffix() != ".html":
            return png
        # stored under an .html name (MLRun's plots are pages): a page showing the PNG
        import base64
        import html

        title = html.escape(self.title or self.key)
        image = base64.b64encode(png).decode("ascii")
        return (
            f"<html><head><title>{title}</title></head><body><h3>{title}</h3>"
            f'<img src="data:image/png;base64,{image}"/></body></html>'
        ).encode()

    def suffix(self) -> str:
        return ".html" if super().suffix() == ".html" else ".png"

    def spec_extra(self) -> dict[str, Any]:
        return {"title": self.title} if self.title else {}


class PlotlyArtifact(Artifact):
    """A plotly figure, stored as an HTML page."""

    kind: ClassVar[str] = "plotly"

    def __init__(self, key: str = "", figure: Any = None, **kwargs: Any) -> None:
        super().__init__(key, format="html", **kwargs)
        if figure is None:
            raise InvalidArgumentError("a plotly artifact needs figure=", field="figure")
        self.figure = figure

    def get_body(self) -> bytes | None:
        """A page that draws the figure offline (plotly.js inside, as MLRun's ``to_html()``),
        with the figure's JSON first in its head for fnrun's own previews
        (:func:`figure_json`)."""
        page = str(self.figure.to_html(full_html=True, include_plotlyjs=True))
        # no text in the figure can close the script ("</" written "<\/", as JSON allows)
        figure = str(self.figure.to_json()).replace("</", "<\\/")
        block = f"{MARK.decode()}{figure}</script>"
        head = page.find("<head>")
        at = head + len("<head>") if head >= 0 else 0
        return (page[:at] + block + page[at:]).encode("utf-8")
