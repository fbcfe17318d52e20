"""The policy engine: packs in, one explained decision per prompt out.

Order of work per prompt: validate, normalise, tokenise, lexical matches (names, lexicons,
regex patterns, co-occurrence rules), then semantic matching against exemplars unless a deny is
already certain. The strongest action wins (deny > review > require-consent > add-disclosure >
allow). Likeness hits ask the consent lookup for a licence per person. Anything unexpected
raises ``PolicyError``: the engine fails closed, it never answers "allow" by accident.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from policies.base import Action, ConsentLookup, PolicyDecision, RuleHit
from policies.boilerplate import content_text
from policies.compiler import CompiledRule, compile_packs
from policies.context import Context, outer_names, unshadowed
from policies.errors import PolicyError, PolicyPackError, PromptError
from policies.gloss import hindi_glossary, mostly_devanagari
from policies.jurisdictions import get_profile
from policies.matching import Match
from policies.normalize import SEGMENTER, light, normalize, tokenize, validate_prompt
from policies.ranking import dedupe, reason_for, strength
from policies.schema import (
    CategorySpec,
    LoadedPack,
    bundled_sources,
    load_pack,
    packs_digest,
    sources_from_paths,
)
from policies.scripts import ScriptEntry, ScriptMatch
from policies.semantic import Backend
from policies.semantic_index import FRAMING_CEILING_MULTILINGUAL, SemanticModel, build_index
from policies.works import named_by_works

__all__ = ["PolicyEngine", "CompiledRule", "ExampleResult", "DEFAULT_SCOPE", "SemanticModel"]

DEFAULT_SCOPE = "video"


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """One of a pack's own examples, run through the engine."""

    rule_id: str
    prompt: str
    expect_hit: bool
    passed: bool
    decision: PolicyDecision


