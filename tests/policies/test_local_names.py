"""Protected characters by the names native speakers type (characters.yaml `i18n`), and the
everyday words some of those names are made of, which must stay allowed."""

from __future__ import annotations

import pytest

from policies import PolicyEngine


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


REFUSED = [
    ("en", "Tom and Jerry chasing each other in a kitchen"),
    ("zh", "飞天小女警在城市上空飞翔"),
    ("zh-hant", "奇奇蒂蒂在樹上吃橡果"),
    ("ja", "ルイージがお化け屋敷を探検する"),
    ("ko", "리자몽이 불을 뿜는 장면"),
    ("es", "Piolín en su jaula cantando"),
    ("fr", "Dessine Dingo et Pluto qui jouent au ballon"),
    ("de", "Paulchen Panther läuft auf Zehenspitzen durch ein Museum"),
    ("pt", "Tio Patinhas nadando em moedas de ouro"),
    ("ru", "Чип и Дейл спешат на помощь"),
    ("ar", "ارسم باباي يأكل السبانخ"),
    ("hi", "शिनचैन अपने कुत्ते के साथ खेल रहा है"),
]

ALLOWED = [
    ("en", "a wild dingo resting in the Australian outback at dusk"),
    ("zh", "一只老鹰在山顶高飞"),
    ("zh-hant", "教堂的鐘聲和金色的小鈴鐺"),
    ("ja", "布のステッチが美しいバッグの写真"),
    ("ko", "한국식 국밥을 먹는 가족"),
    ("es", "Una linterna verde encendida en un camping"),
    ("fr", "Mon voisin est complètement dingo, il chante la nuit"),
    ("de", "Eine Kuh und ein Huhn auf dem Bauernhof"),
    ("pt", "Que pateta eu fui ao esquecer as chaves, uma cena engraçada"),
    ("ru", "Очень странные дела происходят в нашем городе ночью"),
    ("ar", "ارسم بحارا عجوزا يأكل السبانخ في ميناء"),
    ("hi", "एक छोटा लड़का अपने कुत्ते के साथ पार्क में खेल रहा है"),
]


@pytest.mark.parametrize(("lang", "prompt"), REFUSED, ids=[lang for lang, _ in REFUSED])
def test_local_name_is_refused(engine: PolicyEngine, lang: str, prompt: str) -> None:
    assert engine.check(prompt).action != "allow", prompt


@pytest.mark.parametrize(("lang", "prompt"), ALLOWED, ids=[lang for lang, _ in ALLOWED])
def test_everyday_word_stays_allowed(engine: PolicyEngine, lang: str, prompt: str) -> None:
    assert engine.check(prompt).action == "allow", prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "Un dingo sauvage dans le désert australien au coucher du soleil",
        "Um gato frajola dormindo no sofá",
        "Un lobezno jugando en la nieve con su madre",
        "Une charlotte aux fraises sur une table de fête",
        "田んぼのカカシと夕焼け",
    ],
)
def test_everyday_words_behind_local_names_stay_allowed(engine: PolicyEngine, prompt: str) -> None:
    assert engine.check(prompt).action == "allow", prompt
