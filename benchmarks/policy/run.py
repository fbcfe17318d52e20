"""Run the multilingual benchmark: every engine on the dev split and on each held-out set (every
``heldout*_prompts.jsonl``, each reported on its own), names obfuscated, then the shipped
engine's latency.

    python benchmarks/policy/run.py --split dev   # tuning: reads and prints the dev set only
    python benchmarks/policy/run.py               # dev and every held-out set (the lead's run)

With ``--split dev`` no held-out file is opened, timed or printed, and the report goes to
``OUT/multilingual-dev.md`` (the published ``multilingual.md`` is left alone).

Engines, all on the same packs: the keyword baseline (``baseline.Keyword``), the lexical stages
alone, the full engine with the multilingual model (what ships), and the full engine with MiniLM
(the earlier English model: the anchor, measured in the same run).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

if __name__ == "__main__":  # run as a script: benchmarks/ and the repository root on the path
    from pathlib import Path as _Path

    sys.path[:0] = [str(_Path(__file__).resolve().parents[1]), str(_Path(__file__).resolve().parents[2])]

from policies import Action, PolicyDecision, PolicyEngine
from policy.baseline import Keyword
from policy.data import Prompt, heldout_sets, load, obfuscate

__all__ = ["Engines", "Score", "evaluate", "latency", "run", "splits", "SPLITS"]

SPLITS = ("all", "dev", "heldout")


@dataclass
class Engines:
    keyword: Keyword
    lexical: PolicyEngine
    multilingual: PolicyEngine
    minilm: PolicyEngine | None

    def named(self) -> dict[str, object]:
        out: dict[str, object] = {"keyword": self.keyword, "lexical": self.lexical, "multilingual": self.multilingual}
        if self.minilm is not None:
            out["minilm"] = self.minilm
        return out


@dataclass
class Score:
    """Correct / total per group, and the prompts each engine got wrong."""

    groups: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[dict] = field(default_factory=list)

    def add(self, keys: list[str], ok: bool) -> None:
        for key in keys:
            self.groups[key][0] += ok
            self.groups[key][1] += 1

    def rate(self, key: str) -> tuple[float | None, int]:
        ok, n = self.groups.get(key, (0, 0))
        return (ok / n if n else None), n


def _correct(p: Prompt, decision: PolicyDecision | bool) -> bool:
    if isinstance(decision, bool):  # the keyword baseline only says flagged or not
        return decision if p.expect != "allow" else not decision
    if p.expect == "allow":
        return decision.allowed
    if p.expect == "consent":  # a real person: consent decides, and no character hit rides along
        entity = (p.entity or "").replace("_", "-")
        return (decision.action is Action.REQUIRE_CONSENT and entity in decision.persons
                and not any(h.action is Action.DENY for h in decision.hits))
    return not decision.allowed


def _keys(p: Prompt) -> list[str]:
    """The groups a prompt counts in: family x language, family, language (refusals only), and
    the false-positive pool (benign look-alikes and defused framings)."""
    keys = [f"{p.family}|{p.lang}", f"family|{p.family}"]
    if p.expect != "allow":
        keys.append(f"lang|{p.lang}")
        keys.append("all-refuse")
    else:
        keys.append("all-allow")
    return keys


def evaluate(engines: Engines, prompts: list[Prompt]) -> dict[str, Score]:
    scores = {name: Score() for name in engines.named()}
    for p in prompts:
        for name, engine in engines.named().items():
            verdict = engine.flagged(p.prompt) if isinstance(engine, Keyword) else engine.check(p.prompt)
            ok = _correct(p, verdict)
            scores[name].add(_keys(p), ok)
            if not ok:
                got = verdict if isinstance(verdict, bool) else f"{verdict.action.value} {verdict.rule_id or ''}".strip()
                scores[name].misses.append({"id": p.id, "family": p.family, "lang": p.lang, "prompt": p.prompt,
                                            "expect": p.expect, "got": str(got)})
    return scores


def latency(engine: PolicyEngine, prompts: list[str], rounds: int = 3) -> dict[str, float]:
    """Per-check wall time over ``rounds`` passes (after a warm-up pass), in ms."""
    for prompt in prompts:
        engine.check(prompt)
    times = []
    for _ in range(rounds):
        for prompt in prompts:
            start = time.perf_counter()
            engine.check(prompt)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"n": len(times), "p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
            "max": times[-1], "mean": statistics.fmean(times)}


def splits(split: str) -> list[str]:
    """The prompt sets a run reads: ``dev``; ``heldout``: every held-out set; ``all``: both."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")
    return (["dev"] if split in ("all", "dev") else []) + (heldout_sets() if split in ("all", "heldout") else [])


def run(*, model_cache: str, minilm: bool = True, rounds: int = 3, split: str = "all") -> dict:
    """``split``: ``all`` (default: dev and each held-out set), ``dev`` (tuning: no held-out file
    is read) or ``heldout``."""
    names = splits(split)
    started = time.perf_counter()
    lexical = PolicyEngine.load(semantic=False)
    lexical.warm_up()
    multilingual = PolicyEngine.load(semantic=True, semantic_model="multilingual")
    multilingual.warm_up()
    anchor = None
    if minilm:
        anchor = PolicyEngine.load(semantic=True, semantic_model="minilm", model_cache=model_cache)
        anchor.warm_up()
    engines = Engines(Keyword(lexical), lexical, multilingual, anchor)
    loaded = time.perf_counter() - started
    sets = {name: load(name) for name in names}
    results, counts, texts = {}, {}, []
    for name, prompts in sets.items():
        obfuscated = obfuscate(prompts)
        results[name] = evaluate(engines, prompts)
        results[f"{name}-obfuscated"] = evaluate(engines, [p for _, p in obfuscated])
        counts[name] = len(prompts)
        counts[f"{name}-obfuscated"] = len(obfuscated)
        texts += [p.prompt for p in prompts]
    timing = {"multilingual": latency(multilingual, texts, rounds)}
    if anchor is not None:
        timing["minilm"] = latency(anchor, texts, rounds)
    timing["lexical"] = latency(lexical, texts, rounds)
    return {"results": results, "latency": timing, "load_s": loaded, "keyword_terms": engines.keyword.size,
            "counts": counts, "splits": names, "split": split}


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os
    import platform
    import tempfile
    from pathlib import Path

    from machine import cpu_model, int8_instructions

    from policy import report

    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description="Issue #22's multilingual prompt-policy benchmark")
    parser.add_argument("--split", choices=SPLITS, default="all",
                        help="dev: tuning, reads and prints the dev set only; all (default): dev and every held-out set")
    parser.add_argument("--out", type=Path, default=root / "docs" / "policy")
    parser.add_argument("--no-minilm", action="store_true", help="skip the MiniLM anchor engine")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per engine")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    data = run(model_cache=tempfile.mkdtemp(prefix="bench-policy-ml-"), minilm=not args.no_minilm,
               rounds=args.rounds, split=args.split)
    after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = {"cpu": cpu_model(), "int8": int8_instructions(), "cores": os.cpu_count(),
               "load_before": before, "load_after": after, "python": platform.python_version()}
    path = report.write(args.out, data, machine)
    print(path.read_text(encoding="utf-8"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
