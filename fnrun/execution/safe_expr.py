"""A small, safe expression evaluator for conditions such as ``accuracy >= 0.9 and loss < 1``.

The expression is parsed with :mod:`ast` and walked by hand: only literals, names from the
given variables, comparisons, boolean and arithmetic operators, unary minus/not and
parentheses are allowed. No calls, comprehensions or lambdas: nothing can reach Python
objects, so this is not ``eval``.

Graph expressions (``data=True``: MLRun's ``url_expression``, ``body_expression``, Merge
``key_path``, handler expressions such as ``"(event + 1)"``) may also index dicts and lists
(``event["url"]``, ``event[0]``), build lists, tuples and dicts, test ``in``, use ``x if c else
y`` and f-strings, and read the public event fields ``id``, ``body``, ``path``, ``method``,
``headers``, ``content_type`` and ``key`` (no other attribute, nothing starting with ``_``).

>>> evaluate("accuracy >= 0.9 and not (loss > 1)", {"accuracy": 0.95, "loss": 0.2})
True
>>> evaluate('f"http://h/{event['id']}"', {"event": {"id": 7}}, data=True)
'http://h/7'
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

import fnrun.pyparse as pyparse
from fnrun.errors import InvalidArgumentError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_MAX_LENGTH = 500
_CONSTS = frozenset({"True", "False", "None"})
EVENT_FIELDS = frozenset({"id", "body", "path", "method", "headers", "content_type", "key"})


def parse(
    expression: str,
    field: str = "stop_condition",
    data: bool = False,
    names: frozenset[str] | None = None,
) -> ast.Expression:
    """Parse and validate an expression (errors name what is not allowed); ``names``: the
    only variables it may use (checked now, not when it is first evaluated)."""
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidArgumentError("empty expression", field=field)
    if len(expression) > _MAX_LENGTH:
        raise InvalidArgumentError(f"expression longer than {_MAX_LENGTH} chars", field=field)
    try:
        tree = pyparse.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidArgumentError(
            f"cannot parse expression {expression!r}: {exc.msg}", field=field
        ) from exc
    allowed = _ALLOWED + _DATA if data else _ALLOWED
    for node in ast.walk(tree):
        if names is not None and isinstance(node, ast.Name) and node.id not in names | _CONSTS:
            raise InvalidArgumentError(
                f"unknown name {node.id!r} in expression {expression!r}",
                field=field,
                hint=f"known: {', '.join(sorted(names))}",
            )
        bad = not isinstance(node, allowed) or (
            isinstance(node, ast.Attribute) and node.attr not in EVENT_FIELDS
        )
        if bad:
            what = f".{node.attr}" if isinstance(node, ast.Attribute) else type(node).__name__
            raise InvalidArgumentError(
                f"{what} is not allowed in expression {expression!r}",
                field=field,
                hint="use names, numbers, strings, comparisons, and/or/not and + - * / % **"
                + (", [index], lists, dicts, 'in', f-strings, event.body/.id" if data else ""),
            )
    return tree


def evaluate(
    expression: str | ast.Expression,
    variables: Mapping[str, Any],
    field: str = "stop_condition",
    data: bool = False,
) -> Any:
    tree = parse(expression, field, data) if isinstance(expression, str) else expression
    return _eval(tree.body, variables)


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id not in env:
            raise InvalidArgumentError(
                f"unknown name {node.id!r} in expression",
                field="expression",
                hint=f"known: {', '.join(sorted(env)) or 'none'}",
            )
        return env[node.id]
    if isinstance(node, _DATA):
        return _eval_data(node, env)
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, env) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
            raise InvalidArgumentError("exponent too large in condition", field="stop_condition")
        if isinstance(node.op, ast.Mult) and _repeats_too_much(left, right):
            raise InvalidArgumentError("result too large in expression", field="expression")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise InvalidArgumentError(f"{type(node).__name__} is not allowed", field="expression")


def _repeats_too_much(left: Any, right: Any) -> bool:
    """``"x" * 10**9`` would build a gigabyte: sequences repeat at most a million times."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
            return times * max(len(seq), 1) > 1_000_000
    return False


def _eval_data(node: ast.AST, env: Mapping[str, Any]) -> Any:
    """The data forms of graph expressions (only reached when parsed with ``data=True``)."""
    if isinstance(node, ast.Subscript):
        return _eval(node.value, env)[_eval(node.slice, env)]
    if isinstance(node, ast.Attribute):  # parse() allowed only EVENT_FIELDS
        value = _eval(node.value, env)
        return value[node.attr] if isinstance(value, dict) else getattr(value, node.attr)
    if isinstance(node, ast.List | ast.Tuple):
        items = [_eval(e, env) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {
            _eval(k, env): _eval(v, env) for k, v in zip(node.keys, node.values, strict=True) if k
        }
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env) else node.orelse, env)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(_eval(v, env)) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _eval(node.value, env)
    raise InvalidArgumentError(f"{type(node).__name__} is not allowed", field="expression")


_ALLOWED = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    *_BINARY,
    *(op for op in _COMPARE if op not in (ast.In, ast.NotIn)),
)
_DATA = (
    ast.Subscript,
    ast.Attribute,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.IfExp,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.In,
    ast.NotIn,
)
