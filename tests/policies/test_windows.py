"""Long prompts read in windows: coverage and budget properties, then the real model."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import Action
from policies.errors import PolicyError
from policies.windows import Vocabulary, WindowPlan

_PIECE = re.compile(r"\w{1,4}|[^\w\s]")


def offsets(text: str) -> list[tuple[int, int]]:
    """A stand-in tokenizer: word pieces of up to four letters and single punctuation marks."""
    return [m.span() for m in _PIECE.finditer(text)]


words = st.sampled_from(
    [
        "a",
        "red",
        "fox",
        "jumping",
        "over",
        "the",
        "extraordinarily",
        "lazy",
        "dog",
        "snow",
        "supercalifragilistic",
        "mouse",
        "ears",
        "castle",
        "night",
    ]
)
separators = st.sampled_from([" ", " ", " ", ", ", ". ", "; ", " (", ") "])
texts = st.lists(st.tuples(words, separators), min_size=1, max_size=60).map(
    lambda parts: "".join(w + s for w, s in parts).strip()
)
plans = st.integers(4, 24).flatmap(
    lambda width: st.builds(WindowPlan, whole=st.integers(4, 40), width=st.just(width), budget=st.integers(width, 48))
)


@settings(max_examples=300, deadline=None)
@given(texts, plans)
def test_windows_cover_every_token_and_respect_the_width(text, plan):
    spans = offsets(text)
    windows = plan.windows(text, spans)
    for w in windows:
        inside = [s for s in spans if s[0] >= w.start and s[1] <= w.end]
        assert w.text == text[w.start : w.end] and w.tokens == len(inside) <= plan.width
    for a, b in spans:
        if text[a:b].isalnum():  # every word piece is read in some window (delimiters may fall between)
            assert any(w.start <= a and b <= w.end for w in windows), (text[a:b], windows)


@settings(max_examples=300, deadline=None)
@given(texts, plans)
def test_selection_is_the_text_itself_or_windows_within_budget(text, plan):
    vocabulary = Vocabulary(["a red fox in the snow", "a mouse with round ears"])
    chosen = plan.select(text, offsets, vocabulary)
    if len(offsets(text)) <= plan.whole:
        assert chosen == [text]
        return
    windows = plan.windows(text, offsets(text))
    assert chosen[0] == windows[0].text  # the first window is always read
    assert len(chosen) <= plan.most and len(set(chosen)) == len(chosen)
    assert all(c in text for c in chosen)
    if len(chosen) > 1:
        assert sum(len(offsets(c)) for c in chosen) <= max(plan.budget, windows[0].tokens)


def test_the_window_holding_exemplar_words_is_chosen():
    text = (
        "a quiet village market on a sunny morning, old stone houses with flower boxes, people selling "
        "bread, small boats on the river, a cartoon mouse with huge round ears and red shorts, pigeons"
    )
    vocabulary = Vocabulary(["a cartoon mouse with huge round ears and red shorts", "a bat on a rooftop"])
    chosen = WindowPlan(whole=16, width=12, budget=24).select(text, offsets, vocabulary)
    assert chosen[0].startswith("a quiet village market")
    assert any("mouse" in c for c in chosen[1:])


def test_a_description_after_a_long_preamble_is_caught(semantic):
    preamble = (
        "walking through a quiet village market on a sunny morning, old stone houses with flower boxes, "
        "people selling fruit and fresh bread, a slow river in the background with small wooden boats, "
    )
    d = semantic.check(preamble + "a yellow electric mouse creature with red cheeks")
    assert d.action is Action.DENY and d.hits[0].entity_id == "pikachu"
    lines = "\n".join(semantic.explain(preamble + "a yellow electric mouse creature with red cheeks"))
    assert "windows (long prompt)" in lines and "in window 'a yellow electric mouse creature" in lines
    assert semantic.check(preamble + "children playing near a fountain").allowed


def test_windows_run_side_by_side_and_match_one_at_a_time(minilm):
    embed = minilm.semantic.embedder
    texts = ["a red fox jumping over a lazy dog", "a castle at night under the stars, snow falling"]
    together = embed.each(texts)
    alone = [embed._encode([t], 1, session=embed._session)[0] for t in texts]
    assert together.shape == (2, 384)
    assert max(float(abs(together[i] - alone[i]).max()) for i in range(2)) < 1e-5


def test_bad_plans_are_refused_not_hung():
    for bad in (dict(width=0), dict(width=20, budget=10), dict(whole=0), dict(most=0)):
        with pytest.raises(PolicyError):
            WindowPlan(**bad)


def test_cjk_sentences_are_segments_and_long_runs_overlap():
    text = "一只猫在屋顶上睡觉。一只狗在花园里奔跑，天空很蓝。" + "很长的句子没有任何标点符号" * 4
    spans = [(i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]  # one token a character
    windows = WindowPlan(whole=8, width=10, budget=20).windows(text, spans)
    assert windows[0].text == "一只猫在屋顶上睡觉"
    long_start = text.index("很长")
    cut = [w for w in windows if w.start >= long_start]
    assert len(cut) >= 5 and all(w.tokens <= 10 for w in cut) and cut[-1].end == len(text)
    assert any(a.end > b.start for a, b in pairwise(cut))  # runs overlap


def test_concurrent_checks_read_the_same_windows(semantic):
    """The tokenizer keeps per-call settings on itself; concurrent checks must not trade them."""
    scene = " ".join(["a quiet village market on a sunny morning with old stone houses"] * 12)
    long = scene + ", a yellow electric mouse creature with red cheeks"
    alone = semantic.check(long)
    assert alone.action is Action.DENY

    def run(prompt: str) -> str:
        return semantic.check(prompt).action.value

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, [long, "a cat on a sofa"] * 30))
    assert results[::2] == ["deny"] * 30 and results[1::2] == ["allow"] * 30
