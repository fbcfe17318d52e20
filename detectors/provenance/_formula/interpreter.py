"""Tree-walking evaluation of a parsed expression against JSON data.

Rubric helper expressions (``_name: "..."`` in a rubric's ``expressions`` map) are called like
functions. Their convention is the one the bundled rubric files and the conformance program's
own evaluator use: every call argument goes into the global array ``$args`` (``$args[0]`` is
the first argument) and ``@`` inside the body stays the caller's ``@``. A zero-argument call
leaves ``$args`` as it was. ``$args`` is dynamically scoped: restored when the call returns,
and not shadowed inside ``[?...]`` filters (which rebind ``@`` only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from detectors.provenance._formula.errors import (
    FormulaEvaluationError,
    FormulaFunctionError,
    FormulaLimitError,
    FormulaTypeError,
)
from detectors.provenance._formula.functions import LAZY_FUNCTIONS, call_builtin
from detectors.provenance._formula.nodes import (
    And,
    Binary,
    Call,
    Current,
    Field,
    FilterProjection,
    Flatten,
    FormulaLimits,
    Index,
    Literal,
    MultiHash,
    MultiList,
    Negate,
    Node,
    Not,
    Or,
    Pipe,
    Projection,
    Slice,
    Subexpr,
    ValueProjection,
    Variable,
)
from detectors.provenance._formula.values import (
    Budget,
    as_float,
    equal,
    is_array,
    is_object,
    number_result,
    to_number,
    to_string,
    truthy,
    type_of,
)

__all__ = ["Interpreter"]

_Ordered = TypeVar("_Ordered", str, float)  # both sides strings, or both numbers


class Interpreter:
    """One evaluation: globals, helper bodies, the ``$args`` stack, depth and work budget."""

    def __init__(self, variables: Mapping[str, Any], helpers: Mapping[str, Node], limits: FormulaLimits) -> None:
        self.variables = variables
        self.helpers = helpers
        self.limits = limits
        self.budget = Budget(limits)
        self.args_stack: list[list[Any]] = []
        self.depth = 0

    def visit(self, node: Node, current: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise FormulaLimitError(f"evaluation nests deeper than {self.limits.max_depth}")
            self.budget.spend()
            return _DISPATCH[type(node)](self, node, current)
        finally:
            self.depth -= 1

    # -- paths ---------------------------------------------------------------------------
    def _literal(self, node: Literal, current: Any) -> Any:
        return node.value

    def _current(self, node: Current, current: Any) -> Any:
        return current

    def _field(self, node: Field, current: Any) -> Any:
        return current.get(node.name) if is_object(current) else None

    def _variable(self, node: Variable, current: Any) -> Any:
        if node.name == "$args" and self.args_stack:
            return self.args_stack[-1]
        if node.name in self.variables:
            return self.variables[node.name]
        raise FormulaEvaluationError(f"unknown variable {node.name}")

    def _index(self, node: Index, current: Any) -> Any:
        if not is_array(current) or not -len(current) <= node.index < len(current):
            return None
        return current[node.index]

    def _slice(self, node: Slice, current: Any) -> Any:
        if not is_array(current):
            return None
        if node.step == 0:
            raise FormulaEvaluationError("slice step cannot be 0")
        return self.budget.check_array(list(current[node.start : node.stop : node.step]))

    def _subexpr(self, node: Subexpr, current: Any) -> Any:
        return self.visit(node.right, self.visit(node.left, current))

    def _pipe(self, node: Pipe, current: Any) -> Any:
        return self.visit(node.right, self.visit(node.left, current))

    # -- projections (json-formula keeps null results, unlike JMESPath) -------------------
    def _project(self, items: list[Any], right: Node) -> list[Any]:
        self.budget.check_array(items)
        if isinstance(right, Current):
            return items
        return [self.visit(right, item) for item in items]

    def _projection(self, node: Projection, current: Any) -> Any:
        base = self.visit(node.left, current)
        return self._project(list(base), node.right) if is_array(base) else None

    def _value_projection(self, node: ValueProjection, current: Any) -> Any:
        base = self.visit(node.left, current)
        return self._project(list(base.values()), node.right) if is_object(base) else None

    def _filter(self, node: FilterProjection, current: Any) -> Any:
        base = self.visit(node.left, current)
        if not is_array(base):
            return None
        kept = [item for item in base if truthy(self.visit(node.condition, item))]
        return self._project(kept, node.right)

    def _flatten(self, node: Flatten, current: Any) -> Any:
        base = self.visit(node.child, current)
        if not is_array(base):
            return None
        out: list[Any] = []
        for item in base:
            if is_array(item):
                out.extend(item)
            else:
                out.append(item)
            if len(out) > self.limits.max_array:
                raise FormulaLimitError(f"array longer than {self.limits.max_array} elements")
        return self.budget.check_array(out)

    # -- logic ---------------------------------------------------------------------------
    def _or(self, node: Or, current: Any) -> Any:
        left = self.visit(node.left, current)
        return left if truthy(left) else self.visit(node.right, current)

    def _and(self, node: And, current: Any) -> Any:
        left = self.visit(node.left, current)
        return self.visit(node.right, current) if truthy(left) else left

    def _not(self, node: Not, current: Any) -> Any:
        return not truthy(self.visit(node.child, current))

    def _negate(self, node: Negate, current: Any) -> Any:
        value = self.visit(node.child, current)
        number = to_number(value)
        if number is None or is_array(value):
            raise FormulaTypeError(f"cannot negate {type_of(value)}")
        return number_result(-as_float(number))

    def _binary(self, node: Binary, current: Any) -> Any:
        left = self.visit(node.left, current)
        right = self.visit(node.right, current)
        op = node.op
        if op == "==":
            return equal(left, right, self.budget)
        if op == "!=":
            return not equal(left, right, self.budget)
        if op in ("<", "<=", ">", ">="):
            return _ordered(op, left, right)
        if op == "~":
            joined = (list(left) if is_array(left) else [left]) + (list(right) if is_array(right) else [right])
            return self.budget.check_array(joined)
        if is_array(left) or is_array(right):
            return self._broadcast(op, left, right)
        return self._scalar(op, left, right)

    def _broadcast(self, op: str, left: Any, right: Any) -> list[Any]:
        # json-formula: arrays combine element-wise, the shorter padded with null; a scalar repeats.
        size = max(len(left) if is_array(left) else 0, len(right) if is_array(right) else 0)
        if size > self.limits.max_array:
            raise FormulaLimitError(f"array longer than {self.limits.max_array} elements")
        lefts = list(left) + [None] * (size - len(left)) if is_array(left) else [left] * size
        rights = list(right) + [None] * (size - len(right)) if is_array(right) else [right] * size
        self.budget.spend(size)
        return [self._scalar(op, a, b) for a, b in zip(lefts, rights, strict=True)]

    def _scalar(self, op: str, left: Any, right: Any) -> Any:
        if op == "&":
            a, b = to_string(left), to_string(right)
            if a is None or b is None:
                raise FormulaTypeError(f"cannot concatenate {type_of(left)} and {type_of(right)}")
            return self.budget.check_string(a + b)
        x, y = to_number(left), to_number(right)
        if x is None or y is None or is_array(left) or is_array(right):
            raise FormulaTypeError(f"'{op}' needs numbers, got {type_of(left)} and {type_of(right)}")
        a_float, b_float = as_float(x), as_float(y)
        if op == "+":
            return number_result(a_float + b_float)
        if op == "-":
            return number_result(a_float - b_float)
        if op == "*":
            return number_result(a_float * b_float)
        if b_float == 0:
            raise FormulaEvaluationError("division by zero")
        return number_result(a_float / b_float)

    # -- constructors and calls ----------------------------------------------------------
    def _multi_list(self, node: MultiList, current: Any) -> Any:
        return [self.visit(item, current) for item in node.items]

    def _multi_hash(self, node: MultiHash, current: Any) -> Any:
        return {key: self.visit(value, current) for key, value in node.pairs}

    def _call(self, node: Call, current: Any) -> Any:
        if node.name in self.helpers:
            return self._call_helper(node, current)
        if node.name in LAZY_FUNCTIONS:
            if len(node.args) != 3:
                raise FormulaFunctionError(f"if() takes 3 arguments, got {len(node.args)}")
            branch = node.args[1] if truthy(self.visit(node.args[0], current)) else node.args[2]
            return self.visit(branch, current)
        args = [self.visit(arg, current) for arg in node.args]
        return call_builtin(node.name, args, self.budget)

    def _call_helper(self, node: Call, current: Any) -> Any:
        args = [self.visit(arg, current) for arg in node.args]
        if len(self.args_stack) >= self.limits.max_call_depth:
            raise FormulaLimitError(f"helper expressions call each other deeper than {self.limits.max_call_depth}")
        outer = self.args_stack[-1] if self.args_stack else []
        self.args_stack.append(args if node.args else outer)
        try:
            return self.visit(self.helpers[node.name], current)
        finally:
            self.args_stack.pop()


def _ordered(op: str, left: Any, right: Any) -> bool:
    numeric = (int, float)
    if isinstance(left, str) and isinstance(right, str):
        return _compare(op, left, right)  # code-point order, as json-formula specifies
    if (
        isinstance(left, numeric)
        and not isinstance(left, bool)
        and isinstance(right, numeric)
        and not isinstance(right, bool)
    ):
        return _compare(op, left, right)
    x, y = to_number(left), to_number(right)
    if x is None or y is None:
        return False  # a failed coercion makes an ordering comparison false, not an error
    return _compare(op, x, y)


def _compare(op: str, a: _Ordered, b: _Ordered) -> bool:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


_DISPATCH: dict[type, Callable[[Interpreter, Any, Any], Any]] = {
    Literal: Interpreter._literal,
    Current: Interpreter._current,
    Field: Interpreter._field,
    Variable: Interpreter._variable,
    Index: Interpreter._index,
    Slice: Interpreter._slice,
    Subexpr: Interpreter._subexpr,
    Pipe: Interpreter._pipe,
    Projection: Interpreter._projection,
    ValueProjection: Interpreter._value_projection,
    FilterProjection: Interpreter._filter,
    Flatten: Interpreter._flatten,
    Or: Interpreter._or,
    And: Interpreter._and,
    Not: Interpreter._not,
    Negate: Interpreter._negate,
    Binary: Interpreter._binary,
    MultiList: Interpreter._multi_list,
    MultiHash: Interpreter._multi_hash,
    Call: Interpreter._call,
}
