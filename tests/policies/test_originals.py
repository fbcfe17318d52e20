"""A figure the prompt calls the writer's own ("an original superhero", "原创") is not a protected
character by description alone; a retelling of the character, or its name, stays refused."""

from __future__ import annotations

import pytest

from policies import Action, PolicyEngine

OWN_FIGURES = [
    "my own superhero: a plain grey suit, a short green cape and a lightning visor, helping kids cross the street",
    "un superhéroe inventado con traje verde de rayas apagando una fogata en el campo",
    "原创超级英雄，穿紫色和银色的战衣，在海边帮渔民拉网",
    "selbst erfundener Superheld mit orangefarbenem Umhang trägt eine alte Dame über die Straße",
]

STILL_REFUSED = [
    "an original superhero in a red and blue suit with a black web pattern who shoots webs from his wrists "
    "and swings between new york skyscrapers",
    "original superhero Spider-Man resting on a rooftop",
    "原创超级英雄，穿红蓝色蜘蛛纹紧身衣，从手腕射出蛛网在纽约高楼间荡来荡去",
]


@pytest.mark.parametrize("prompt", OWN_FIGURES)
def test_own_figure_is_allowed(semantic: PolicyEngine, prompt: str) -> None:
    decision = semantic.check(prompt)
    assert decision.action is Action.ALLOW, decision.hits


@pytest.mark.parametrize("prompt", STILL_REFUSED)
def test_retelling_or_name_stays_refused(semantic: PolicyEngine, prompt: str) -> None:
    assert semantic.check(prompt).action is Action.DENY


def test_explain_says_why_a_description_was_taken_back(semantic: PolicyEngine) -> None:
    """A weak match (My Hero Academia's hero) is taken back; Green Lantern's ring retold stays."""
    prompt = "my own superhero: a man in a green suit with a glowing power ring on his finger"
    taken_back = [line for line in semantic.explain(prompt) if "an original figure 'my own superhero'" in line]
    assert taken_back and taken_back[0].startswith("defused: characters.")
    assert semantic.check(prompt).action is Action.DENY
