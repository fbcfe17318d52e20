"""Property tests: obfuscating a refused name never turns the refusal into an allow."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import Action
from tests.support.evasion import EVASIONS, evade_prompt

NAMES = [
    "Mickey Mouse",
    "Spider-Man",
    "Darth Vader",
    "Pikachu",
    "SpongeBob",
    "Taylor Swift",
    "Cristiano Ronaldo",
    "Barack Obama",
    "Homer Simpson",
    "Scooby-Doo",
]
TEMPLATES = [
    "{} is eating a burger",
    "a photo of {}",
    "{} in the mountain, cinematic, 4k",
    "an oil painting of {} reading a book",
]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(NAMES),
    template=st.sampled_from(TEMPLATES),
    kind=st.sampled_from(sorted(EVASIONS)),
    seed=st.integers(0, 10_000),
)
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


# Names in several scripts, and the look-alike letters a disguise may swap in (both ways).
SCRIPT_NAMES = [
    ("Pikachu", "pikachu"),
    ("Spider-Man", "spider-man"),
    ("Человек-паук", "spider-man"),
    ("Дональд Трамп", "donald-trump"),
    ("ミッキーマウス", "mickey-mouse"),
    ("피카츄", "pikachu"),
    ("皮卡丘", "pikachu"),
    ("Micky Maus", "mickey-mouse"),
    ("Путин", "vladimir-putin"),
]
LOOKALIKES = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "y": "у",
    "x": "х",
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "к": "k",
    "м": "m",
    "т": "t",
}


@st.composite
def disguised(draw):
    """A protected name with letters spaced apart, cased at random and swapped for look-alikes."""
    name, entity = draw(st.sampled_from(SCRIPT_NAMES))
    out = []
    for ch in name:
        if ch.lower() in LOOKALIKES and draw(st.booleans()):
            ch = LOOKALIKES[ch.lower()]
        if draw(st.booleans()):
            ch = ch.upper()
        out.append(ch)
        if draw(st.integers(0, 3)) == 0:
            out.append(" ")
    return "".join(out).strip(), entity


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=disguised(), template=st.sampled_from(["{} on the beach", "一张{}的照片", "{}が走る", "фото: {}"]))
def test_spaced_cased_and_lookalike_names_never_pass(lexical, case, template):
    """Spacing, case and cross-script look-alikes of a protected name, in any script, never pass."""
    variant, entity = case
    decision = lexical.check(template.format(variant))
    assert not decision.allowed, (variant, decision.reason)
    assert entity in {h.entity_id for h in decision.hits}, (variant, decision.reason)