class PolicyEngine:
    """Loaded, validated packs with their indexes; ``check`` is thread-safe and read-only."""

    def __init__(
        self,
        packs: Sequence[LoadedPack],
        *,
        semantic: bool = True,
        model_cache: str | os.PathLike[str] | None = None,
        semantic_backend: Backend = "auto",
        semantic_model: SemanticModel = "multilingual",
    ) -> None:
        """``semantic_model``: ``multilingual`` (USE-multilingual, ``policies.multilingual``: a
        description in any of our languages lands near its exemplars) or ``minilm`` (English
        all-MiniLM-L6-v2, the earlier model, kept as the benchmark's anchor). For MiniLM,
        ``model_cache`` is a folder for its exported ONNX graphs (built once, then reused; checks
        run ~4x faster in ONNX Runtime with int8 weights; without it PyTorch runs the model) and
        ``semantic_backend`` picks the runtime (see ``policies.semantic.Embedder``)."""
        if semantic_model not in ("multilingual", "minilm"):
            raise PolicyError(f"unknown semantic model {semantic_model!r}: use multilingual or minilm")
        self.semantic_model = semantic_model
        self.packs = tuple(packs)
        self.pack_digest = packs_digest(list(self.packs))
        compiled = compile_packs(self.packs)
        self.categories: dict[str, CategorySpec] = compiled.categories
        self.rules: dict[str, CompiledRule] = compiled.rules
        self.lexicons: dict[str, tuple[str, ...]] = compiled.lexicons
        self._aliases = compiled.aliases
        self.index, self.scripts, self._compiled = compiled.index, compiled.scripts, compiled
        self.context = Context([p.spec for p in self.packs], self.rules)
        self._pattern_rules = [r for r in self.rules.values() if r.patterns]
        self._combo_rules = [r for r in self.rules.values() if r.all_of]
        self.semantic = (
            build_index(self.rules, self.packs, semantic_model, model_cache, semantic_backend) if semantic else None
        )

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        extra_packs: Iterable[object] = (),
        *,
        semantic: bool = True,
        bundled: bool = True,
        model_cache: str | os.PathLike[str] | None = None,
        semantic_backend: Backend = "auto",
        semantic_model: SemanticModel = "multilingual",
    ) -> PolicyEngine:
        """Bundled packs (``policies/packs``) plus ``extra_packs`` (paths, folders or ``PackSource``)."""
        sources = (bundled_sources() if bundled else []) + sources_from_paths(extra_packs)
        if not sources:
            raise PolicyPackError("<packs>:1: <pack>: no policy packs to load")
        return cls(
            [load_pack(source) for source in sources],
            semantic=semantic,
            model_cache=model_cache,
            semantic_backend=semantic_backend,
            semantic_model=semantic_model,
        )

    @classmethod
    def shared(
        cls,
        extra_packs: Iterable[object] = (),
        *,
        semantic: bool = True,
        model_cache: str | os.PathLike[str] | None = None,
        semantic_model: SemanticModel = "multilingual",
    ) -> PolicyEngine:
        """One engine per process for the same packs (by content) and options: the warm path.
        Loading embeds every exemplar (seconds); a second ``check`` in the same process should
        cost milliseconds. The engine is read-only, so sharing it is safe."""
        sources = bundled_sources() + sources_from_paths(extra_packs)
        key = (
            tuple((s.name, hashlib.sha256(s.text.encode()).hexdigest()) for s in sources),
            semantic,
            str(model_cache),
            semantic_model,
        )
        with _SHARED_LOCK:
            engine = _SHARED.get(key)
            if engine is None:
                engine = cls(
                    [load_pack(source) for source in sources],
                    semantic=semantic,
                    model_cache=model_cache,
                    semantic_model=semantic_model,
                )
                engine.warm_up()  # jieba's dictionary and the converters load now, not on a later prompt
                _SHARED[key] = engine
        return engine

    def warm_up(self) -> None:
        """Load lazy parts now (jieba's dictionary, first model call) so the first check is fast."""
        SEGMENTER.warm_up()
        self.check("warm up 预热", jurisdiction="none")

    # -- checking ------------------------------------------------------------------------
    def check(
        self,
        prompt: str,
        *,
        jurisdiction: str = "eu",
        consent: ConsentLookup | None = None,
        scope: str = DEFAULT_SCOPE,
        at: datetime | None = None,
    ) -> PolicyDecision:
        """Decide on one prompt. ``PromptError`` for bad input; ``PolicyError`` if anything breaks."""
        started = time.perf_counter()
        text = validate_prompt(prompt)
        profile = get_profile(jurisdiction)
        try:
            canonical = normalize(text)
            hits = self._hits(canonical, text)
            decision = self._decide(text, canonical, hits, profile, consent, scope, at or datetime.now(UTC))
        except (PromptError, PolicyError):
            raise
        except Exception as exc:  # fail closed: an engine fault is an error, never an allow
            raise PolicyError(f"policy engine failed on this prompt: {type(exc).__name__}: {exc}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        return _replace_latency(decision, elapsed)

    def _hits(self, canonical: str, text: str | None = None) -> list[RuleHit]:
        return self._hits_and_defused(canonical, text)[0]

    def semantic_input(self, canonical: str, text: str | None = None) -> str:
        """What the model reads: the prompt without its style-only tail. MiniLM reads the
        canonical text it was tuned on; the multilingual model reads the prompt only lightly
        normalised (``policies.normalize.light``), since dropping accents and marks that the
        lexical stage folds away ("superhéroe", the dakuten of "ピ", Hindi vowel signs) would
        hand it misspelt words. A Hindi prompt is read as its word-by-word English gloss
        (``policies.gloss``): the model has no Hindi."""
        if self.semantic_model == "minilm" or text is None:
            return content_text(canonical)
        read = light(text)
        if mostly_devanagari(read):  # a language the model never learnt: it reads an English gloss
            read = hindi_glossary().gloss(read)
        return content_text(read)

    def _hits_and_defused(
        self, canonical: str, text: str | None = None
    ) -> tuple[list[RuleHit], list[tuple[RuleHit, str]]]:
        """Every hit, and the hits that context defused (each with why)."""
        tokens = tokenize(canonical)
        hits: list[RuleHit] = []
        lexicon_hits: dict[str, str] = {}
        works: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        lexicon_spans: dict[str, list[tuple[int, int]]] = {}
        lexical: list[Match | ScriptMatch] = self._compiled.matches(tokens, canonical)
        for match in lexical:
            owner = match.entry.owner
            matched = canonical[match.start : match.end]
            if owner.startswith("lex:"):
                lexicon_hits.setdefault(owner[4:], matched)
                lexicon_spans.setdefault(owner[4:], []).append((match.start, match.end))
                continue
            if owner.startswith("work:"):
                works.setdefault((owner[5:], match.entry.entity_id or ""), {}).setdefault(
                    match.entry.term, (match.start, match.end)
                )
                continue
            entity = match.entry.entity_id
            alias = (
                match.entry.alias
                if isinstance(match.entry, ScriptEntry)
                else (entity, match.entry.key) in self._aliases
            )
            method = "alias" if alias else match.method
            hits.append(
                self._hit(
                    self.rules[owner[5:]],
                    method,
                    matched,
                    match.entry.term,
                    match.score,
                    (match.start, match.end),
                    entity,
                )
            )
        need = {rule_id: self.rules[rule_id].spec.works_need for rule_id, _ in works}
        for find in named_by_works(works, lexicon_spans, need, canonical):
            rule = self.rules[find.rule_id]
            hits.append(self._hit(rule, "work", find.matched, find.terms, 1.0, find.span, find.entity_id))
        hits = outer_names(hits)
        joined = " ".join(t.text for t in tokens)
        for rule in self._pattern_rules:
            for pattern in rule.patterns:
                found = pattern.search(joined)
                if found:
                    hits.append(self._hit(rule, "pattern", found.group(0), pattern.pattern, 1.0, None, None))
                    break
        for rule in self._combo_rules:
            if all(name in lexicon_hits for name in rule.all_of):
                matched = " + ".join(lexicon_hits[name] for name in rule.all_of)
                hits.append(self._hit(rule, "combination", matched, " & ".join(rule.all_of), 1.0, None, None))
        hits, defused = self.context.defuse(hits, tokens, semantic=False)
        if self.semantic is not None and not any(h.action is Action.DENY for h in hits):
            # The embedding sees the prompt without its style-only tail (quality and artist tags):
            # the same meaning in fewer tokens, and the forward pass grows with length.
            # A framed prompt ("a news report on the trial of ...") is read whole: a clause cut from
            # its framing would read as the harm itself (``policies.clauses``).
            framed = self.context.framing(tokens) is not None
            semantic = []
            for m in self.semantic.match(self.semantic_input(canonical, text), clauses=not framed):
                rule = self.rules[m.owner[5:]]
                semantic.append(self._hit(rule, "semantic", m.exemplar, m.exemplar, m.score, None, m.entity_id))
            ceiling = FRAMING_CEILING_MULTILINGUAL if self.semantic_model == "multilingual" else None
            semantic, more = self.context.defuse(semantic, tokens, semantic=True, ceiling=ceiling)
            semantic, own = self.context.originals(semantic, tokens)
            hits += unshadowed(semantic, hits)
            defused += more + own
        return dedupe(hits), defused

    def _hit(self, rule: CompiledRule, method, matched, term, score, span, entity) -> RuleHit:
        return RuleHit(
            rule_id=rule.id,
            category=rule.category,
            action=rule.action,
            severity=rule.severity,
            method=method,
            matched=matched,
            term=term,
            score=score,
            span=span,
            entity_id=entity,
            pack=rule.pack,
        )

    def _decide(self, text, canonical, hits, profile, consent, scope, at) -> PolicyDecision:
        prompt_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        hits = sorted(hits, key=strength)
        action = hits[0].action if hits else Action.ALLOW
        primary = hits[0] if hits else None
        persons = tuple(dict.fromkeys(h.entity_id for h in hits if h.action is Action.REQUIRE_CONSENT and h.entity_id))
        licence_ids: list[str] = []
        allowed = action in (Action.ALLOW, Action.ADD_DISCLOSURE)
        missing: list[str] = []
        if action is Action.REQUIRE_CONSENT:
            for person in persons:
                found = consent.find_license(person, scope=scope, at=at) if consent is not None else None
                (licence_ids.append(found) if found else missing.append(person))
            # A likeness hit with no identifiable person cannot be licensed: it stays refused.
            allowed = bool(persons) and not missing
        disclosure = action is Action.ADD_DISCLOSURE or (action is Action.REQUIRE_CONSENT and allowed)
        obligations = profile.obligations_for(disclosure=disclosure) if allowed else ()
        reason = reason_for(
            action, primary, self.rules[primary.rule_id].description if primary else "", allowed, licence_ids, missing
        )
        return PolicyDecision(
            action=action,
            allowed=allowed,
            category=primary.category if primary else None,
            rule_id=primary.rule_id if primary else None,
            reason=reason,
            hits=tuple(hits),
            pack_digest=self.pack_digest,
            jurisdiction=profile.code,
            obligations=obligations,
            prompt_sha256=prompt_sha,
            consent_license_id=",".join(licence_ids) if licence_ids else None,
            normalized=canonical,
            persons=persons,
        )

    # -- explaining and self-tests -------------------------------------------------------
    def explain(self, prompt: str, *, jurisdiction: str = "eu", consent: ConsentLookup | None = None) -> list[str]:
        """Human-readable lines: the decision, every hit, and the nearest exemplars."""
        d = self.check(prompt, jurisdiction=jurisdiction, consent=consent)
        lines = [
            f"decision: {d.action} ({'allowed' if d.allowed else 'refused'}) - {d.reason}",
            f"normalised: {d.normalized!r}",
            f"jurisdiction: {d.jurisdiction}; obligations: {', '.join(d.obligations) or '-'}",
            f"pack digest: {d.pack_digest}",
        ]
        for h in d.hits:
            where = f" at {h.span[0]}:{h.span[1]}" if h.span else ""
            lines.append(
                f"hit: {h.rule_id} [{h.category}, {h.action}, {h.severity}] {h.method} "
                f"{h.matched!r}{where} score {h.score:.3f}" + (f" entity {h.entity_id}" if h.entity_id else "")
            )
        for hit, why in self._hits_and_defused(d.normalized, prompt)[1]:
            lines.append(f"defused: {hit.rule_id} {hit.method} {hit.matched!r} ({why})")
        if self.semantic is not None:
            embed = self.semantic.embedder
            lines.append(
                f"semantic model: {embed.name} on {embed.backend}"
                + (f" ({embed.onnx_path.name})" if embed.onnx_path else "")
            )
            semantic_input = self.semantic_input(d.normalized, prompt)
            lines.append(f"semantic input: {semantic_input!r}")
            read = self.semantic.read(semantic_input)
            if read != [semantic_input]:
                lines.append(f"read in {len(read)} windows (long prompt): " + "; ".join(repr(w) for w in read))
            for m in self.semantic.nearest(semantic_input):
                lines.append(
                    f"nearest exemplar: {m.owner[5:]} {m.exemplar!r} similarity {m.score:.3f} "
                    + (f"in window {m.window!r} " if m.window else "")
                    + f"(threshold {self.semantic.thresholds.get(m.owner, 0):.2f}, benign anchor {m.anchor_score:.3f})"
                )
        return lines

    def run_examples(self, pack: str | None = None) -> list[ExampleResult]:
        """Run every rule's own ``examples`` (hit: the rule must hit; miss: it must not)."""
        if pack is not None and pack not in {p.spec.pack for p in self.packs}:
            raise PolicyError(f"no loaded pack named {pack!r}")
        results = []
        for rule in self.rules.values():
            if pack is not None and rule.pack != pack:
                continue
            cases = [(p, True) for p in rule.spec.examples.hit] + [(p, False) for p in rule.spec.examples.miss]
            for prompt, expect in cases:
                decision = self.check(prompt)
                hit = rule.id in decision.rule_ids
                results.append(ExampleResult(rule.id, prompt, expect, hit == expect, decision))
        return results


_SHARED: dict[tuple, PolicyEngine] = {}
_SHARED_LOCK = threading.Lock()


def _replace_latency(decision: PolicyDecision, ms: float) -> PolicyDecision:
    from dataclasses import replace

    return replace(decision, latency_ms=ms)
