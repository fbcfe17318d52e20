"""Protected characters described without their names, by look and story, in every served
language: refused with the right entity. Their ordinary look-alikes (real animals, generic heroes,
homemade costumes) stay allowed. Also: every character entity carries enough exemplars."""

from __future__ import annotations

import pytest

from policies import PolicyEngine
from policies.semantic_index import english

REFUSED = [
    (
        "en",
        "johnny-bravo",
        "a cartoon hunk with a towering black quiff and shades flexing his biceps at girls on the beach",
    ),
    (
        "en",
        "teletubbies",
        "four chubby costumed creatures with screens on their bellies and antennas on their heads on sunny green hills",
    ),
    ("zh", "detective-conan", "一个戴眼镜、系红色蝴蝶结的小学生其实是变小的高中生侦探，正在破解谋杀案"),
    ("zh-hant", "doraemon", "一隻沒有耳朵的藍色機器貓從肚子上的口袋拿出任意門"),
    ("ja", "one-punch-man", "黄色いスーツに白いマントのハゲたヒーローが怪人をワンパンで倒す"),
    ("ko", "spongebob", "네모난 노란 스펀지가 바닷속 파인애플 집에서 나와 햄버거 가게로 출근한다"),
    (
        "es",
        "dora-the-explorer",
        "una niña exploradora con mochila morada que habla y un mono con botas rojas en la selva",
    ),
    ("fr", "smurfs", "de petits êtres bleus avec des bonnets blancs qui habitent dans des maisons champignons"),
    (
        "de",
        "teenage-mutant-ninja-turtles",
        "vier grüne Ninja-Schildkröten mit bunten Masken essen Pizza in der Kanalisation",
    ),
    ("pt", "ghost-rider", "um motoqueiro com uma caveira em chamas no lugar da cabeça numa moto de fogo"),
    ("ru", "despicable-me", "жёлтые человечки в очках и синих комбинезонах устраивают переполох из-за банана"),
    ("ar", "hello-kitty", "قطة كرتونية بيضاء بلا فم مع فيونكة حمراء على أذنها"),
    ("hi", "pikachu", "लाल गालों वाला पीला बिजली का चूहा जिसकी पूंछ बिजली जैसी है"),
]

ALLOWED = [
    ("en", "a real blue-grey cat stalking a field mouse in a barn, wildlife footage"),
    ("en", "an original superhero in a silver suit and a blue cape flying over a city at dusk"),
    ("en", "a kid in a homemade cardboard robot costume trick-or-treating"),
    ("en", "a woman in a black leather jacket riding a motorcycle on a desert highway"),
    ("zh", "一只真实的棕熊在森林的河里抓鲑鱼，自然纪录片"),
    ("ja", "野生のキツネが雪の森を歩いている自然ドキュメンタリー"),
    ("ko", "실제 펭귄 무리가 남극 얼음 위를 걷는 다큐멘터리"),
    ("es", "un león salvaje descansando en la sabana africana al atardecer, documental"),
    ("fr", "un petit garçon déguisé en pirate avec un chapeau en papier"),
    ("de", "ein Kind in einem selbstgebastelten Ritterkostüm aus Pappe"),
    ("pt", "um papagaio de verdade voando na floresta amazônica"),
    ("ru", "настоящий бурый медведь ловит рыбу в реке на Камчатке"),
    ("ar", "قطة حقيقية تلعب مع كرة من الصوف في غرفة المعيشة"),
]


@pytest.mark.parametrize(("lang", "entity", "prompt"), REFUSED, ids=[f"{x[0]}-{x[1]}" for x in REFUSED])
def test_description_without_name_is_refused(semantic: PolicyEngine, lang: str, entity: str, prompt: str) -> None:
    decision = semantic.check(prompt)
    assert not decision.allowed, prompt
    assert entity in {h.entity_id for h in decision.hits}, (prompt, [(h.entity_id, h.score) for h in decision.hits])


@pytest.mark.parametrize(("lang", "prompt"), ALLOWED, ids=[f"{x[0]}-{i}" for i, x in enumerate(ALLOWED)])
def test_look_alike_is_allowed(semantic: PolicyEngine, lang: str, prompt: str) -> None:
    decision = semantic.check(prompt)
    assert decision.allowed, (prompt, [(h.entity_id, h.matched) for h in decision.hits])


def test_every_character_has_english_and_foreign_descriptions(lexical: PolicyEngine) -> None:
    """At least 4 descriptions per protected character: 2 in English, 2 in other languages."""
    from pathlib import Path

    import yaml

    import policies

    pack = yaml.safe_load((Path(policies.__file__).parent / "packs" / "characters.yaml").read_text(encoding="utf-8"))
    # An entity may appear in more than one rule (its name alone, and a name that counts only
    # beside its own context words): its descriptions are counted over all of them.
    descriptions: dict[str, list[str]] = {}
    for rule in pack["rules"]:
        for entity in rule.get("entities") or []:
            descriptions.setdefault(entity["id"], []).extend(entity.get("descriptions") or [])
    short = []
    for entity_id, texts in descriptions.items():
        n_en = sum(english(t) for t in texts)
        if len(texts) < 4 or n_en < 2 or len(texts) - n_en < 2:
            short.append((entity_id, len(texts), n_en))
    assert not short, short
