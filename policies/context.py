"""Context around a hit: what takes a hit back, and which of two overlapping names is meant.

- A negation right before a matched scene word ("no gore", "without", "sin", "没有") or right
  after it ("流血なし", "피 없는", "gore-free") takes back hits of ``defusable`` rules.
- A documentary, historical, medical or safety framing ("a reenactment of a battle") takes back
  the *semantic* hits of ``defusable`` rules, unless graphic harm is named too and not negated
  ("a documentary ... with graphic bleeding injuries"), or the hit is so close to a harm exemplar
  that the harm is on screen ("a documentary that shows soldiers executing prisoners": the
  ``ceiling``). Explicit harm words stay: a framing never defuses "beheading"; only the words of
  rules marked ``framing_defuses_terms`` (events a documentary is about: "massacre", "torture").
- A figure the prompt calls the writer's own ("an original superhero in a silver suit", "un
  superhéroe inventado", "原创超级英雄") is not a protected character by description alone: the
  semantic character hits are taken back unless they are as close as a retelling
  (``ORIGINAL_CEILING``); a character named outright stays refused.
- A name inside a longer name of another entity is part of that name, and a named real person
  silences semantic character hits: "Mickey Rourke" is a person who needs consent, not Mickey
  Mouse.

The vocabularies come from the packs (``negations``, ``negations_after``, ``defusing``,
``graphic``); ``policy explain`` lists every defused hit with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.base import Action, RuleHit
from policies.matching import LexiconIndex, make_entry, term_key
from policies.normalize import Token

__all__ = ["Context", "outer_names", "unshadowed", "ORIGINAL_CEILING"]

# A character description this close (cosine, USE-multilingual) retells the character itself,
# "original" or not: the characters' threshold is 0.56; a retelling in other words scores 0.65+.
ORIGINAL_CEILING = 0.62


class Context:
    def __init__(self, packs: Sequence[Any], rules: Mapping[str, Any]) -> None:
        """``packs``: pack specs; ``rules``: compiled rules by id (their ``spec.defusable``)."""
        self._rules = rules
        self._before = {term_key(t) for p in packs for t in p.negations}
        self._after = {term_key(t) for p in packs for t in p.negations_after}
        self._framings = LexiconIndex(
            [make_entry("defusing", t, fuzzy=False) for p in packs for t in p.defusing]
            + [make_entry("graphic", t, fuzzy=False) for p in packs for t in p.graphic]
            + [make_entry("original", t, fuzzy=False) for p in packs for t in p.originals],
            common_words=frozenset(),
        )

    def defuse(
        self, hits: list[RuleHit], tokens: Sequence[Token], *, semantic: bool, ceiling: float | None = None
    ) -> tuple[list[RuleHit], list[tuple[RuleHit, str]]]:
        """(hits kept, [(hit, why) taken back]). ``ceiling``: a semantic hit scoring this or more
        shows the harm itself, and no framing takes it back (``None``: any score is framed)."""
        specs = [self._rules[h.rule_id].spec for h in hits]
        if not any(spec.defusable for spec in specs):
            return hits, []
        framed = semantic or any(spec.defusable and spec.framing_defuses_terms for spec in specs)
        framing = self.framing(tokens) if framed else None
        kept: list[RuleHit] = []
        defused: list[tuple[RuleHit, str]] = []
        for hit, spec in zip(hits, specs, strict=True):
            why = None
            if spec.defusable:
                on_screen = semantic and ceiling is not None and hit.score >= ceiling
                if framing and (spec.framing_defuses_terms or semantic) and not on_screen:
                    why = f"framing {framing!r}"
                elif hit.span is not None:
                    why = self.negated(tokens, hit.span)
            if why:
                defused.append((hit, why))
            else:
                kept.append(hit)
        return kept, defused

    def originals(
        self, semantic: list[RuleHit], tokens: Sequence[Token]
    ) -> tuple[list[RuleHit], list[tuple[RuleHit, str]]]:
        """(kept, taken back): semantic character hits are taken back when the prompt calls its
        figure the writer's own, unless the description is as close as a retelling."""
        characters = [h for h in semantic if h.entity_id and h.action is Action.DENY and h.score < ORIGINAL_CEILING]
        own = self.original(tokens) if characters else None
        if own is None:
            return semantic, []
        return [h for h in semantic if h not in characters], [(h, f"an original figure {own!r}") for h in characters]

    def original(self, tokens: Sequence[Token]) -> str | None:
        """The word that says the figure is the writer's own ("original superhero"), if any."""
        return next((m.entry.term for m in self._framings.find(tokens) if m.entry.owner == "original"), None)

    def framing(self, tokens: Sequence[Token]) -> str | None:
        """The defusing framing term in the prompt, unless graphic harm is named too (not negated)."""
        found = self._framings.find(tokens)
        if any(m.entry.owner == "graphic" and not self.negated(tokens, (m.start, m.end)) for m in found):
            return None
        return next((m.entry.term for m in found if m.entry.owner == "defusing"), None)

    def negated(self, tokens: Sequence[Token], span: tuple[int, int]) -> str | None:
        texts = [t.text for t in tokens]
        first = next((i for i, t in enumerate(tokens) if t.end > span[0]), len(tokens))
        last = max((i for i, t in enumerate(tokens) if t.start < span[1]), default=first)
        for n in (1, 2):
            for i in range(max(0, first - 3), first):  # "no gore", "with no blood", "sin sangre"
                if i + n <= first and tuple(texts[i : i + n]) in self._before:
                    return f"negated by {' '.join(texts[i : i + n])!r}"
            after = tuple(texts[last + 1 : last + 1 + n])
            if after in self._after:
                return f"negated by {' '.join(after)!r}"
        return None


def outer_names(hits: list[RuleHit]) -> list[RuleHit]:
    """Drop an entity hit whose span lies inside a longer hit on another entity."""
    named = [(h.entity_id, h.span) for h in hits if h.entity_id and h.span]
    out = []
    for hit in hits:
        span = hit.span
        inside = (
            hit.entity_id
            and span is not None
            and any(
                entity != hit.entity_id
                and other[0] <= span[0]
                and span[1] <= other[1]
                and (other[1] - other[0]) > (span[1] - span[0])
                for entity, other in named
            )
        )
        if not inside:
            out.append(hit)
    return out


def unshadowed(semantic: list[RuleHit], lexical: list[RuleHit]) -> list[RuleHit]:
    """Semantic hits on a character, dropped when the prompt names a real person and no
    character: "Mickey Rourke walking in Paris" reads close to Mickey Mouse's descriptions by the
    shared first name alone. A named person is the subject; consent decides."""
    people = [h for h in lexical if h.entity_id and h.action is Action.REQUIRE_CONSENT]
    characters = [h for h in lexical if h.entity_id and h.action is Action.DENY]
    if not people or characters:
        return semantic
    return [h for h in semantic if h.entity_id is None]
