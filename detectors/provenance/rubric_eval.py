"""Evaluate a loaded rubric against a crJSON document into a typed, immutable report.

Outcomes follow the conformance program's evaluator: a ``failIfMatched`` statement fails
when its expression yields a non-empty array (the matches, shown in ``{{matches}}``); a
``warnIfMatched`` one warns likewise; any other statement passes on a non-empty array,
``true``, a positive number or another non-null value. An expression that cannot be
evaluated yields the outcome ``error`` (value null, as the rubric specification says) and
never aborts the report. Each value is recorded under ``profile.<id>`` of the document the
later statements see, as the specification requires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from detectors.provenance.formula import FormulaError, parse_formula
from detectors.provenance.rubric_loader import Rubric, Statement

__all__ = ["RubricReport", "StatementResult", "DataBlockResult", "Outcome", "evaluate_rubric"]

Outcome = Literal["pass", "fail", "warn", "error", "info"]
# {{ expr "..." }} or {{ path }}. Written so that no part can match the same text two ways:
# a rubric's report text must not be able to make the regex backtrack for long.
_TEMPLATE = re.compile(r"\{\{(?:\s*expr\s+\"((?:[^\"\\]|\\.)*)\"\s*|([^{}]*))\}\}")
_MAX_FREEZE_DEPTH = 64


@dataclass(frozen=True)
class StatementResult:
    id: str
    description: str | None
    value: Any  # the expression's JSON value, frozen: arrays as tuples, objects read-only
    passed: bool | None  # None: information statement, or the expression failed (see error)
    outcome: Outcome
    report_text: str
    matches: tuple[Any, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DataBlockResult:
    name: str
    value: Any


@dataclass(frozen=True)
class RubricReport:
    name: str
    version: str
    results: tuple[StatementResult, ...]
    blocks: tuple[DataBlockResult, ...] = ()

    def result(self, statement_id: str) -> StatementResult:
        for result in self.results:
            if result.id == statement_id:
                return result
        raise KeyError(statement_id)

    @property
    def failures(self) -> tuple[StatementResult, ...]:
        return tuple(result for result in self.results if result.outcome == "fail")

    @property
    def errors(self) -> tuple[StatementResult, ...]:
        return tuple(result for result in self.results if result.outcome == "error")

    @property
    def passed(self) -> bool:
        """True when no statement failed or could not be evaluated (warnings allowed)."""
        return not self.failures and not self.errors


def evaluate_rubric(
    rubric: Rubric,
    document: Mapping[str, Any],
    *,
    variables: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> RubricReport:
    """Every statement of ``rubric`` against ``document`` (usually a crJSON manifest store).

    ``variables`` add to or override the rubric's ``$variables``; ``language`` picks the
    report text (default: the rubric's language, then English).
    """
    profile: dict[str, Any] = dict(document.get("profile") or {}) if isinstance(document, Mapping) else {}
    root: dict[str, Any] = {**document, "profile": profile} if isinstance(document, Mapping) else {}
    context = _Context(rubric, root, {**rubric.variables, **(variables or {})}, language or rubric.language or "en")
    results = []
    for statement in rubric.statements:
        result = _evaluate_statement(statement, context)
        if statement.expression is not None:
            profile[statement.id] = context.raw.get(statement.id)
        results.append(result)
    blocks = tuple(
        DataBlockResult(block.name, _frozen_or_none(_render_value(block.value, context))) for block in rubric.blocks
    )
    return RubricReport(rubric.name, rubric.version, tuple(results), blocks)


class _Context:
    def __init__(self, rubric: Rubric, root: dict[str, Any], variables: dict[str, Any], language: str) -> None:
        self.rubric = rubric
        self.root = root
        self.variables = variables
        self.language = language
        self.raw: dict[str, Any] = {}  # statement id -> unfrozen value, for templates and profile


def _evaluate_statement(statement: Statement, context: _Context) -> StatementResult:
    if statement.expression is None:
        text = _render(_pick_text(statement.report_text, None, context.language), context, ())
        return StatementResult(statement.id, statement.description, None, None, "info", text)
    try:
        value = statement.expression.evaluate(
            context.root, variables=context.variables, expressions=context.rubric.expressions
        )
    except FormulaError as exc:
        context.raw[statement.id] = None
        return StatementResult(
            statement.id, statement.description, None, None, "error", f"Error: {exc}", error=str(exc)
        )
    context.raw[statement.id] = value
    outcome, matches = _classify(statement, value)
    text = _render(_pick_text(statement.report_text, outcome, context.language), context, matches)
    try:
        frozen, frozen_matches = _freeze(value), tuple(_freeze(match) for match in matches)
    except RecursionError:  # data nested deeper than _MAX_FREEZE_DEPTH (no real crJSON is)
        return StatementResult(
            statement.id,
            statement.description,
            None,
            None,
            "error",
            "Error: value nests too deeply",
            error="value nests too deeply",
        )
    return StatementResult(
        statement.id, statement.description, frozen, outcome == "pass", outcome, text, frozen_matches
    )


def _classify(statement: Statement, value: Any) -> tuple[Outcome, tuple[Any, ...]]:
    if statement.fail_if_matched or statement.warn_if_matched:
        if isinstance(value, (list, tuple)) and value:
            return ("fail" if statement.fail_if_matched else "warn"), tuple(value)
        return "pass", ()
    if isinstance(value, (list, tuple)):
        truth = bool(value)
    elif isinstance(value, bool):
        truth = value
    elif isinstance(value, (int, float)):
        truth = value > 0
    else:
        truth = value is not None
    return ("pass" if truth else "fail"), ()


def _pick_text(report_text: Any, outcome: Outcome | None, language: str) -> str:
    chosen = report_text
    if isinstance(report_text, Mapping) and outcome is not None and {"true", "false"} & set(report_text):
        key = {"pass": "true", "fail": "false", "warn": "warn"}.get(outcome, "false")
        chosen = report_text.get(key, report_text.get("false") if key == "warn" else None)
        if chosen is None:
            chosen = report_text.get("default", "")
    if isinstance(chosen, Mapping):
        for lang in (language, "en"):
            if isinstance(chosen.get(lang), str):
                return chosen[lang]
        return next((text for text in chosen.values() if isinstance(text, str)), "")
    return "" if chosen is None else str(chosen)


def _render(text: str, context: _Context, matches: tuple[Any, ...]) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = _template_value(match, context, matches)
        return match.group(0) if value is _MISSING else _as_text(value)

    return _TEMPLATE.sub(substitute, text)


_MISSING = object()


def _template_value(match: re.Match[str], context: _Context, matches: tuple[Any, ...]) -> Any:
    expression, path = match.group(1), match.group(2)
    if expression is not None:
        try:
            source = json.loads(f'"{expression}"')  # the template quotes the expression JSON-style
            # Templates see the information block too ({{expr "@.rubric_metadata"}}).
            data = {**context.rubric.info, **context.root}
            return parse_formula(source).evaluate(
                data, variables=context.variables, expressions=context.rubric.expressions
            )
        except (FormulaError, ValueError):
            return _MISSING
    path = (path or "").strip()
    if path == "matches":
        return list(matches)
    if path in context.raw:
        return context.raw[path]
    node: Any = {**context.rubric.info, "profile": context.root.get("profile", {}), **context.raw}
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    # Rubric variables are read-only mappings (MappingProxyType), which json cannot write.
    return dict(value) if isinstance(value, Mapping) else str(value)


def _render_value(value: Any, context: _Context) -> Any:
    """A data block's value with templates filled; a string that is one template keeps its type."""
    if isinstance(value, str):
        whole = _TEMPLATE.fullmatch(value.strip())
        if whole is not None:
            result = _template_value(whole, context, ())
            return value if result is _MISSING else result
        return _render(value, context, ())
    if isinstance(value, Mapping):
        return {key: _render_value(item, context) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render_value(item, context) for item in value]
    return value


def _frozen_or_none(value: Any) -> Any:
    try:
        return _freeze(value)
    except RecursionError:
        return None


def _freeze(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_FREEZE_DEPTH:
        raise RecursionError("value nests too deeply")
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item, depth + 1) for item in value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item, depth + 1) for key, item in value.items()})
    return value
