"""Issue #22: a real person named by what they are known for (an entity's ``works``): two works,
or one with a person word close by; a lone title is not a person."""

from __future__ import annotations

import pytest

from policies import PolicyEngine
from policies.base import Action
from policies.errors import PolicyPackError
from policies.schema import PackSource

PACK = """
pack: works-test
version: "1"
categories:
  - {id: likeness-test, description: Likeness of a real public figure, action: require-consent}
lexicons:
  person-test: [singer, actor, 歌手, 俳優, cantante, певиц*]
rules:
  - id: works.people
    category: likeness-test
    works_need: person-test
    entities:
      - id: pop-singer
        names: ["Zorbalina Quux"]
        works: ["Glass Thunder Tour", "Moon Parade", "ムーンパレード"]
"""


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load([PackSource("works-test.yaml", PACK)], bundled=False, semantic=False)


@pytest.mark.parametrize(
    "prompt",
    [
        "the singer who did the Glass Thunder Tour dancing in the rain",
        "la cantante de Moon Parade paseando por Madrid",
        "ムーンパレードを歌った歌手が渋谷を歩く",
        "певица, спевшая Moon Parade, гуляет по Москве",
        "a stadium show: Moon Parade, then the Glass Thunder Tour encore",
    ],
)
def test_works_name_the_person(engine, prompt):
    decision = engine.check(prompt)
    assert decision.action is Action.REQUIRE_CONSENT
    assert decision.persons == ("pop-singer",)
    assert decision.hits[0].method == "work"
    assert "known for" in decision.reason


@pytest.mark.parametrize(
    "prompt",
    [
        "a moon parade of lanterns over a village lake",  # the title alone, no person word
        "Moon Parade written on a cafe chalkboard. Later, far across town, an old singer tunes a guitar",
    ],
)
def test_a_lone_work_is_not_a_person(engine, prompt):
    assert engine.check(prompt).action is Action.ALLOW


def test_explain_shows_the_works(engine):
    lines = engine.explain("the singer of Moon Parade on a beach")
    assert any("work" in line and "moon parade" in line and "singer" in line for line in lines)


def test_works_need_names_a_known_lexicon():
    broken = PACK.replace("works_need: person-test", "works_need: nobody")
    with pytest.raises(PolicyPackError, match="works_need: unknown lexicon 'nobody'"):
        PolicyEngine.load([PackSource("works-test.yaml", broken)], bundled=False, semantic=False)
