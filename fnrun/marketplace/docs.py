"""A hub item's documentation as text and blocks: docstrings without their ``:param:``
fields or RST markup (``fnrun hub show``), split into paragraphs and literal blocks for the
web UI's item page (rendered by a template, escaped)."""

from __future__ import annotations

import inspect
import re
from typing import Any

_FIELD = re.compile(r"^\s*:(param|parameter|arg|type|returns?|rtype|raises?)\b[^:]*:")
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`]+)`")


def plain_doc(doc: str) -> str:
    """A docstring as text: its ``:param ...:`` fields left out (the parameters are listed),
    RST markup removed (``code``, :role:`name`, `x`), ``::`` ending a line made ``:``."""
    kept: list[str] = []
    in_field = False
    for line in inspect.cleandoc(doc or "").splitlines():
        if _FIELD.match(line):
            in_field = True
            continue
        if in_field and line.startswith((" ", "\t")) and line.strip():
            continue  # a field's continuation
        in_field = False
        text = _ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2),
                         line)  # fmt: skip
        text = text.replace("``", "").replace("`", "")
        kept.append(text[:-2] + ":" if text.rstrip().endswith("::") else text)
    return "\n".join(kept).strip()


def is_context(param: Any) -> bool:
    """The run's context parameter (fnrun passes it; nobody sets it)."""
    kind = str(getattr(param, "type", "") or "")
    return getattr(param, "name", "") == "context" or kind.endswith(("MLClientCtx", "RunContext"))


def doc_blocks(doc: str) -> list[dict[str, str]]:
    """``plain_doc(doc)`` as blocks: ``{"kind": "p"|"pre", "text"}`` (a literal block is the
    indented text after a line ending in ``:``, as RST's ``::``)."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", plain_doc(doc)):
        if not chunk.strip():
            continue
        indented = all(line.startswith((" ", "\t")) for line in chunk.splitlines() if line)
        if indented:
            blocks.append({"kind": "pre", "text": inspect.cleandoc(chunk)})
        else:
            blocks.append({"kind": "p", "text": " ".join(chunk.split())})
    return blocks
