"""A json-formula evaluator, written for the C2PA conformance program's asset rubrics.

json-formula (https://opensource.adobe.com/json-formula/) is JMESPath plus spreadsheet-style
operators. This module implements the part of it the rubrics use, from the specification:

* paths: ``a.b``, ``'quoted.name'`` (single quotes are identifiers, not strings), ``@``,
  ``[0]`` / ``[-1]``, slices, ``[*]``, ``.*``, ``[]`` (flatten), ``[?cond]`` (filter), pipes
* literals: ``"string"``, numbers, JSON in backticks (`` `[]` ``, `` `"2"` ``), ``[a, b]``,
  ``{key: expr}``
* operators: ``|| && !``, ``== != < <= > >=`` (``=`` and ``<>`` too), ``+ - * /``, ``&``
  (concatenation), ``~`` (union), unary minus; json-formula's coercion and truth rules
  (0, "", [], {}, false and null are false; ``==`` never coerces)
* globals ``$name`` and rubric helper expressions called like functions (see interpreter.py
  for the ``$args`` convention)
* functions: length, contains, startsWith, endsWith, split, keys, values, entries, notNull,
  if, type, not, and, or, true, false, null, toArray, toNumber, toString, join, lower, upper,
  abs, sum, unique, sort, reverse, value

As in the specification, a bare ``true``, ``false`` or ``null`` is a field name (usually
absent, so null): write `` `true` `` or ``true()``. Unknown ``$variables`` are an error.

Not implemented (a FormulaSyntaxError or FormulaFunctionError names the expression):
expression references (``&expr``) and the functions taking them, date/time, math and
text functions beyond the list above, array broadcasting of scalar functions.

Every failure is a FormulaError subclass; hostile input is bounded by FormulaLimits (length,
tokens, nesting, helper-call depth, steps, string and array sizes), never by a hang.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors.provenance._formula.errors import (
    FormulaError,
    FormulaEvaluationError,
    FormulaFunctionError,
    FormulaLimitError,
    FormulaSyntaxError,
    FormulaTypeError,
)
from detectors.provenance._formula.interpreter import Interpreter
from detectors.provenance._formula.nodes import FormulaLimits, Node
from detectors.provenance._formula.parser import parse

__all__ = [
    "Formula",
    "FormulaLimits",
    "FormulaError",
    "FormulaSyntaxError",
    "FormulaTypeError",
    "FormulaFunctionError",
    "FormulaEvaluationError",
    "FormulaLimitError",
    "parse_formula",
    "evaluate",
]

DEFAULT_LIMITS = FormulaLimits()


@dataclass(frozen=True)
class Formula:
    """A parsed expression; evaluate it any number of times against different data."""

    source: str
    node: Node = field(repr=False, compare=False)
    limits: FormulaLimits = field(default=DEFAULT_LIMITS, repr=False, compare=False)

    def evaluate(
        self,
        data: Any,
        *,
        variables: Mapping[str, Any] | None = None,
        expressions: Mapping[str, Formula] | None = None,
    ) -> Any:
        """The value of this expression with ``@`` = ``data``.

        ``variables``: globals, every name starting with ``$``. ``expressions``: rubric helper
        expressions, every name starting with ``_``. The result shares structure with
        ``data`` and with literals in the expression: treat it as read-only.
        """
        helpers: dict[str, Node] = {}
        for name, formula in (expressions or {}).items():
            if not name.startswith("_"):
                raise FormulaFunctionError(f"helper expression name {name!r} must start with '_'", self.source)
            helpers[name] = formula.node
        for name in variables or {}:
            if not name.startswith("$"):
                raise FormulaEvaluationError(f"variable name {name!r} must start with '$'", self.source)
        interpreter = Interpreter(dict(variables or {}), helpers, self.limits)
        try:
            return interpreter.visit(self.node, data)
        except FormulaError as exc:
            raise exc.with_expression(self.source) from None
        except RecursionError:
            raise FormulaLimitError("evaluation recursed too deeply", self.source) from None
        except (TypeError, ValueError, OverflowError, KeyError, IndexError, AttributeError) as exc:
            # Data that is not JSON (a set, a custom object) can reach Python operations we did
            # not guard; report it as a typed failure of this expression, never a bare crash.
            raise FormulaEvaluationError(f"internal failure on non-JSON input: {exc!r}", self.source) from None


def parse_formula(text: str, *, limits: FormulaLimits = DEFAULT_LIMITS) -> Formula:
    """Parse ``text``; FormulaSyntaxError (or FormulaLimitError) naming it when it is not valid."""
    if not isinstance(text, str):
        raise FormulaSyntaxError(f"expression must be a string, not {type(text).__name__}")
    try:
        return Formula(text, parse(text, limits), limits)
    except FormulaError as exc:
        raise exc.with_expression(text) from None
    except RecursionError:
        raise FormulaLimitError("expression nests too deeply", text) from None


def evaluate(
    expression: str | Formula,
    data: Any,
    *,
    variables: Mapping[str, Any] | None = None,
    expressions: Mapping[str, str | Formula] | None = None,
    limits: FormulaLimits = DEFAULT_LIMITS,
) -> Any:
    """Parse (if needed) and evaluate ``expression`` against ``data`` in one call."""
    formula = expression if isinstance(expression, Formula) else parse_formula(expression, limits=limits)
    helpers = {
        name: body if isinstance(body, Formula) else parse_formula(body, limits=limits)
        for name, body in (expressions or {}).items()
    }
    return formula.evaluate(data, variables=variables, expressions=helpers)
