"""The keyword baseline at full strength: every term, name (in every language), alias and
co-occurrence lexicon word of the packs, matched on the lower-cased raw prompt.

Terms ending in ``*`` keep their prefix meaning (``decapitat*`` matches "decapitated"); an
earlier version stripped the star and then demanded a whole word, which silently dropped every
prefix term (issue #19). Latin and Cyrillic terms match as whole words; terms in scripts written
without spaces (Han, kana, Hangul) match anywhere, as a keyword filter for those languages would.
No normalisation, no fuzzy and no semantic matching: the table shows what those add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policies import PolicyEngine

__all__ = ["Keyword"]

_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass
class Keyword:
    engine: PolicyEngine
    pattern: re.Pattern[str] = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        terms: set[str] = set()
        for rule in self.engine.rules.values():
            terms.update(t.lower() for t in rule.spec.terms)
            for entity in rule.spec.entities:
                terms.update(n.lower() for n in (*entity.all_names, *entity.aliases))
            for name in rule.all_of:  # co-occurrence rules: their lexicons' terms alone
                terms.update(t.lower() for t in self.engine.lexicons[name])
        parts = []
        for term in sorted(terms, key=len, reverse=True):
            prefix = term.endswith("*")
            body = re.escape(term.rstrip("*"))
            if not body:
                continue
            if _UNSPACED.search(term):
                parts.append(body)
            else:
                parts.append(rf"(?<!\w){body}" + (r"\w*" if prefix else r"(?!\w)"))
        self.size = len(parts)
        self.pattern = re.compile("|".join(parts))

    def flagged(self, prompt: str) -> bool:
        return self.pattern.search(prompt.lower()) is not None
