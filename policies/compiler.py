"""Packs compiled for matching: every rule with its category's defaults, every term, name and
alias in the lexical and script indexes, and the checks that keep a broken pack from loading
(duplicate pack, category, lexicon or rule ids; unknown categories and lexicons; rules that match
nothing), each error naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from policies.base import Action
from policies.errors import PolicyPackError
from policies.han_sound import HanSoundIndex
from policies.hangul import HangulSlipIndex, spoken_names
from policies.matching import Entry, LexiconIndex, Match, make_entry
from policies.normalize import SEGMENTER, Token, has_devanagari, normalize
from policies.schema import CategorySpec, LoadedPack, RuleSpec
from policies.scripts import ScriptEntry, ScriptIndex, ScriptMatch, needs_script_index
from policies.wordlist import script_words

__all__ = ["CompiledRule", "CompiledPacks", "compile_packs"]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    category: str
    action: Action
    severity: str
    description: str
    pack: str
    patterns: tuple[re.Pattern[str], ...]
    all_of: tuple[str, ...]
    spec: RuleSpec


@dataclass(frozen=True, slots=True)
class CompiledPacks:
    categories: dict[str, CategorySpec]
    rules: dict[str, CompiledRule]
    lexicons: dict[str, tuple[str, ...]]
    aliases: frozenset[tuple[str, tuple[str, ...]]]  # (entity id, term key) of every alias
    index: LexiconIndex
    scripts: ScriptIndex
    han_sound: HanSoundIndex
    hangul: HangulSlipIndex

    def matches(self, tokens: Sequence[Token], canonical: str) -> list[Match | ScriptMatch]:
        """Every term, name, alias and work in one canonical text, by every index."""
        return [
            *self.index.find(tokens),
            *self.scripts.find(canonical),
            *self.han_sound.find(canonical),
            *self.hangul.find(canonical),
            *spoken_names(self.scripts, canonical),
            *self._stretched(tokens),
        ]

    def _stretched(self, tokens: Sequence[Token]) -> list[Match]:
        """Names typed with a letter held down ("tayyylor swift", "mr beeeast"): the words read
        again with each run of three or more of one letter as one letter, as near-misses. The
        run alone spends the fuzzy budget (two extra letters), so the index never read these as
        typos; the few names spelt with a tripled letter ("Aaahh!!! Real Monsters") still match
        as written, since the words are read as typed first."""
        if not any(_STRETCH.search(token.text) for token in tokens if not token.cjk):
            return []
        held = [token if token.cjk else replace(token, text=_STRETCH.sub(r"\1", token.text)) for token in tokens]
        spans = [(t.start, t.end) for t, h in zip(tokens, held, strict=True) if t.text != h.text]
        return [
            replace(m, method="fuzzy", score=0.9)
            for m in self.index.find(held)
            if any(m.start < end and start < m.end for start, end in spans)
        ]


_STRETCH = re.compile(r"([^\W\d_])\1{2,}")


def compile_packs(packs: Sequence[LoadedPack]) -> CompiledPacks:
    """Check and index ``packs``; ``PolicyPackError`` (file:line: field: why) if they are broken."""
    lexicons: dict[str, tuple[str, ...]] = {}
    rules: dict[str, CompiledRule] = {}
    seen_pack: dict[str, LoadedPack] = {}
    categories: dict[str, tuple[CategorySpec, str]] = {}
    for pack in packs:
        if pack.spec.pack in seen_pack:
            raise PolicyPackError(
                f"{_where(pack, 'pack')}: pack: duplicate pack name {pack.spec.pack!r} "
                f"(also in {seen_pack[pack.spec.pack].source.name})"
            )
        seen_pack[pack.spec.pack] = pack
        for i, cat in enumerate(pack.spec.categories):
            if cat.id in categories:
                raise PolicyPackError(
                    f"{_where(pack, 'categories', i, 'id')}: categories[{i}].id: "
                    f"duplicate category {cat.id!r} (also in {categories[cat.id][1]})"
                )
            categories[cat.id] = (cat, _where(pack, "categories", i, "id"))
        for name, terms in pack.spec.lexicons.items():
            if name in lexicons:
                raise PolicyPackError(f"{_where(pack, 'lexicons', name)}: lexicons.{name}: duplicate lexicon")
            lexicons[name] = tuple(terms)
    categories_by_id = {cid: cat for cid, (cat, _) in categories.items()}
    aliases: set[tuple[str, tuple[str, ...]]] = set()
    entries: list[Entry] = []
    for name, words in lexicons.items():
        entries += [_entry(f"lex:{name}", term, fuzzy=False) for term in words]
    where_rule: dict[str, str] = {}
    for pack in packs:
        for i, rule in enumerate(pack.spec.rules):
            here = _where(pack, "rules", i, "id")
            if rule.id in where_rule:
                raise PolicyPackError(
                    f"{here}: rules[{i}].id: duplicate rule id {rule.id!r} (first at {where_rule[rule.id]})"
                )
            where_rule[rule.id] = here
            category = categories_by_id.get(rule.category)
            if category is None:
                raise PolicyPackError(
                    f"{_where(pack, 'rules', i, 'category')}: rules[{i}].category: unknown category {rule.category!r}"
                )
            for name in rule.all_of:
                if name not in lexicons:
                    raise PolicyPackError(
                        f"{_where(pack, 'rules', i, 'all_of')}: rules[{i}].all_of: unknown lexicon {name!r}"
                    )
            if rule.works_need is not None and rule.works_need not in lexicons:
                raise PolicyPackError(
                    f"{_where(pack, 'rules', i, 'works_need')}: rules[{i}].works_need: unknown lexicon {rule.works_need!r}"
                )
            if not (rule.terms or rule.entities or rule.patterns or rule.all_of or rule.exemplars):
                raise PolicyPackError(
                    f"{here}: rules[{i}]: rule {rule.id!r} matches nothing "
                    "(give terms, entities, patterns, all_of or exemplars)"
                )
            rules[rule.id] = CompiledRule(
                id=rule.id,
                category=rule.category,
                action=rule.action or category.action,
                severity=rule.severity or category.severity,
                description=rule.description or category.description,
                pack=pack.spec.pack,
                patterns=tuple(re.compile(p) for p in rule.patterns),
                all_of=tuple(rule.all_of),
                spec=rule,
            )
            owner = f"rule:{rule.id}"
            entries += [_entry(owner, term, fuzzy=rule.fuzzy) for term in rule.terms]
            for entity in rule.entities:
                entries += [_entry(owner, name, fuzzy=True, cross=True, entity=entity.id) for name in entity.all_names]
                for alias in entity.aliases:
                    entry = _entry(owner, alias, fuzzy=False, entity=entity.id)
                    aliases.add((entity.id, entry.key))
                    entries.append(entry)
                # Works only count in twos or beside a person word (``policies.engine``): own owner.
                entries += [_entry(f"work:{rule.id}", work, fuzzy=False, entity=entity.id) for work in entity.works]
    SEGMENTER.add_words(e.term for e in entries)
    canonical = lru_cache(maxsize=None)(normalize)  # a name is read by several indexes: normalised once
    # Devanagari terms are the script index's alone: the word tokenizer cuts Hindi at its vowel
    # signs, and the fragments matched anywhere ("लिज़ो" Lizzo as "ल ज" inside "लज").
    index = LexiconIndex(e for e in entries if not has_devanagari(e.term))
    # Aliases and works are matched as written, never with a letter off.
    scripts = ScriptIndex(
        (
            (
                ScriptEntry(
                    e.owner,
                    e.term,
                    e.entity_id,
                    (e.entity_id, e.key) in aliases or e.owner.startswith("work:"),
                    stem=e.entity_id is None,
                ),
                canonical(e.term.rstrip("*")),
            )
            for e in entries
            if needs_script_index(e.term)
        ),
        common=script_words(),
    )
    # Names disguised by hand in Chinese (by sound, variant, swap, double) and Korean (slips).
    names = [
        (ScriptEntry(e.owner, e.term, e.entity_id, (e.entity_id, e.key) in aliases), canonical(e.term))
        for e in entries
        if e.entity_id is not None and not e.owner.startswith("work:")
    ]
    return CompiledPacks(
        categories_by_id,
        rules,
        lexicons,
        frozenset(aliases),
        index,
        scripts,
        HanSoundIndex(names),
        HangulSlipIndex(names),
    )


def _where(pack: LoadedPack, *path: object) -> str:
    return f"{pack.source.name}:{pack.line_of(*path)}"


def _entry(owner: str, term: str, *, fuzzy: bool, cross: bool = False, entity: str | None = None) -> Entry:
    return make_entry(owner, term, fuzzy=fuzzy, cross=cross, entity=entity)
