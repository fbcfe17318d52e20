"""Semantic matching with the shipped multilingual model (and MiniLM where a test is about it)."""

from __future__ import annotations

from policies import Action

from .conftest import read_csv


def test_name_free_description_from_the_issue_is_caught(semantic):
    d = semantic.check("a yellow electric mouse creature with red cheeks")
    assert d.action is Action.DENY and d.category == "protected-character"
    hit = d.hits[0]
    assert hit.method == "semantic" and hit.entity_id == "pikachu" and 0.0 < hit.score <= 1.0
    assert "similarity" in d.reason


def test_a_style_tail_neither_hides_nor_dilutes_a_description(semantic):
    tail = ", highly detailed, trending on artstation, octane render, 8k, art by greg rutkowski and wlop"
    d = semantic.check("a yellow electric mouse creature with red cheeks" + tail)
    assert d.action is Action.DENY and d.hits[0].entity_id == "pikachu"
    lines = semantic.explain("a cat on a sofa" + tail)
    assert "semantic input: 'a cat on a sofa'" in lines


def test_tuning_descriptions_are_mostly_caught(semantic):
    """``descriptions_heldout.csv`` is, despite its name, the set the pack descriptions were
    written against (issue #19): a regression guard, not a held-out figure (those are in
    docs/policy.md, from benchmarks/policy/heldout_prompts.jsonl)."""
    rows = read_csv("descriptions_heldout.csv")
    caught = [r for r in rows if not semantic.check(r["prompt"]).allowed]
    assert len(rows) >= 70 and len(caught) / len(rows) >= 0.9


def test_generic_prompts_near_the_benign_anchors_pass(semantic):
    prompts = [r["prompt"] for r in read_csv("benign_hard.csv")][:40]
    refused = [p for p in prompts if not semantic.check(p).allowed]
    assert len(refused) <= 2, refused


def test_explain_lists_the_nearest_exemplars(semantic, minilm):
    lines = semantic.explain("a masked vigilante dressed as a bat on a rooftop")
    assert "semantic model: universal-sentence-encoder-multilingual-3 on numpy" in "\n".join(lines)
    assert any(line.startswith("nearest exemplar: characters.dc") for line in lines)
    lines = minilm.explain("a masked vigilante dressed as a bat on a rooftop")
    assert "semantic model: all-MiniLM-L6-v2 on onnx-int8 (minilm-" in "\n".join(lines)


def test_semantic_is_skipped_once_a_deny_is_certain(semantic, monkeypatch):
    def fail(*_args, **_kwargs):
        raise AssertionError("semantic matcher called after a lexical deny")

    monkeypatch.setattr(semantic.semantic, "match", fail)
    assert semantic.check("Darth Vader eating a burger").action is Action.DENY


def test_an_exemplar_vector_does_not_depend_on_the_rest_of_the_pack(semantic):
    """Adding a description must not move the others (it did in batches: up to 0.015 cosine)."""
    from policies.exemplars import ExemplarIndex

    embedder = semantic.semantic.embedder
    texts = ["a plumber in red overalls", "a blue hedgehog running fast", "a very long and winding " * 6 + "road"]
    small = ExemplarIndex(embedder, [("rule", None, t) for t in texts[:2]], {"rule": 0.6}, [])
    large = ExemplarIndex(embedder, [("rule", None, t) for t in texts], {"rule": 0.6}, ["a cat"])
    assert (small.matrix == large.matrix[:2]).all()
    assert (large.matrix[0] == semantic.semantic.embed(texts[0])).all()  # as a prompt is embedded
