"""A small, safe expression evaluator for conditions such as ``accuracy >= 0.9 and loss < 1``.

The expression is parsed with :mod:`ast` and walked by hand: only literals, names from the
given variables, comparisons, boolean and arithmetic operators, unary minus/not and
parentheses are allowed. No attribute access, calls, subscripts or comprehensions: nothing
can reach Python objects, so this is not ``eval``.

>>> evaluate("accuracy >= 0.9 and not (loss > 1)", {"accuracy": 0.95, "loss": 0.2})
True
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

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
}
_MAX_LENGTH = 500


def parse(expression: str) -> ast.Expression:
    """Parse and validate an expression (errors name what is not allowed)."""
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidArgumentError("empty condition", field="stop_condition")
    if len(expression) > _MAX_LENGTH:
        raise InvalidArgumentError("condition too long", field="stop_condition")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise InvalidArgumentError(
            f"cannot parse condition {expression!r}: {exc.msg}", field="stop_condition"
        ) from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise InvalidArgumentError(
                f"{type(node).__name__} is not allowed in condition {expression!r}",
                field="stop_condition",
                hint="use names, numbers, strings, comparisons, and/or/not and + - * / % **",
            )
    return tree


def evaluate(expression: str | ast.Expression, variables: Mapping[str, Any]) -> Any:
    tree = parse(expression) if isinstance(expression, str) else expression
    return _eval(tree.body, variables)


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id not in env:
            raise InvalidArgumentError(
                f"unknown name {node.id!r} in condition",
                field="stop_condition",
                hint=f"known: {', '.join(sorted(env)) or 'none'}",
            )
        return env[node.id]
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
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise InvalidArgumentError(f"{type(node).__name__} is not allowed", field="stop_condition")


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
    *_COMPARE,
)
