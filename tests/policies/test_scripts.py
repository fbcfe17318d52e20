"""Issue #22, fifth round: names in other scripts, disguised the way evaders do it by hand, and
everyday words that a name with a letter off must not swallow (``policies.scripts``,
``policies.normalize``)."""

from __future__ import annotations

import pytest

from policies.base import Action
from policies.normalize import normalize


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("سـوبـرمـان بالرداء الأحمر يوقف قطارا", "superman"),  # tatweel stretching the letters
        ("钢.铁.侠 穿着红金战甲从大厦起飞", "iron-man"),  # dots between Han characters
        ("蝙.蝠.俠 開著蝙蝠車衝過雨夜街道", "batman"),
        ("アイアソマソが夜の新宿上空を飛ぶ", "iron-man"),  # ソ for ン
        ("도라애몽이 주머니에서 대나무 헬리콥터를 꺼낸다", "doraemon"),  # ㅐ for ㅔ
        ("Пуитн принимает парад на Красной площади", "vladimir-putin"),  # two letters swapped
        ("马云在舞台上唱歌", "jack-ma"),  # a two-character name jieba lists only as a prefix
        ("美国第45任总统在打高尔夫", "donald-trump"),  # an alias with digits inside Chinese
    ],
)
def test_hand_made_disguises_are_seen_through(lexical, prompt, entity):
    decision = lexical.check(prompt)
    assert not decision.allowed
    assert entity in {h.entity_id for h in decision.hits}


@pytest.mark.parametrize(
    "prompt",
    [
        "на пути домой мальчик находит котёнка",  # "пути" is Путин with a letter off
        "ключ найден под ковриком",  # "найден" is Байден with its first letter swapped
        "مايو الحار على الشاطئ",  # "مايو" (May) is ماريو with a letter dropped
        "東京.大阪 新幹線の車窓",
        "ツインテールの女の子が公園で走る",
    ],
)
def test_everyday_words_are_not_names(lexical, prompt):
    assert lexical.check(prompt).action is Action.ALLOW


def test_an_exact_name_beats_another_name_with_a_letter_off(lexical):
    # Arabic Trudeau (ترودو) is one letter from Frodo (فرودو), a character of the gandalf entity
    decision = lexical.check("جاستن ترودو يركب دراجة في أوتاوا")
    assert decision.action is Action.REQUIRE_CONSENT
    assert decision.persons == ("justin-trudeau",)


def test_folds_are_idempotent_and_script_local():
    for text in ("도라애몽", "سـوبـرمـان", "钢.铁.侠", "e.g. a.b.c"):
        once = normalize(text)
        assert normalize(once) == once
    assert normalize("e.g. a.b.c") == "e.g. a.b.c"  # dots between Latin letters stay


@pytest.mark.parametrize("word", ["томно", "томная", "томными", "камеру", "камерой", "актёры"])
def test_a_cyrillic_prefix_of_look_alike_letters_finds_every_form(word):
    """"томн*" is all Latin look-alikes, so alone it is written in Latin letters; "томная" keeps
    its script (я has no look-alike). The prefix must find both kinds of word."""
    from policies.matching import LexiconIndex, make_entry
    from policies.normalize import tokenize

    index = LexiconIndex(
        [make_entry("lex:x", term, fuzzy=False) for term in ("томн*", "камер*", "актёр*")],
        common_words=frozenset(),
    )
    matches = index.find(tokenize(normalize(f"на экране {word} сцена")))
    assert [m.entry.term for m in matches if m.method == "prefix"], word
