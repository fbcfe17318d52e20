"""json-formula's value model on Python JSON data: type names, truth, equality and coercion.

Python's own rules differ from json-formula's in ways that matter here (``True == 1``,
``0 == False``, ``[] != ()``), so nothing below uses ``==`` across types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from detectors.provenance._formula.errors import FormulaEvaluationError, FormulaLimitError, FormulaTypeError
from detectors.provenance._formula.nodes import FormulaLimits

__all__ = [
    "Budget",
    "type_of",
    "truthy",
    "equal",
    "to_number",
    "to_string",
    "number_result",
    "as_float",
    "is_array",
    "is_object",
]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_MAX_NUMERIC_TEXT = 400  # a longer "number" in a string is not one we need to honour


class Budget:
    """Work and size accounting for one evaluation; raises FormulaLimitError when spent."""

    def __init__(self, limits: FormulaLimits) -> None:
        self.limits = limits
        self.steps = 0

    def spend(self, amount: int = 1) -> None:
        self.steps += amount
        if self.steps > self.limits.max_steps:
            raise FormulaLimitError(f"evaluation exceeded {self.limits.max_steps} steps")

    def check_string(self, value: str) -> str:
        if len(value) > self.limits.max_string:
            raise FormulaLimitError(f"string longer than {self.limits.max_string} characters")
        return value

    def check_array(self, value: list[Any]) -> list[Any]:
        if len(value) > self.limits.max_array:
            raise FormulaLimitError(f"array longer than {self.limits.max_array} elements")
        self.spend(len(value))
        return value


def is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if is_array(value):
        return "array"
    if is_object(value):
        return "object"
    raise FormulaTypeError(f"{type(value).__name__} is not a JSON value")


def truthy(value: Any) -> bool:
    """json-formula truth: false, null, 0, "", [] and {} are false; everything else true."""
    if value is None or value is False:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, tuple)) or is_object(value):
        return len(value) > 0
    return True


def equal(left: Any, right: Any, budget: Budget) -> bool:
    """Deep equality without coercion; iterative, so deep or self-similar data cannot overflow."""
    stack: list[tuple[Any, Any]] = [(left, right)]
    while stack:
        budget.spend()
        a, b = stack.pop()
        kind = type_of(a)
        if kind != type_of(b):
            return False
        if kind == "array":
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif kind == "object":
            if len(a) != len(b) or any(key not in b for key in a):
                return False
            stack.extend((a[key], b[key]) for key in a)
        elif a != b:
            return False
    return True


def to_number(value: Any) -> int | float | None:
    """Coerce to a number per the json-formula table, or None where the table says unsupported."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if value.strip() == "":
            return 0
        if len(value) > _MAX_NUMERIC_TEXT or not _NUMBER.fullmatch(value):
            return None
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def to_string(value: Any) -> str | None:
    """Coerce to a string per the json-formula table, or None where unsupported (array, object)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))  # JavaScript prints 2.0 as "2"
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def number_result(value: float | int) -> int | float:
    """A computed number as json-formula would show it: finite, and integral values as ints."""
    number = float(value)  # keeps arithmetic on doubles, as json-formula specifies
    if not math.isfinite(number):
        raise FormulaEvaluationError("arithmetic result is not a finite number")
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def as_float(value: int | float) -> float:
    """``value`` as a double; huge JSON integers (beyond float range) are a type error."""
    try:
        return float(value)
    except OverflowError:
        raise FormulaTypeError("number too large for a double") from None
