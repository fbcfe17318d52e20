"""Built-in functions: the ones the C2PA rubrics call, plus a few obvious companions.

Arguments are coerced as the json-formula specification says: only when exactly one of the
parameter's accepted types has a coercion from the given value (so ``length(null)`` is a
TypeError: null coerces to "", [] and {} alike). ``if`` is lazy and lives in the interpreter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from detectors.provenance._formula.errors import FormulaFunctionError, FormulaLimitError, FormulaTypeError
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

__all__ = ["FUNCTIONS", "call_builtin", "LAZY_FUNCTIONS"]

LAZY_FUNCTIONS = frozenset({"if"})  # evaluated by the interpreter: only one branch may run

Impl = Callable[[list[Any], Budget], Any]


@dataclass(frozen=True)
class _Function:
    params: tuple[tuple[str, ...], ...]  # accepted json-formula types per parameter
    impl: Impl
    variadic: bool = False  # the last parameter repeats (at least once)


def _coerce(value: Any, accepted: tuple[str, ...], name: str) -> Any:
    if "any" in accepted:
        return value
    kind = type_of(value)
    if kind in accepted:
        return value
    options: list[Any] = []
    for target in accepted:
        if target == "string" and (text := to_string(value)) is not None:
            options.append(text)
        elif target == "number" and (number := to_number(value)) is not None:
            options.append(number)
        elif target == "array" and kind != "object":
            options.append([] if value is None else [value])
        elif target == "object" and value is None:
            options.append({})
        elif target == "boolean":
            options.append(truthy(value))
    if len(options) != 1:
        wanted = " or ".join(accepted)
        raise FormulaTypeError(f"{name}() expects {wanted}, got {kind}")
    return options[0]


def call_builtin(name: str, args: list[Any], budget: Budget) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        raise FormulaFunctionError(f"unknown function {name}()")
    count = len(function.params)
    if (len(args) < count) if function.variadic else (len(args) != count):
        expected = f"at least {count}" if function.variadic else str(count)
        raise FormulaFunctionError(f"{name}() takes {expected} argument(s), got {len(args)}")
    coerced = [_coerce(arg, function.params[min(i, count - 1)], name) for i, arg in enumerate(args)]
    budget.spend()
    return function.impl(coerced, budget)


def _length(args: list[Any], budget: Budget) -> int:
    return len(args[0])


def _contains(args: list[Any], budget: Budget) -> bool:
    subject, search = args
    if isinstance(subject, str):
        needle = to_string(search)
        if needle is None:
            raise FormulaTypeError(f"contains() cannot search a string for {type_of(search)}")
        budget.spend(len(subject) // 64 + 1)
        return needle in subject
    return any(equal(item, search, budget) for item in subject)


def _split(args: list[Any], budget: Budget) -> list[str]:
    text, separator = args
    parts = list(text) if separator == "" else text.split(separator)
    return budget.check_array(parts)


def _not_null(args: list[Any], budget: Budget) -> Any:
    return next((arg for arg in args if arg is not None), None)


def _to_string(args: list[Any], budget: Budget) -> str:
    value = args[0]
    text = to_string(value)
    if text is None:
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=dict)
        except (RecursionError, ValueError, TypeError):
            raise FormulaLimitError("value too deep to convert to a string") from None
    return budget.check_string(text)


def _join(args: list[Any], budget: Budget) -> str:
    glue, items = args
    texts = [to_string(item) for item in items]
    if any(text is None for text in texts):
        raise FormulaTypeError("join() needs an array of scalars")
    budget.spend(len(texts))
    return budget.check_string(glue.join(texts))


def _unique(args: list[Any], budget: Budget) -> list[Any]:
    out: list[Any] = []
    for item in args[0]:
        if not any(equal(item, seen, budget) for seen in out):
            out.append(item)
    return out


def _sort(args: list[Any], budget: Budget) -> list[Any]:
    items = list(args[0])
    kinds = {type_of(item) for item in items}
    if kinds - {"number"} and kinds - {"string"}:
        raise FormulaTypeError("sort() needs an array of only numbers or only strings")
    budget.spend(len(items))
    return sorted(items)


def _sum(args: list[Any], budget: Budget) -> int | float:
    numbers = [number for item in args[0] if (number := to_number(item)) is not None]
    if len(numbers) != len(args[0]):
        raise FormulaTypeError("sum() needs an array of numbers")
    budget.spend(len(numbers))
    return number_result(sum(as_float(n) for n in numbers))


def _value(args: list[Any], budget: Budget) -> Any:
    container, key = args
    if is_object(container):
        return container.get(to_string(key))
    number = to_number(key)
    if number is None or not as_float(number).is_integer():
        raise FormulaTypeError("value() on an array needs an integer index")
    index = int(number)
    return container[index] if -len(container) <= index < len(container) else None


def _reverse(args: list[Any], budget: Budget) -> Any:
    subject = args[0]
    return subject[::-1] if isinstance(subject, str) else list(reversed(subject))


_S, _N, _A, _O, _ANY = ("string",), ("number",), ("array",), ("object",), ("any",)
FUNCTIONS: dict[str, _Function] = {
    "length": _Function((("string", "array", "object"),), _length),
    "contains": _Function((("array", "string"), _ANY), _contains),
    "startsWith": _Function((_S, _S), lambda a, b: a[0].startswith(a[1])),
    "endsWith": _Function((_S, _S), lambda a, b: a[0].endswith(a[1])),
    "split": _Function((_S, _S), _split),
    "keys": _Function((_O,), lambda a, b: b.check_array(list(a[0].keys()))),
    "values": _Function((_O,), lambda a, b: b.check_array(list(a[0].values()))),
    "entries": _Function((_O,), lambda a, b: b.check_array([[k, v] for k, v in a[0].items()])),
    "notNull": _Function((_ANY,), _not_null, variadic=True),
    "type": _Function((_ANY,), lambda a, b: type_of(a[0])),
    "not": _Function((_ANY,), lambda a, b: not truthy(a[0])),
    "and": _Function((_ANY,), lambda a, b: all(truthy(x) for x in a), variadic=True),
    "or": _Function((_ANY,), lambda a, b: any(truthy(x) for x in a), variadic=True),
    "true": _Function((), lambda a, b: True),
    "false": _Function((), lambda a, b: False),
    "null": _Function((), lambda a, b: None),
    "toArray": _Function((_ANY,), lambda a, b: list(a[0]) if is_array(a[0]) else [a[0]]),
    "toNumber": _Function((_ANY,), lambda a, b: None if (n := to_number(a[0])) is None else number_result(n)),
    "toString": _Function((_ANY,), _to_string),
    "join": _Function((_S, _A), _join),
    "lower": _Function((_S,), lambda a, b: a[0].lower()),
    "upper": _Function((_S,), lambda a, b: a[0].upper()),
    "abs": _Function((_N,), lambda a, b: number_result(abs(as_float(a[0])))),
    "sum": _Function((_A,), _sum),
    "unique": _Function((_A,), _unique),
    "sort": _Function((_A,), _sort),
    "reverse": _Function((("string", "array"),), _reverse),
    "value": _Function((("object", "array"), ("string", "number")), _value),
}
