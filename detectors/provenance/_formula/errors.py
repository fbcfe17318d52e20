"""Typed errors of the json-formula evaluator: one root, one subclass per json-formula error kind.

The json-formula specification names four runtime error kinds (SyntaxError, TypeError,
FunctionError, EvaluationError); we add a fifth for our own resource limits so a caller can
tell a hostile or runaway expression from a merely wrong one. All of them derive from
ProvenanceError, so the CLI's exit-code mapping covers them without a new entry.
"""

from __future__ import annotations

from detectors.errors import ProvenanceError

__all__ = [
    "FormulaError",
    "FormulaSyntaxError",
    "FormulaTypeError",
    "FormulaFunctionError",
    "FormulaEvaluationError",
    "FormulaLimitError",
]

_SHOWN = 160  # characters of the expression quoted in a message: enough to find it in a rubric


class FormulaError(ProvenanceError):
    """An expression could not be parsed or evaluated. ``expression`` is the source text."""

    def __init__(self, message: str, expression: str = "", position: int | None = None) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" at {self.position}" if self.position is not None else ""
        if not self.expression:
            return self.message
        text = " ".join(self.expression.split())
        if len(text) > _SHOWN:
            text = text[: _SHOWN - 3] + "..."
        return f"{self.message}{where} in expression {text!r}"

    def with_expression(self, expression: str) -> FormulaError:
        """The same error naming ``expression`` (the evaluator learns it only at the top)."""
        if self.expression:
            return self
        clone = type(self)(self.message, expression, self.position)
        return clone


class FormulaSyntaxError(FormulaError):
    """Not json-formula, or a part of json-formula this evaluator does not implement."""


class FormulaTypeError(FormulaError):
    """A value could not be coerced to the type an operator or function needs."""


class FormulaFunctionError(FormulaError):
    """Unknown function, or a call with the wrong number of arguments."""


class FormulaEvaluationError(FormulaError):
    """A runtime failure: division by zero, unknown variable, zero slice step, ..."""


class FormulaLimitError(FormulaError):
    """The expression or its evaluation exceeded a configured bound (depth, work, size)."""
