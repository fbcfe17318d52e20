"""The semantic stage built from loaded packs: which exemplars each model reads, and with which
thresholds and margins (``PolicyEngine`` asks for it once, at load).

Every rule's ``exemplars`` and every entity's ``descriptions`` become rows of one
``ExemplarIndex`` owned by ``rule:<id>``; the packs' ``benign_anchors`` are its anchors. The two
models read different subsets: MiniLM, an English model, only the English rows; the multilingual
model every row, a Hindi one as its English gloss (``policies.gloss``: Devanagari read as such would
embed as noise, near each other and near any Hindi prompt).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from policies.normalize import has_devanagari, word_set

if TYPE_CHECKING:  # pragma: no cover
    from policies.exemplars import ExemplarIndex
    from policies.multilingual import MultilingualEmbedder
    from policies.schema import LoadedPack
    from policies.semantic import Backend

__all__ = [
    "SemanticModel",
    "MULTILINGUAL_THRESHOLD",
    "MULTILINGUAL_MARGIN",
    "FRAMING_CEILING_MULTILINGUAL",
    "build_index",
    "english",
    "readable",
]

SemanticModel = Literal["multilingual", "minilm"]

# The multilingual model's similarities sit on another scale than MiniLM's; a rule without its
# own ``threshold_multilingual`` gets this (chosen on the dev split, docs/policy.md).
MULTILINGUAL_THRESHOLD = 0.57
# ... and must beat the nearest benign anchor by more: USE puts same-topic prompts closer together
# than MiniLM does ("fireworks exploding over the city" 0.57 to a shooting exemplar, 0.46 to an anchor).
MULTILINGUAL_MARGIN = 0.12

# A framed semantic harm hit (a documentary, a drill) at or above this score shows the harm on
# screen and stays: the highest score of a DEV benign framed prompt that clears the violence
# margin (0.492, "a police training video on de-escalating an argument") + 0.02, rounded up;
# "a documentary that shows soldiers executing blindfolded prisoners" scores 0.69. MiniLM keeps
# the earlier rule (every framed semantic hit is taken back).
FRAMING_CEILING_MULTILINGUAL = 0.52

_NOT_ENGLISH = word_set("""
un une una unos unas el los las les des du del der das dem ein eine einen einem einer und mit por
para que dans avec sur pour qui est sont aux um uma em pelo pela wird ist von auf nicht
""")


def build_index(
    rules: Mapping[str, object],
    packs: Iterable[LoadedPack],
    model: SemanticModel,
    model_cache: str | os.PathLike[str] | None,
    backend: Backend,
) -> ExemplarIndex:
    """The exemplar index over ``rules`` (compiled rules by id: their ``spec``) for ``model``."""
    from policies.clauses import ClausePlan
    from policies.exemplars import ExemplarIndex
    from policies.semantic import Embedder

    multilingual = model == "multilingual"
    exemplars: list[tuple[str, str | None, str]] = []
    thresholds: dict[str, float] = {}
    margins: dict[str, float] = {}
    clause_owners: set[str] = set()
    for rule_id, rule in rules.items():
        spec = rule.spec  # type: ignore[attr-defined]
        owner = f"rule:{rule_id}"
        exemplars += [(owner, None, text) for text in spec.exemplars]
        for entity in spec.entities:
            exemplars += [(owner, entity.id, text) for text in entity.descriptions]
        thresholds[owner] = (spec.threshold_multilingual or MULTILINGUAL_THRESHOLD) if multilingual else spec.threshold
        if multilingual and spec.margin_multilingual is not None:
            margins[owner] = spec.margin_multilingual
        if spec.clauses:
            clause_owners.add(owner)
    anchors = [a for pack in packs for a in pack.spec.benign_anchors]
    if not multilingual:
        return ExemplarIndex(
            Embedder(cache_dir=model_cache, backend=backend),
            [x for x in exemplars if english(x[2])],
            thresholds,
            anchors,
        )
    from policies.gloss import hindi_glossary

    hindi_glossary()  # a damaged glossary stops the engine at load, not on the first Hindi prompt
    return ExemplarIndex(
        shared_multilingual(),
        [(owner, entity, as_read(text)) for owner, entity, text in exemplars],
        thresholds,
        [as_read(a) for a in anchors],
        margin=MULTILINGUAL_MARGIN,
        margins=margins,
        clauses=ClausePlan(),
        clause_owners=frozenset(clause_owners),
    )


@lru_cache(maxsize=1)
def shared_multilingual() -> MultilingualEmbedder:
    """The multilingual model, loaded once per process (1 s) whatever the engines."""
    from policies.multilingual import MultilingualEmbedder

    return MultilingualEmbedder()


def english(text: str) -> bool:
    """Is an exemplar written in English? The packs' exemplars come in several languages for the
    multilingual model; MiniLM, an English model, only gets the English ones (the others would
    embed as noise, near each other and near any foreign prompt)."""
    return text.isascii() and not any(w in _NOT_ENGLISH for w in re.findall(r"[a-z]+", text.lower()))


def as_read(text: str) -> str:
    """An exemplar as the multilingual model reads it: with Han characters as a prompt's are
    (``normalize.light`` turns traditional into simplified, so Japanese 電 meets the 电 of a
    prompt; other exemplars keep their case, as the thresholds were chosen), a Hindi one as its
    English gloss, the way a Hindi prompt is read (``policies.gloss``)."""
    from policies.normalize import has_cjk, light

    if has_cjk(text):
        text = light(text)
    if readable(text):
        return text
    from policies.gloss import hindi_glossary

    return hindi_glossary().gloss(text)


def readable(text: str) -> bool:
    """Can the multilingual model read an exemplar? Not in Devanagari: USE-multilingual was not
    trained on Hindi, and a Hindi description of a cartoon sponge scored 0.77 against a Hindi
    documentary prompt (dev d256); Hindi is read as an English gloss instead (``as_read``)."""
    return not has_devanagari(text)
