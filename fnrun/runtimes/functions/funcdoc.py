"""``entry_points``: each handler's parameters, types, defaults and docs, read from source.

The code is parsed with :mod:`ast`, never imported or executed. Docstrings in Sphinx
(``:param x: ...``, ``:returns: ...``) and Google (``Args:`` / ``Returns:``) style are read.
"""

from __future__ import annotations

import ast
import re

import fnrun.pyparse as pyparse
from fnrun.errors import InvalidArgumentError
from fnrun.model.function import EntryPoint, OutputDoc, ParamDoc
from fnrun.model.schema import NOTSET

_SPHINX_PARAM = re.compile(r"^\s*:param\s+(?:[\w\[\], .]+\s+)?(\w+):\s*(.*)$")
_SPHINX_RETURN = re.compile(r"^\s*:returns?:\s*(.*)$")
_GOOGLE_ITEM = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(.*?\))?\s*:\s*(.*)$")


def entry_points(code: str, filename: str = "<code>") -> dict[str, EntryPoint]:
    """Entry points of every public top-level function in ``code``."""
    try:
        tree = pyparse.parse(code, filename)
    except SyntaxError as exc:
        raise InvalidArgumentError(
            f"cannot parse {filename}: {exc.msg} (line {exc.lineno})",
            field="code",
            hint="fix the syntax error in the function's code",
        ) from exc
    out: dict[str, EntryPoint] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith(
            "_"
        ):
            out[node.name] = _entry_point(node)
    return out


def _entry_point(node: ast.FunctionDef | ast.AsyncFunctionDef) -> EntryPoint:
    doc, param_docs, return_doc = parse_docstring(ast.get_docstring(node) or "")
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    pairs = list(zip(positional, defaults, strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    params = [
        ParamDoc(
            name=arg.arg,
            type=ast.unparse(arg.annotation) if arg.annotation else "",
            doc=param_docs.get(arg.arg, ""),
            default=NOTSET if default is None else _default_value(default),
        )
        for arg, default in pairs
    ]
    outputs = []
    if node.returns is not None or return_doc:
        returns = ast.unparse(node.returns) if node.returns is not None else ""
        outputs.append(OutputDoc(type=returns, doc=return_doc))
    return EntryPoint(
        name=node.name,
        doc=doc,
        parameters=params,
        outputs=outputs,
        lineno=node.lineno,
        has_varargs=args.vararg is not None,
        has_kwargs=args.kwarg is not None,
    )


def _default_value(node: ast.expr) -> object:
    """A literal default as its value; anything else as its source text."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return ast.unparse(node)


def parse_docstring(text: str) -> tuple[str, dict[str, str], str]:
    """Split a docstring into (description, {param: doc}, returns doc)."""
    description: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    section, current = "", ""
    for line in text.splitlines():
        stripped = line.strip()
        header = stripped.rstrip(":").lower()
        if stripped.endswith(":") and header in (
            "args",
            "arguments",
            "parameters",
            "returns",
            "return",
        ):
            section, current = ("params" if header.startswith(("arg", "param")) else "returns"), ""
            continue
        if match := _SPHINX_PARAM.match(line):
            section, current = "sphinx", match[1]
            params[current] = match[2].strip()
        elif match := _SPHINX_RETURN.match(line):
            section, current = "returns", ""
            returns.append(match[1].strip())
        elif (
            section == "params" and (match := _GOOGLE_ITEM.match(line)) and line.startswith(" " * 4)
        ):
            current = match[1].lstrip("*")
            params[current] = match[2].strip()
        elif section in ("params", "sphinx") and current and stripped:
            params[current] = f"{params[current]} {stripped}".strip()
        elif section == "returns" and stripped:
            returns.append(stripped)
        elif not section:
            description.append(line)
    return "\n".join(description).strip(), params, " ".join(returns).strip()
