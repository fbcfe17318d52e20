"""The abstract syntax tree of a parsed expression, and the bounds every evaluation runs under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "FormulaLimits",
    "Node",
    "Literal",
    "Current",
    "Field",
    "Variable",
    "Index",
    "Slice",
    "Subexpr",
    "Projection",
    "ValueProjection",
    "FilterProjection",
    "Flatten",
    "Pipe",
    "Or",
    "And",
    "Not",
    "Negate",
    "Binary",
    "MultiList",
    "MultiHash",
    "Call",
    "children",
]


@dataclass(frozen=True)
class FormulaLimits:
    """Bounds that keep a hostile rubric or document from hanging or exhausting the process.

    The defaults are two orders of magnitude above what the C2PA rubrics need (their deepest
    expression nests about 12 nodes and a statement costs a few hundred steps on a real
    manifest store) and far below what would stall a worker.
    """

    max_length: int = 65_536  # characters of one expression
    max_tokens: int = 10_000
    max_depth: int = 120  # nesting of the syntax tree, and of evaluation across helper calls
    max_call_depth: int = 24  # rubric helper expressions calling each other
    max_steps: int = 2_000_000  # node visits + elements touched, per evaluation
    max_string: int = 1_000_000  # characters of a string the evaluator builds
    max_array: int = 200_000  # elements of an array the evaluator builds


class Node:
    """Base of every syntax-tree node (frozen dataclasses below)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class Current(Node):
    pass


@dataclass(frozen=True, slots=True)
class Field(Node):
    name: str
    quoted: bool = False  # 'quoted' names can never be function names


@dataclass(frozen=True, slots=True)
class Variable(Node):
    name: str  # with its leading '$'


@dataclass(frozen=True, slots=True)
class Index(Node):
    index: int


@dataclass(frozen=True, slots=True)
class Slice(Node):
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Subexpr(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Projection(Node):
    """``left`` yields an array; ``right`` is applied to each element (json-formula keeps nulls)."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class ValueProjection(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class FilterProjection(Node):
    left: Node
    condition: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Flatten(Node):
    child: Node


@dataclass(frozen=True, slots=True)
class Pipe(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node


@dataclass(frozen=True, slots=True)
class Negate(Node):
    child: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Comparison (== != < <= > >=), arithmetic (+ - * /), concatenation (&) and union (~)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class MultiList(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MultiHash(Node):
    pairs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    """Direct children of ``node`` (used for the iterative depth check)."""
    if isinstance(node, (Subexpr, Projection, ValueProjection, Pipe, Or, And, Binary)):
        return (node.left, node.right)
    if isinstance(node, FilterProjection):
        return (node.left, node.condition, node.right)
    if isinstance(node, (Flatten, Not, Negate)):
        return (node.child,)
    if isinstance(node, MultiList):
        return node.items
    if isinstance(node, MultiHash):
        return tuple(value for _, value in node.pairs)
    if isinstance(node, Call):
        return node.args
    return ()
