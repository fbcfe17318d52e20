"""The json-formula evaluator behind the C2PA asset rubrics: semantics, errors, limits, fuzzing.

Expected values come from the json-formula specification's own examples where it has one.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.errors import ProvenanceError
from detectors.provenance.formula import (
    FormulaError, FormulaEvaluationError, FormulaFunctionError, FormulaLimitError, FormulaLimits,
    FormulaSyntaxError, FormulaTypeError, evaluate, parse_formula,
)

FAMILY = {"family": [{"name": "frank", "age": 22}, {"name": "jane", "age": 23}]}
NESTED = {"foo": [{"bar": ["first1", "second1"]}, {"bar": ["first2", "second2"]}]}
MIXED = {"foo": [{"a": "char", "b": "bar"}, {"a": 2, "b": 1}, {"a": 1, "b": 2}, {"a": False, "b": "1"},
                 {"a": 10, "b": "12"}]}


@pytest.mark.parametrize(("expression", "data", "expected"), [
    # paths, quoted identifiers (single quotes name a field), indexes, slices
    ("foo.bar", {"foo": {"bar": "value"}}, "value"),
    ("foo.'bar'", {"foo": {"bar": "value"}}, "value"),
    ("assertions.'c2pa.actions.v2'.actions[0].action",
     {"assertions": {"c2pa.actions.v2": {"actions": [{"action": "c2pa.created"}]}}}, "c2pa.created"),
    ("'with space'", {"with space": 1}, 1),
    ("foo.baz", {"foo": {"bar": 1}}, None),
    ("[0]", ["first", "second"], "first"),
    ("[-1]", ["first", "second"], "second"),
    ("[100]", ["first"], None),
    ("[::-1]", [0, 1, 2, 3], [3, 2, 1, 0]),
    ("[-2:]", [0, 1, 2, 3], [2, 3]),
    ("[:2]", [0, 1, 2, 3], [0, 1]),
    ("@.family[0].name", FAMILY, "frank"),
    # projections keep nulls (json-formula, unlike JMESPath); pipes stop them
    ("[*].foo", [{"foo": 1}, {"foo": 2}, {"bar": 3}], [1, 2, None]),
    ("*.foo", {"a": {"foo": 1}, "b": {"foo": 2}}, [1, 2]),
    ("foo[*].bar[0]", NESTED, ["first1", "first2"]),
    ("foo[*].bar | [0]", NESTED, ["first1", "second1"]),
    ("foo[][]", {"foo": [[0, 1], [1, 2], [3, [4, 5]]]}, [0, 1, 1, 2, 3, 4, 5]),
    ("family[].[name, age]", FAMILY, [["frank", 22], ["jane", 23]]),
    ("family[?age == `23`].name", FAMILY, ["jane"]),
    ("family[?@.age > 22] | length(@)", FAMILY, 1),
    ("foo[?a < b]", MIXED, [{"a": 1, "b": 2}, {"a": False, "b": "1"}, {"a": 10, "b": "12"}]),
    ("[?@ == `1`]", [1, "1", True], [1]),
    ("x[?y]", {"x": {"y": 1}}, None),  # filters apply to arrays only
    ("items[0:2].price * 2", {"items": [{"price": 3.5}, {"price": 1}, {"price": 9}]}, [7, 2]),
    ("{a: x, 'b.c': `[1]`}", {"x": 5}, {"a": 5, "b.c": [1]}),
    ("{ failure: [{code: \"X\"}] }", {}, {"failure": [{"code": "X"}]}),
    # logic returns operands; json-formula truth (0, "", [] and {} are false)
    ("foo || bar", {"bar": "b"}, "b"),
    ("foo || bar", {"foo": 0, "bar": "b"}, "b"),
    ("Number && EmptyList", {"Number": 5, "EmptyList": []}, []),
    ("!EmptyList", {"EmptyList": {}}, True),
    ("!contains(`[1]`, `2`) && `true`", {}, True),
    # comparisons: == never coerces; ordering coerces mixed types to numbers
    ("1 == \"1\"", {}, False),
    ("`true` == `1`", {}, False),
    ("a == b", {"a": {"x": [1, {"y": None}]}, "b": {"x": [1, {"y": None}]}}, True),
    ("a != b", {"a": [1, 2], "b": [2, 1]}, True),
    ("123 < \"124\"", {}, True),
    ("\"23\" > 111", {}, False),
    ("\"abc\" < \"abd\"", {}, True),
    ("`{}` < 1", {}, False),  # a failed coercion makes an ordering false, not an error
    ("x = 1 && y <> 2", {"x": 1, "y": 3}, True),
    # arithmetic, concatenation, union, array operands
    ("4 + 2 * 4", {}, 12),
    ("10 / 2 * 3", {}, 15),
    ("-n", {"n": 5}, -5),
    ("--n", {"n": 5}, 5),
    ("\"123\" * 2", {}, 246),
    ("2 + `true`", {}, 3),
    ("\"abc\" & 123 & `null`", {}, "abc123"),
    ("left & value & right", {"left": "[", "right": "]", "value": "abc"}, "[abc]"),
    ("[1, 2, 3] ~ 4", {}, [1, 2, 3, 4]),
    ("a ~ `null`", {"a": [0]}, [0, None]),
    ("[1, 2, 3, 4] * [1, 2, 3]", {}, [1, 4, 9, 0]),
    ("[1, 2] & \"%\"", {}, ["1%", "2%"]),
    ("split(\"2.4\", `\".\"`)[0] * 1 >= 2.0", {}, True),
    ("`\"foo\\`bar\"`", {}, "foo`bar"),
    ("\"\\u0041\\t\"", {}, "A\t"),
    ("1e2 + .5", {}, 100.5),
])
def test_semantics(expression, data, expected):
    assert evaluate(expression, data) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("length(`[1, 2]`) + length(\"abc\") + length(`{\"a\": 1}`)", 6),
    ("contains(`[\"a\", 1]`, `1`)", True),
    ("contains(`[{\"a\": 1}]`, `{\"a\": 1}`)", True),
    ("contains(\"abcd\", \"bc\")", True),
    ("contains(`[1]`, \"1\")", False),
    ("startsWith(\"c2pa.created\", \"c2pa.\") && endsWith(\"a.v2\", \"v2\")", True),
    ("startsWith(`null`, \"c2pa.\")", False),  # null coerces to "" (single viable coercion)
    ("split(\"a__b\", \"__\")[0]", "a"),
    ("split(\"ab\", \"\")", ["a", "b"]),
    ("keys(`{\"a\": 1, \"b\": 2}`)", ["a", "b"]),
    ("values(`{\"a\": 1, \"b\": 2}`)", [1, 2]),
    ("keys(`null`)", []),
    ("notNull(`null`, x, 3)", 3),
    ("if(`[]`, missing(), \"no\")", "no"),  # lazy: the other branch is never evaluated
    ("type(`1`) & type(\"\") & type(`null`) & type(`[]`)", "numberstringnullarray"),
    ("not(\"\") && and(`1`, \"x\") && or(`0`, `true`)", True),
    ("toNumber(\"10\") + toNumber(`true`)", 11),
    ("toString(`{\"a\": [1]}`)", '{"a":[1]}'),
    ("join(\", \", `[\"a\", 1]`)", "a, 1"),
    ("sum(`[1, 2.5]`) + abs(`-1`)", 4.5),
    ("unique(`[1, 1, \"1\"]`)", [1, "1"]),
    ("sort(`[\"b\", \"a\"]`)", ["a", "b"]),
    ("value(`[5, 6]`, `-1`)", 6),
    ("[1, 2].length(@)", 2),
])
def test_functions(expression, expected):
    assert evaluate(expression, {"x": None}) == expected


def test_variables_and_helper_expressions_follow_the_rubric_convention():
    manifest = {"assertions": {"c2pa.actions.v2": {"actions": [
        {"action": "c2pa.created", "digitalSourceType": "dst:ai"}, {"action": "c2pa.edited"}]}}}
    helpers = {
        "_signalActions": "$args[0].assertions.'c2pa.actions.v2'.actions",
        # $args stays visible inside the filter, where @ is the element
        "_createdWithDst": "length(_signalActions($args[0])[? action == \"c2pa.created\" && "
                           "digitalSourceType == $args[1]]) > 0",
        "_zeroArg": "assertions | keys(@)",  # @ is the caller's @
        "_outer": "[_inner(`1`), $args[0]]",  # an inner call's $args is restored on return
        "_inner": "$args[0]",
    }
    assert evaluate("_createdWithDst(@, \"dst:ai\")", manifest, expressions=helpers) is True
    assert evaluate("_createdWithDst(@, $dst)", manifest, expressions=helpers, variables={"$dst": "x"}) is False
    assert evaluate("_zeroArg()", manifest, expressions=helpers) == ["c2pa.actions.v2"]
    assert evaluate("_outer(`5`)", {}, expressions=helpers) == [1, 5]


@pytest.mark.parametrize(("expression", "error"), [
    ("foo[", FormulaSyntaxError),
    ("\"open", FormulaSyntaxError),
    ("'open", FormulaSyntaxError),
    ("`[1,`", FormulaSyntaxError),
    ("a..b", FormulaSyntaxError),
    ("a b", FormulaSyntaxError),
    ("{}", FormulaSyntaxError),
    ("foo[bar]", FormulaSyntaxError),  # computed indexes are not in the supported subset
    ("sortBy(a, &b)", FormulaSyntaxError),  # nor are expression references
    ("'quoted'(1)", FormulaSyntaxError),
    ("1e999", FormulaSyntaxError),
    ("#", FormulaSyntaxError),
])
def test_syntax_errors_name_the_expression(expression, error):
    with pytest.raises(error) as caught:
        parse_formula(expression)
    assert caught.value.expression == expression
    assert repr(expression)[1:-1] in str(caught.value) or expression in str(caught.value)
    assert isinstance(caught.value, ProvenanceError)  # one error tree for the CLI's exit codes


@pytest.mark.parametrize(("expression", "error"), [
    ("nosuch(1)", FormulaFunctionError),
    ("length(`[]`, `[]`)", FormulaFunctionError),
    ("if(`true`, 1)", FormulaFunctionError),
    ("$undefined", FormulaEvaluationError),
    ("length(`null`)", FormulaTypeError),  # null coerces to "", [] and {} alike: ambiguous
    ("contains(`null`, \"a\")", FormulaTypeError),
    ("`{}` + 1", FormulaTypeError),
    ("\"$1\" * 2", FormulaTypeError),
    ("1 / 0", FormulaEvaluationError),
    ("[0:1:0]", FormulaEvaluationError),
    ("`1e308` * 10", FormulaEvaluationError),
])
def test_evaluation_errors_are_typed(expression, error):
    with pytest.raises(error) as caught:
        evaluate(expression, [1, 2])
    assert caught.value.expression == expression


@pytest.mark.parametrize("expression", [
    "(" * 400 + "a" + ")" * 400,
    "!" * 400 + "a",
    "a" + ".a" * 400,  # a loop in the parser, but a deep tree: caught before evaluation
    "1" + " + 1" * 400,
    "[" * 400 + "]" * 400,
])
def test_nesting_is_bounded(expression):
    with pytest.raises(FormulaLimitError):
        evaluate(expression, {})


def test_recursive_helpers_and_runaway_work_are_bounded():
    with pytest.raises(FormulaLimitError):
        evaluate("_loop()", {}, expressions={"_loop": "_loop()"})
    with pytest.raises(FormulaLimitError):
        evaluate("_a(`1`)", {}, expressions={"_a": "_b($args[0])", "_b": "_a($args[0])"})
    small = FormulaLimits(max_steps=500)
    with pytest.raises(FormulaLimitError):
        evaluate("[*].a", [{"a": 1}] * 1000, limits=small)
    with pytest.raises(FormulaLimitError):
        evaluate("x & x", {"x": "y" * 600}, limits=FormulaLimits(max_string=1000))
    with pytest.raises(FormulaLimitError):
        evaluate("x ~ x", {"x": [0] * 600}, limits=FormulaLimits(max_array=1000))
    with pytest.raises(FormulaLimitError):
        parse_formula("a" * 70_000)
    deep: object = 0
    for _ in range(5000):  # deep data: equality is iterative, so no RecursionError
        deep = [deep]
    assert evaluate("a == b", {"a": deep, "b": deep}) is True


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abxy$@"), inner, max_size=4),
    max_leaves=16,
)
TOKENS = st.sampled_from([
    "a", "b", "x", "'a.b'", "\"s\"", "`[1, \"a\"]`", "`{\"a\": 1}`", "`null`", "1", "0", "2.5", "@", "$v",
    "$args", ".", "[", "]", "[?", "[*]", "[]", "[0]", "[-1]", "[1:]", "{a: ", "}", "(", ")", ",", ":", "*",
    "|", "||", "&&", "!", "==", "!=", "<", ">=", "+", "-", "/", "&", "~", "length(", "contains(",
    "startsWith(", "split(", "keys(", "values(", "notNull(", "if(", "type(", "_h(", "_g()", " ",
])


def _fuzz(expression: str, data: object) -> None:
    try:
        result = evaluate(expression, data, variables={"$v": [1, "a", None]},
                          expressions={"_h": "$args[0] || @", "_g": "_h(@, `1`)"})
    except FormulaError as exc:
        assert not exc.message.startswith("internal failure"), exc  # a Python error we did not anticipate
        return
    json.dumps(result, allow_nan=False)  # results are plain JSON


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, max_size=14).map("".join), JSON)
def test_random_token_soup_only_raises_formula_errors(expression, data):
    _fuzz(expression, data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab$_@.*[]{}()?!,:|&=<>+-/~\"'`0123 \\", max_size=30), JSON)
def test_random_characters_only_raise_formula_errors(expression, data):
    _fuzz(expression, data)
