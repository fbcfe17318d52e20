"""Issue #22: Hindi, which the multilingual model never learnt, reaches it as an English gloss."""

from __future__ import annotations

import pytest

from policies.errors import PolicyPackError
from policies.gloss import Glossary, hindi_glossary, mostly_devanagari, parse

TABLE = Glossary({"बच्चा": "child", "खून": "blood", "कमरा": "room", "रोना": "cry", "फ़र्ज़ी": "fake"})


def test_words_are_glossed_and_grammar_words_dropped():
    assert TABLE.word("बच्चा") == "child"
    assert Glossary(parse("में\t-\n", "t")).gloss("में") == ""  # "-" drops a grammar word


def test_endings_and_spellings_are_tried():
    table = Glossary(parse("बच्चा\tchild\nरोना\tcry\nफ़र्ज़ी\tfake\nमें\t-\nकमरा\troom\n", "t"))
    assert table.word("बच्चे") == "child"  # oblique ending
    assert table.word("बच्चों") == "child"  # plural oblique
    assert table.word("रोती") == "cry"  # verb form from its infinitive
    assert table.word("फर्जी") == "fake"  # typed without nukta
    assert table.gloss("कमरे में बच्चा रोता है, Goku") == "room child cry है , Goku"


def test_mostly_devanagari():
    assert mostly_devanagari("एक बच्चा रो रहा है")
    assert not mostly_devanagari("Shah Rukh Khan as राज in London, cinematic")


def test_malformed_lines_name_the_line():
    with pytest.raises(PolicyPackError, match=r"t:2: expected 'word<TAB>gloss'"):
        parse("# a comment\nबच्चा child\n", "t")


def test_the_bundled_glossary_loads():
    table = hindi_glossary()
    assert len(table) > 1000
    assert table.word("बच्चा") and table.word("खून")


def test_a_hindi_prompt_is_read_as_english(semantic):
    read = semantic.semantic_input("", "एक बच्चा खून से लथपथ, कैमरा धीमे घूमता है")
    assert "child" in read and "blood" in read
