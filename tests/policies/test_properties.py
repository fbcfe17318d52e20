"""Property tests: obfuscating a refused name never turns the refusal into an allow."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import Action
from policies.evasion import EVASIONS, evade_prompt

NAMES = ["Mickey Mouse", "Spider-Man", "Darth Vader", "Pikachu", "SpongeBob", "Taylor Swift",
         "Cristiano Ronaldo", "Barack Obama", "Homer Simpson", "Scooby-Doo"]
TEMPLATES = ["{} is eating a burger", "a photo of {}", "{} in the mountain, cinematic, 4k",
             "an oil painting of {} reading a book"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), template=st.sampled_from(TEMPLATES),
       kind=st.sampled_from(sorted(EVASIONS)), seed=st.integers(0, 10_000))
def test_obfuscated_names_stay_refused(lexical, name, template, kind, seed):
    """Any evasion of a refused name in any template is refused with the same rule."""
    plain = lexical.check(template.format(name))
    assert not plain.allowed
    evaded = lexical.check(evade_prompt(template.format(name), name, kind, seed=seed))
    assert not evaded.allowed and evaded.action in (Action.DENY, Action.REQUIRE_CONSENT)
    assert plain.rule_id in evaded.rule_ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_surrounding_text_never_unlocks_a_refusal(lexical, prefix, suffix):
    """Whatever text surrounds a denied name (if the prompt is valid), the decision is a refusal."""
    from policies import PromptError

    try:
        decision = lexical.check(f"{prefix} Darth Vader {suffix}")
    except PromptError:
        return
    assert not decision.allowed
