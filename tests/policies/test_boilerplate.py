"""The semantic input drops style-only segments and nothing else."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from policies.boilerplate import STYLE_WORDS, content_text

STYLE = sorted(STYLE_WORDS)
CONTENT = [
    "knight",
    "blood",
    "pikachu",
    "yellow",
    "mouse",
    "gun",
    "child",
    "1girl",
    "nude",
    "burning",
    "flag",
    "12",
    "9",
    "god",
    "oil",
    "bacon",
    "android",
    "pencil",
]


def test_style_tails_and_diffusion_syntax_are_dropped():
    prompt = (
        "weird portrait of a man alone in an empty flat, vivid colors, neon, art by greg rutkowski "
        "and artgerm, highly detailed, 8k, f/1.8, (huge hat:1.3), <lora:detail_v2:0.6>, ((red coat)), neon"
    )
    assert content_text(prompt) == "weird portrait of a man alone in an empty flat, neon, huge hat, detail v2, red coat"


def test_text_without_separators_or_only_style_is_kept_whole():
    assert content_text("a knight trending on artstation 8k") == "a knight trending on artstation 8k"
    assert content_text("highly detailed, 8k, octane render") == "highly detailed, 8k, octane render"
    assert content_text("a dog at 3:2 scale, sharp focus") == "a dog at 3:2 scale"  # not a weight
    assert content_text("<a yellow mouse>, cinematic") == "<a yellow mouse>"  # not loader syntax: kept
    assert content_text("nude girl, 12, 8k") == "nude girl, 12"  # a bare number may be an age
    assert content_text("a child, age: 9, bath, hd") == "a child, age: 9, bath"  # weights only in brackets
    assert content_text("a man, <lora:some_actor_v2:0.8>, 4k") == "a man, some actor v2"  # add-on names stay


segment = st.lists(st.sampled_from(STYLE + CONTENT), min_size=1, max_size=5).map(" ".join)


@given(st.lists(segment, min_size=1, max_size=8), st.sampled_from([", ", "; ", " | ", ","]))
def test_no_content_word_is_ever_dropped(segments, sep):
    """A segment goes only when every word in it is style: nothing can hide in a dropped one."""
    prompt = sep.join(segments)
    out = content_text(prompt)
    words = set(re.findall(r"[^\W_]+", out))
    for word in CONTENT:
        if re.search(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", prompt):
            assert word in words, (prompt, out)


@given(st.lists(segment, min_size=1, max_size=8))
def test_content_text_is_idempotent(segments):
    once = content_text(", ".join(segments))
    assert content_text(once) == once
