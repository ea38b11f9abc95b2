"""The one way fnrun renders HTML: Jinja2 templates that escape every value by default.

Cards (runs, functions, graphs, the progress widget) live in ``notebook/templates``; the web
UI adds its own folder (``service/ui/templates``) in front. Anything a run wrote (names,
labels, results, artifact fields, logs) reaches a page only as a template value, so it is
escaped whatever it holds.

The values that may cross a function boundary as markup are SVG that fnrun drew itself
(graph pictures, line charts) — :func:`our_svg` is the audited gate — and a script an
installed package ships that fnrun names (plotly.js, for notebook cards that draw offline):
:func:`package_script`. It parses the drawing and
lets through only drawing elements and presentation attributes: no script, no event handler,
no link, no foreign content, no style. Nothing else in the package builds
:class:`markupsafe.Markup` (a test holds every module to it).

Example::

    >>> "&lt;b&gt;" in render("graph_card.html", title="<b>", svg="")
    True
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"

# what our own drawings use; anything else in an SVG handed to our_svg is refused
_SVG_ELEMENTS = frozenset(
    ("svg", "g", "defs", "marker", "path", "rect", "line", "polyline", "polygon", "circle",
     "ellipse", "text", "tspan", "title")
)  # fmt: skip
_SVG_ATTRIBUTES = frozenset(
    ("xmlns", "width", "height", "viewBox", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r",
     "rx", "ry", "d", "points", "fill", "stroke", "stroke-width", "stroke-dasharray",
     "marker-end", "id", "markerWidth", "markerHeight", "refX", "refY", "orient",
     "font-family", "font-size", "font-weight", "text-anchor", "class", "role", "aria-label",
     "transform", "opacity", "fill-opacity")
)  # fmt: skip


@cache
def environment(*folders: str) -> Any:
    """The Jinja2 environment over ``folders`` (first wins) then the cards' templates."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(TEMPLATES)]),
        autoescape=True,  # every template, whatever its suffix
        undefined=jinja2.StrictUndefined,  # a missing value is our bug, never a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["pairs"] = _pairs
    env.filters["cut"] = _cut
    return env


def render(template: str, /, *folders: str, **values: Any) -> str:
    """``template`` rendered with ``values`` (escaped)."""
    return str(environment(*folders).get_template(template).render(**values))


# the scripts a card may inline, by name: (package, file inside it); nothing else can be
_SCRIPTS = {"plotly": ("plotly", "package_data/plotly.min.js")}


def package_script_path(name: str) -> Path | None:
    """Where the installed package keeps script ``name`` (None when it is not installed)."""
    import importlib.util

    package, inside = _SCRIPTS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / inside
    return path if path.is_file() else None


@cache
def package_script(name: str) -> Any:
    """Script ``name`` as an installed package ships it, as markup for an inline
    ``<script>``: read from the package (never from a run), refused when it could end its
    script element. None when the package is not installed."""
    from markupsafe import Markup

    path = package_script_path(name)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    if "</script" in text.lower():
        raise ValueError(f"{path} could close its <script> element")
    return Markup(text)  # a package's own file, checked above


def our_svg(text: str) -> Any:
    """SVG drawn by fnrun's own code, checked, as markup a template shows as is.

    Raises ValueError when the drawing holds anything but drawing elements and their
    presentation attributes (so a value that slipped through unescaped cannot become
    script or a link)."""
    import xml.etree.ElementTree as ET

    from markupsafe import Markup

    if not text:
        return Markup("")
    root = ET.fromstring(text)  # a parse error is a ValueError too
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in _SVG_ELEMENTS:
            raise ValueError(f"SVG element {tag!r} is not one fnrun draws")
        for attribute, value in element.attrib.items():
            name = attribute.rsplit("}", 1)[-1]
            if name not in _SVG_ATTRIBUTES:
                raise ValueError(f"SVG attribute {name!r} is not one fnrun draws")
            if name == "marker-end" and value != "url(#arrow)":
                raise ValueError(f"SVG marker {value!r} is not fnrun's")
    return Markup(text)  # checked above: with package_script, the only Markup in fnrun


def number(value: Any) -> str:
    """A float to 4 significant digits, anything else as text."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _pairs(values: dict[str, Any]) -> str:
    """``a=1, b=x`` (floats to 4 digits, long values cut)."""
    return ", ".join(f"{k}={_cut(number(v), 24)}" for k, v in values.items())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stamp(value: Any, size: int = 19) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM:SS`` (``size`` 16: without the seconds)."""
    return str(value or "")[:size].replace("T", " ")
