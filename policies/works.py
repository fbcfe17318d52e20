"""People named by what they are known for: an entity's ``works`` (titles, tours, teams,
catchphrases) found in a prompt name that person when two of them are there ("Eras Tour" and
"Shake It Off"), or one with a person word close by (the rule's ``works_need`` lexicon: "the
singer of Bad Romance", "『トップガン』の主演俳優"). One title alone is too often also a film, a
song or a place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["WorkFind", "named_by_works", "REACH"]

# How far (characters of normalised text) a person word may stand from a lone work: "the singer
# who did the Eras Tour" and "『トップガン』の主演俳優" are near; a song title in one clause and a
# singer in another are not.
REACH = 32


@dataclass(frozen=True, slots=True)
class WorkFind:
    rule_id: str
    entity_id: str
    matched: str  # the works as written, and the person word when one work needed it
    terms: str  # the pack's work terms, "a & b"
    span: tuple[int, int]


def named_by_works(
    works: Mapping[tuple[str, str], Mapping[str, tuple[int, int]]],
    person_words: Mapping[str, list[tuple[int, int]]],
    need: Mapping[str, str | None],
    canonical: str,
) -> list[WorkFind]:
    """``works``: (rule id, entity id) -> {work term: span}; ``person_words``: lexicon name ->
    spans found; ``need``: rule id -> its ``works_need`` lexicon (or None)."""
    out = []
    for (rule_id, entity), found in works.items():
        spans: list[tuple[int, int]] = []  # overlapping works ("Eras Tour" in "The Eras Tour") are one
        for a, b in sorted(found.values(), key=lambda span: span[0] - span[1]):
            if not any(a < y and x < b for x, y in spans):
                spans.append((a, b))
        spans.sort()
        start, end = spans[0][0], spans[-1][1]
        matched = " + ".join(canonical[a:b] for a, b in spans)
        if len(spans) < 2:
            near = [
                (a, b)
                for a, b in person_words.get(need.get(rule_id) or "", [])
                if a - end <= REACH and start - b <= REACH
            ]
            if not near:
                continue
            word = min(near, key=lambda span: abs(span[0] - start))
            matched += f" + {canonical[word[0] : word[1]]}"
        out.append(WorkFind(rule_id, entity, matched, " & ".join(sorted(found)), (start, end)))
    return out
