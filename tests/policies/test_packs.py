"""Packs as data: bundled packs load and pass their own examples; broken packs fail loudly."""

from __future__ import annotations

import pytest

from policies import PackSource, PolicyEngine, PolicyPackError
from policies.schema import bundled_sources

GOOD_RULE = "  - id: x.one\n    category: sexual\n    terms: [foo]\n"


def load_extra(text: str, name: str = "extra.yaml") -> PolicyEngine:
    return PolicyEngine.load(extra_packs=[PackSource(name, text)], semantic=False)


def test_bundled_packs_come_from_the_package(lexical):
    names = [s.name for s in bundled_sources()]
    assert names and all(n.startswith("bundled:") for n in names)
    assert {p.spec.pack for p in lexical.packs} >= {"safety", "likeness", "characters"}


def test_every_bundled_example_passes(lexical):
    results = lexical.run_examples()
    failures = [(r.rule_id, r.prompt) for r in results if not r.passed]
    assert len(results) > 100 and failures == []


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n    action: block\n    terms: [foo]\n",
            r"extra\.yaml:6: rules\[0\]\.action: .*got 'block'",
        ),
        (
            "pack: x\nversion: '1'\nrules:\n" + GOOD_RULE + GOOD_RULE,
            r"extra\.yaml:7: rules\[1\]\.id: duplicate rule id 'x\.one' \(first at extra\.yaml:4\)",
        ),
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: nope\n    terms: [foo]\n",
            r"extra\.yaml:5: rules\[0\]\.category: unknown category 'nope'",
        ),
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n    all_of: [nope]\n",
            r"extra\.yaml:6: rules\[0\]\.all_of: unknown lexicon 'nope'",
        ),
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n    patterns: ['(unclosed']\n",
            r"extra\.yaml:6: rules\[0\]\.patterns: .*invalid regular expression",
        ),
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n",
            r"extra\.yaml:4: rules\[0\]: rule 'x\.one' matches nothing",
        ),
        ("pack: x\nversion: '1'\nversion: '2'\n", r"extra\.yaml:3: version: duplicate key \(first at line 2\)"),
        ("pack: x\nversion: '1'\nrules: [\n", r"extra\.yaml:\d+: YAML syntax error"),
        ("- just\n- a list\n", r"extra\.yaml:1: <pack>: a pack must be a YAML mapping"),
        ("pack: x\nrules: []\n", r"extra\.yaml:1: version: Field required"),
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n    terms: [foo]\n    colour: red\n",
            r"extra\.yaml:7: rules\[0\]\.colour: Extra inputs are not permitted",
        ),
        # A flow list would cut "a dog with a green hat, orange shirt" into two exemplars.
        (
            "pack: x\nversion: '1'\nrules:\n  - id: x.one\n    category: sexual\n    threshold: 0.6\n"
            "    exemplars: [a dog with a green hat, orange shirt]\n",
            r"extra\.yaml:7: rules\[0\]\.exemplars: write one sentence per line",
        ),
    ],
)
def test_broken_packs_name_file_line_and_field(text, expected):
    with pytest.raises(PolicyPackError, match=expected):
        load_extra(text)


def test_a_rule_id_reused_from_a_bundled_pack_is_refused():
    with pytest.raises(
        PolicyPackError, match=r"duplicate rule id 'sexual\.explicit' \(first at bundled:safety\.yaml:\d+\)"
    ):
        load_extra("pack: x\nversion: '1'\nrules:\n  - id: sexual.explicit\n    category: sexual\n    terms: [foo]\n")


def test_a_second_pack_with_the_same_name_is_refused():
    with pytest.raises(PolicyPackError, match="duplicate pack name 'safety'"):
        load_extra("pack: safety\nversion: '9'\n")


def test_a_missing_pack_file_is_an_error(tmp_path):
    with pytest.raises(PolicyPackError, match="cannot read pack"):
        PolicyEngine.load(extra_packs=[tmp_path / "missing.yaml"], semantic=False)
