"""Tokenizer for json-formula (the subset described in ``detectors.provenance.formula``).

Three quoting forms, which is where json-formula differs from JMESPath:
``"text"`` is a string literal, ``'name'`` is a quoted *identifier* (so
``assertions.'c2pa.actions.v2'`` is a field lookup), and ``\\`json\\``` is a JSON literal.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from detectors.provenance._formula.errors import FormulaLimitError, FormulaSyntaxError
from detectors.provenance._formula.nodes import FormulaLimits

__all__ = ["Token", "tokenize"]

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_NAME_PART = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
# Longest first, so "&&" wins over "&" and "<=" over "<".
_OPERATORS = (
    "&&",
    "||",
    "==",
    "!=",
    "<=",
    ">=",
    "<>",
    ".",
    "*",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "@",
    "&",
    "|",
    "!",
    "=",
    "<",
    ">",
    "+",
    "-",
    "/",
    "~",
    "?",
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "`": "`", "'": "'"}
# A token after which "." starts a field access, not a number like ".5".
_VALUE_END = frozenset({"name", "qname", "string", "json", "number", "]", ")", "}", "@", "*"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "name", "qname", "string", "json", "number", "flatten", "filter", "eof" or the operator
    value: Any
    pos: int


def tokenize(text: str, limits: FormulaLimits) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token; FormulaSyntaxError on bad input."""
    if len(text) > limits.max_length:
        raise FormulaLimitError(f"expression longer than {limits.max_length} characters", text[:200])
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if len(tokens) >= limits.max_tokens:
            raise FormulaLimitError(f"more than {limits.max_tokens} tokens", text, pos)
        previous = tokens[-1].kind if tokens else ""
        if char in _NAME_START:
            stop = pos + 1
            while stop < end and text[stop] in _NAME_PART:
                stop += 1
            tokens.append(Token("name", text[pos:stop], pos))
            pos = stop
        elif char in _DIGITS or (
            char == "." and previous not in _VALUE_END and pos + 1 < end and text[pos + 1] in _DIGITS
        ):
            token, pos = _number(text, pos)
            tokens.append(token)
        elif char == '"':
            value, stop = _quoted(text, pos, '"')
            tokens.append(Token("string", value, pos))
            pos = stop
        elif char == "'":
            value, stop = _quoted(text, pos, "'")
            tokens.append(Token("qname", value, pos))
            pos = stop
        elif char == "`":
            value, stop = _json_literal(text, pos)
            tokens.append(Token("json", value, pos))
            pos = stop
        elif char == "[":
            token, pos = _bracket(text, pos)
            tokens.append(token)
        else:
            for op in _OPERATORS:
                if text.startswith(op, pos):
                    tokens.append(Token(op, op, pos))
                    pos += len(op)
                    break
            else:
                raise FormulaSyntaxError(f"unexpected character {char!r}", text, pos)
    tokens.append(Token("eof", None, end))
    return tokens


def _bracket(text: str, pos: int) -> tuple[Token, int]:
    """``[]`` (flatten), ``[?`` (filter) or a plain ``[``; whitespace inside is allowed."""
    look = pos + 1
    while look < len(text) and text[look].isspace():
        look += 1
    if look < len(text) and text[look] == "]":
        return Token("flatten", "[]", pos), look + 1
    if look < len(text) and text[look] == "?":
        return Token("filter", "[?", pos), look + 1
    return Token("[", "[", pos), pos + 1


def _number(text: str, pos: int) -> tuple[Token, int]:
    stop = pos
    while stop < len(text) and text[stop] in _DIGITS:
        stop += 1
    is_float = False
    if stop + 1 < len(text) and text[stop] == "." and text[stop + 1] in _DIGITS:
        is_float = True
        stop += 1
        while stop < len(text) and text[stop] in _DIGITS:
            stop += 1
    if stop < len(text) and text[stop] in "eE":
        look = stop + 1
        if look < len(text) and text[look] in "+-":
            look += 1
        if look < len(text) and text[look] in _DIGITS:
            is_float = True
            stop = look
            while stop < len(text) and text[stop] in _DIGITS:
                stop += 1
    raw = text[pos:stop]
    try:
        value: int | float = float(raw) if is_float else int(raw)
    except (ValueError, OverflowError):  # ints past Python's digit limit
        raise FormulaSyntaxError(f"number literal {raw[:20]!r} out of range", text, pos) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise FormulaSyntaxError(f"number literal {raw[:20]!r} out of range", text, pos)
    return Token("number", value, pos), stop


def _quoted(text: str, pos: int, quote: str) -> tuple[str, int]:
    """A '...' or "..." token with JSON escapes (plus \\' and \\`), and the position after it."""
    out: list[str] = []
    index = pos + 1
    while index < len(text):
        char = text[index]
        if char == quote:
            return "".join(out), index + 1
        if char == "\\":
            if index + 1 >= len(text):
                break
            code = text[index + 1]
            if code == "u":
                digits = text[index + 2 : index + 6]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise FormulaSyntaxError("bad \\u escape", text, index)
                out.append(chr(int(digits, 16)))
                index += 6
                continue
            if code not in _ESCAPES:
                raise FormulaSyntaxError(f"bad escape \\{code}", text, index)
            out.append(_ESCAPES[code])
            index += 2
            continue
        out.append(char)
        index += 1
    kind = "string" if quote == '"' else "quoted identifier"
    raise FormulaSyntaxError(f"unterminated {kind}", text, pos)


def _json_literal(text: str, pos: int) -> tuple[Any, int]:
    index = pos + 1
    out: list[str] = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] == "`":
            out.append("`")  # the only escape the literal itself defines; JSON handles the rest
            index += 2
            continue
        if char == "`":
            raw = "".join(out)
            try:
                value = json.loads(raw, parse_constant=_reject_constant)
            except (ValueError, RecursionError):
                raise FormulaSyntaxError("JSON literal is not valid JSON", text, pos) from None
            return value, index + 1
        out.append(char)
        index += 1
    raise FormulaSyntaxError("unterminated JSON literal", text, pos)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); json.loads would accept them otherwise.
    raise ValueError(name)
