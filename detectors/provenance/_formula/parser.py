"""Pratt parser from tokens to the syntax tree of ``nodes``.

Binding powers follow json-formula's precedence list (weakest first): pipe, ``||``, ``&&``,
comparisons, ``&``, ``+ - ~``, ``* /``, unary ``! -``, flatten, then the postfix forms
(``.``, ``[...]``, ``(...)``). Projections use JMESPath's rule: after ``[*]``, ``[]``, ``[?...]``,
``[a:b]`` or ``.*`` the following ``.x`` / ``[...]`` chain is applied to every element, and any
token weaker than ``_PROJECTION_STOP`` ends the projection.
"""

from __future__ import annotations

from typing import NoReturn

from detectors.provenance._formula.errors import FormulaLimitError, FormulaSyntaxError
from detectors.provenance._formula.lexer import Token, tokenize
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
    children,
)

__all__ = ["parse"]

_COMPARISONS = {"==": "==", "=": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_BINDING = {
    "|": 1,
    "||": 2,
    "&&": 3,
    **{op: 5 for op in _COMPARISONS},
    "&": 6,
    "+": 7,
    "-": 7,
    "~": 7,
    "*": 8,
    "/": 8,
    "flatten": 10,
    "filter": 21,
    ".": 40,
    "[": 55,
    "(": 60,
}
_UNARY = 9  # binds tighter than * and /, looser than flatten and the postfix forms
_PROJECTION_STOP = 11
_STAR = 20


def parse(text: str, limits: FormulaLimits) -> Node:
    """The syntax tree of ``text``; FormulaSyntaxError / FormulaLimitError naming ``text``."""
    parser = _Parser(text, tokenize(text, limits), limits)
    node = parser.expression(0)
    if parser.peek().kind != "eof":
        parser.fail(f"unexpected {parser.peek().kind!r}")
    _check_depth(node, text, limits)
    return node


def _check_depth(root: Node, text: str, limits: FormulaLimits) -> None:
    # Left-nested chains (a.b.c..., a+b+c...) are built by a loop, not recursion, so the
    # parser's own depth guard does not bound the tree; the evaluator recurses over it.
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise FormulaLimitError(f"expression nests deeper than {limits.max_depth}", text)
        stack.extend((child, depth + 1) for child in children(node))


class _Parser:
    def __init__(self, text: str, tokens: list[Token], limits: FormulaLimits) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.limits = limits

    # -- token helpers -------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, kind: str) -> Token:
        token = self.advance()
        if token.kind != kind:
            self.fail(f"expected {kind!r}, found {token.kind!r}", token)
        return token

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        at = (token or self.peek()).pos
        raise FormulaSyntaxError(message, self.text, at)

    # -- Pratt core ----------------------------------------------------------------------
    def expression(self, rbp: int) -> Node:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise FormulaLimitError(f"expression nests deeper than {self.limits.max_depth}", self.text)
        try:
            left = self.nud(self.advance())
            while rbp < _BINDING.get(self.peek().kind, 0):
                left = self.led(self.advance(), left)
            return left
        finally:
            self.depth -= 1

    def nud(self, token: Token) -> Node:
        kind = token.kind
        if kind in ("string", "number", "json"):
            return Literal(token.value)
        if kind == "name":
            return Variable(token.value) if token.value.startswith("$") else Field(token.value)
        if kind == "qname":
            return Field(token.value, quoted=True)
        if kind == "@":
            return Current()
        if kind == "*":
            return ValueProjection(Current(), self.projection_rhs(_STAR))
        if kind == "flatten":
            return Projection(Flatten(Current()), self.projection_rhs(_BINDING["flatten"]))
        if kind == "filter":
            return self.filter(Current())
        if kind == "[":
            return self.bracket_nud()
        if kind == "{":
            return self.multi_hash()
        if kind == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if kind == "!":
            return Not(self.expression(_UNARY))
        if kind == "-":
            return Negate(self.expression(_UNARY))
        if kind == "&":
            self.fail("expression references (&expr) are not supported", token)
        self.fail(f"unexpected {'end of expression' if kind == 'eof' else repr(kind)}", token)

    def led(self, token: Token, left: Node) -> Node:
        kind = token.kind
        if kind == ".":
            if self.peek().kind == "*":
                self.advance()
                return ValueProjection(left, self.projection_rhs(_STAR))
            return Subexpr(left, self.dot_rhs(_BINDING["."]))
        if kind == "[":
            return self.bracket_led(left)
        if kind == "filter":
            return self.filter(left)
        if kind == "flatten":
            return Projection(Flatten(left), self.projection_rhs(_BINDING["flatten"]))
        if kind == "(":
            return self.call(left, token)
        if kind == "|":
            return Pipe(left, self.expression(_BINDING["|"]))
        if kind == "||":
            return Or(left, self.expression(_BINDING["||"]))
        if kind == "&&":
            return And(left, self.expression(_BINDING["&&"]))
        if kind in _COMPARISONS:
            return Binary(_COMPARISONS[kind], left, self.expression(_BINDING[kind]))
        if kind in ("&", "+", "-", "~", "*", "/"):
            return Binary(kind, left, self.expression(_BINDING[kind]))
        self.fail(f"unexpected {kind!r}", token)

    # -- forms ---------------------------------------------------------------------------
    def projection_rhs(self, bp: int) -> Node:
        kind = self.peek().kind
        if _BINDING.get(kind, 0) < _PROJECTION_STOP:
            return Current()
        if kind in ("[", "filter"):
            return self.expression(bp)
        if kind == ".":
            self.advance()
            return self.dot_rhs(bp)
        self.fail(f"unexpected {kind!r} after a projection")

    def dot_rhs(self, bp: int) -> Node:
        kind = self.peek().kind
        if kind in ("name", "qname"):
            return self.expression(bp)
        if kind == "[":
            self.advance()
            return self.multi_list()
        if kind == "{":
            self.advance()
            return self.multi_hash()
        self.fail(f"expected a name, '[' or '{{' after '.', found {kind!r}")

    def filter(self, left: Node) -> Node:
        condition = self.expression(0)
        self.expect("]")
        return FilterProjection(left, condition, self.projection_rhs(_BINDING["filter"]))

    def bracket_nud(self) -> Node:
        # [0], [-1] and [1:2] index the current node; [1, 2] or [a] build an array (the
        # specification resolves the [0] ambiguity in favour of indexing).
        kind = self.peek().kind
        after = self.peek(2 if kind == "-" else 1).kind
        signed = kind == "number" or (kind == "-" and self.peek(1).kind == "number")
        if kind == ":" or (signed and after in ("]", ":")):
            return self.index_or_slice(Current())
        if kind == "*" and self.peek(1).kind == "]":
            self.advance()
            self.advance()
            return Projection(Current(), self.projection_rhs(_STAR))
        return self.multi_list()

    def bracket_led(self, left: Node) -> Node:
        kind = self.peek().kind
        if kind in ("number", ":") or (kind == "-" and self.peek(1).kind == "number"):
            return self.index_or_slice(left)
        if kind == "*" and self.peek(1).kind == "]":
            self.advance()
            self.advance()
            return Projection(left, self.projection_rhs(_STAR))
        self.fail("only [number], [start:stop:step], [*], [] and [?...] may follow an expression")

    def index_or_slice(self, left: Node) -> Node:
        parts: list[int | None] = [None, None, None]
        slot = 0
        while self.peek().kind != "]":
            kind = self.peek().kind
            if kind == ":":
                slot += 1
                if slot > 2:
                    self.fail("too many ':' in slice")
                self.advance()
            elif parts[slot] is None and kind in ("number", "-"):
                parts[slot] = self.signed_int()
            else:
                self.fail(f"unexpected {kind!r} in index")
        self.expect("]")
        if slot == 0:
            if parts[0] is None:
                self.fail("empty index")
            return Subexpr(left, Index(parts[0]))
        return Projection(Subexpr(left, Slice(parts[0], parts[1], parts[2])), self.projection_rhs(_STAR))

    def signed_int(self) -> int:
        negative = self.peek().kind == "-"
        if negative:
            self.advance()
        token = self.expect("number")
        if not isinstance(token.value, int):
            self.fail("index must be an integer", token)
        return -token.value if negative else token.value

    def multi_list(self) -> Node:
        items = [self.expression(0)]
        while self.peek().kind == ",":
            self.advance()
            items.append(self.expression(0))
        self.expect("]")
        return MultiList(tuple(items))

    def multi_hash(self) -> Node:
        pairs: list[tuple[str, Node]] = []
        while True:
            key = self.advance()
            if key.kind not in ("name", "qname", "string"):
                self.fail("expected a key in object expression (use `{}` for an empty object)", key)
            self.expect(":")
            pairs.append((key.value, self.expression(0)))
            if self.peek().kind != ",":
                break
            self.advance()
        self.expect("}")
        return MultiHash(tuple(pairs))

    def call(self, left: Node, token: Token) -> Node:
        if not isinstance(left, Field) or left.quoted:
            self.fail("only a plain name can be called as a function", token)
        args: list[Node] = []
        if self.peek().kind != ")":
            args.append(self.expression(0))
            while self.peek().kind == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect(")")
        return Call(left.name, tuple(args))
