"""Context around a hit: what takes a hit back, and which of two overlapping names is meant.

- A negation right before a matched scene word ("no gore", "without", "sin", "没有") or right
  after it ("流血なし", "피 없는", "gore-free") takes back hits of ``defusable`` rules.
- A documentary, historical, medical or safety framing ("a reenactment of a battle") takes back
  the *semantic* hits of ``defusable`` rules, unless graphic harm is named too and not negated
  ("a documentary ... with graphic bleeding injuries"). Explicit harm words stay: a framing never
  defuses "beheading".
- A name inside a longer name of another entity is part of that name, and a named real person
  silences semantic character hits: "Mickey Rourke" is a person who needs consent, not Mickey
  Mouse.

The vocabularies come from the packs (``negations``, ``negations_after``, ``defusing``,
``graphic``); ``policy explain`` lists every defused hit with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policies.base import Action, RuleHit
from policies.matching import LexiconIndex, make_entry, term_key
from policies.normalize import Token

__all__ = ["Context", "outer_names", "unshadowed"]


class Context:
    def __init__(self, packs: Sequence[object], rules: Mapping[str, object]) -> None:
        """``packs``: pack specs; ``rules``: compiled rules by id (their ``spec.defusable``)."""
        self._rules = rules
        self._before = {term_key(t) for p in packs for t in p.negations}
        self._after = {term_key(t) for p in packs for t in p.negations_after}
        self._framings = LexiconIndex(
            [make_entry("defusing", t, fuzzy=False) for p in packs for t in p.defusing]
            + [make_entry("graphic", t, fuzzy=False) for p in packs for t in p.graphic],
            common_words=frozenset(),
        )

    def defuse(self, hits: list[RuleHit], tokens: Sequence[Token], *, semantic: bool):
        """(hits kept, [(hit, why) taken back])."""
        if not any(self._rules[h.rule_id].spec.defusable for h in hits):
            return hits, []
        framing = self.framing(tokens) if semantic else None
        kept, defused = [], []
        for hit in hits:
            why = None
            if self._rules[hit.rule_id].spec.defusable:
                if semantic and framing:
                    why = f"framing {framing!r}"
                elif hit.span is not None:
                    why = self.negated(tokens, hit.span)
            (defused.append((hit, why)) if why else kept.append(hit))
        return kept, defused

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
    named = [h for h in hits if h.entity_id and h.span]
    out = []
    for hit in hits:
        inside = (
            hit.entity_id
            and hit.span
            and any(
                o.entity_id != hit.entity_id
                and o.span[0] <= hit.span[0]
                and hit.span[1] <= o.span[1]
                and (o.span[1] - o.span[0]) > (hit.span[1] - hit.span[0])
                for o in named
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
