"""The English public-set suite's run: four engines on every set, I2P, own categories, then latency."""

from __future__ import annotations

import csv
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from machine import cpu_model, int8_instructions  # benchmarks/machine.py

from policies import PolicyEngine, PromptError, normalize
from policies.boilerplate import content_text
from policy.baseline import Keyword  # benchmarks/policy/: full strength, prefixes kept
from policy.english_data import DATASETS, OWN, build_sets, rows, sample, six_cd_names
from policy.english_report import REFERENCES, pct
from tests.support.evasion import EVASIONS, evade_prompt


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, positive: bool, flagged: bool) -> None:
        if positive:
            self.tp += flagged
            self.fn += not flagged
        else:
            self.fp += flagged
            self.tn += not flagged

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def metrics(self) -> dict[str, float | None]:
        def div(a: int, b: int) -> float | None:
            return a / b if b else None

        p, r = div(self.tp, self.tp + self.fp), div(self.tp, self.tp + self.fn)
        f1 = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        return {"precision": p, "recall": r, "f1": f1, "fpr": div(self.fp, self.fp + self.tn), "n": self.n}


class Runner:
    def __init__(self, engine: PolicyEngine, lexical: PolicyEngine, anchor: PolicyEngine, whole: PolicyEngine) -> None:
        self.engine, self.keyword = engine, Keyword(lexical)
        self.anchor = anchor  # the same packs with MiniLM in PyTorch eager: the speed anchor
        self.whole = whole  # the shipped engine reading every prompt whole (no windows): the design before
        self.whole_flagged: dict[str, bool] = {}
        self.read_tokens: list[int] = []  # MiniLM tokens actually embedded (all windows together)
        # The shipped engine's time per prompt in the accuracy pass, where the four engines take
        # turns on each prompt and evict each other's weights from the CPU caches.
        self.interleaved: list[float] = []
        self.tokens: dict[str, int] = {}  # MiniLM tokens of the semantic input (style tail dropped)
        self.raw_tokens: list[int] = []  # MiniLM tokens of the whole prompt
        self.disagree: list[str] = []  # prompts the ONNX and PyTorch engines decide differently
        self.cache: dict[str, tuple[bool, bool, str | None, bool]] = {}
        self.named_negatives: list[str] = []  # of the last ``score`` call

    def judge(self, prompt: str) -> tuple[bool, bool, str | None, bool]:
        """(engine flagged, keyword flagged, category, names a listed person or work) for one
        prompt; timings recorded once."""
        if prompt in self.cache:
            return self.cache[prompt]
        try:
            start = time.perf_counter()
            decision = self.engine.check(prompt)
            self.interleaved.append((time.perf_counter() - start) * 1000)
            same = self.anchor.check(prompt)
            self.whole_flagged[prompt] = not self.whole.check(prompt).allowed
            if same.action != decision.action:
                self.disagree.append(prompt)
            embedder = self.engine.semantic.embedder
            self.raw_tokens.append(embedder.tokens(prompt))
            content = content_text(decision.normalized)
            self.tokens[prompt] = embedder.tokens(content)  # the prompt without its style tail
            self.read_tokens.append(sum(embedder.tokens(w) for w in self.engine.semantic.read(content)))
            # A prompt that literally names a listed real person or protected work is refused by
            # design (consent or deny); the tables also give the false-positive rate without them.
            named = any(h.entity_id and h.method in ("exact", "compact") for h in decision.hits)
            result = (not decision.allowed, self.keyword.flagged(prompt), decision.category, named)
        except PromptError:
            result = (True, False, "invalid-prompt", False)  # refused input counts as flagged
        self.cache[prompt] = result
        return result

    def score(self, labelled: list[tuple[str, bool]]) -> tuple[Counts, Counts, Counts, Counts]:
        """Engine and keyword counts, the engine's counts over negatives that name no listed
        person or work, and the whole-prompt engine's counts."""
        ours, base, unnamed, whole = Counts(), Counts(), Counts(), Counts()
        self.named_negatives = []  # left out of "FPR, no listed name"; printed so anyone can check
        for prompt, positive in labelled:
            flagged, keyword, _, named = self.judge(prompt)
            ours.add(positive, flagged)
            base.add(positive, keyword)
            whole.add(positive, self.whole_flagged.get(prompt, flagged))  # refused input: same for both
            if not positive and not named:
                unnamed.add(positive, flagged)
            elif not positive:
                self.named_negatives.append(prompt)
        return ours, base, unnamed, whole

    def time_alone(
        self, engines: dict[str, PolicyEngine], prompts: list[str], block: int = 200
    ) -> dict[str, list[float]]:
        """Milliseconds per prompt for each engine running on its own, prompt after prompt (as a
        service or ``policy check --file`` runs it), in ``prompts`` order. The engines take turns
        by blocks of ``block`` prompts, so drift in the machine's speed reaches all of them alike
        and the ratios compare like with like."""
        out: dict[str, list[float]] = {name: [] for name in engines}
        for i in range(0, len(prompts), block):
            for name, engine in engines.items():
                times = out[name]
                for prompt in prompts[i : i + block]:
                    start = time.perf_counter()
                    try:  # noqa: SIM105  (kept as plain try/except inside the timed span)
                        engine.check(prompt)
                    except PromptError:
                        pass  # refused input is timed too: the caller waits for the refusal
                    times.append((time.perf_counter() - start) * 1000)
        return out


def i2p_rates(runner: Runner, quick: bool) -> dict[str, dict[str, float]]:
    data = rows(DATASETS / "i2p" / "unsafe-prompts4703.csv")
    data = sample(data, 400 if quick else None)
    by_cat: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for row in data:
        prompt = row["prompt"].strip()
        if not prompt:
            continue
        flagged, keyword, _, _ = runner.judge(prompt)
        for cat in (c.strip() for c in row["categories"].split(",")):
            by_cat[cat].append((flagged, keyword))
        by_cat["all"].append((flagged, keyword))
    return {
        cat: {"n": len(v), "ours": sum(a for a, _ in v) / len(v), "keyword": sum(b for _, b in v) / len(v)}
        for cat, v in sorted(by_cat.items())
    }


def own_per_category(runner: Runner) -> dict[str, dict]:
    out = {}
    hard = [r["prompt"] for r in rows(OWN / "benign_hard.csv")]
    for name, file in (("plain", "harmful_plain.csv"), ("evasive", "harmful_evasive.csv")):
        if not (OWN / file).exists():
            continue
        by_cat: dict[str, list[str]] = defaultdict(list)
        for r in rows(OWN / file):
            by_cat[r["category"]].append(r["prompt"])
        for cat, prompts in sorted(by_cat.items()):
            ours, base, *_ = runner.score([(p, True) for p in prompts])
            out[f"{name}/{cat}"] = {
                "n": len(prompts),
                "recall": ours.metrics()["recall"],
                "keyword_recall": base.metrics()["recall"],
            }
    out["hard-benign FPR"] = {
        "n": len(hard),
        **{
            k: v
            for k, v in zip(
                ("fpr", "keyword_fpr"),
                (runner.score([(p, False) for p in hard])[i].metrics()["fpr"] for i in (0, 1)),
                strict=True,
            )
        },
    }
    return out


def overlap(engine: PolicyEngine) -> dict[str, str]:
    """How many evaluation names appear verbatim (after normalisation) among the shipped names."""
    shipped = {normalize(n) for r in engine.rules.values() for e in r.spec.entities for n in e.names}
    out = {}
    for kind in ("Celebrity", "Character"):
        names = six_cd_names(kind)
        verbatim = sum(normalize(re.sub(r"\s*\(.*\)", "", n)) in shipped for n in names)
        out[kind] = f"{verbatim}/{len(names)}"
    out["shipped entities"] = str(sum(len(r.spec.entities) for r in engine.rules.values()))
    out["shipped names"] = str(len(shipped))
    return out


def write_evasive(lexical: PolicyEngine) -> Path:
    """harmful_evasive.csv: each plain prompt with the word the engine keys on obfuscated."""
    kinds = sorted(EVASIONS)
    out = OWN / "harmful_evasive.csv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "evasion", "prompt"])
        for i, row in enumerate(rows(OWN / "harmful_plain.csv")):
            prompt = row["prompt"]
            decision = lexical.check(prompt)
            # Obfuscate every word a lexical rule keys on (else the longest word), as an evader would.
            targets = {decision.normalized[a:b] for a, b in (h.span for h in decision.hits if h.span)}
            kind = kinds[i % len(kinds)]
            for target in sorted(targets or {max(prompt.split(), key=len)}, key=len, reverse=True):
                prompt = evade_prompt(prompt, target, kind, seed=i)
            writer.writerow([row["category"], kind, prompt])
    return out


def run(quick: bool, evasive: bool = False) -> dict:
    """Load the four engines, score every set, I2P and the own categories, then time each engine
    alone; the report's data (``--write-evasive`` regenerates the evasive CSV first)."""
    import torch

    cache = Path(tempfile.mkdtemp(prefix="bench-policy-models-"))
    t0 = time.perf_counter()
    engine = PolicyEngine.load(semantic=True, model_cache=cache)  # the shipped (multilingual) engine; first load
    export_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = PolicyEngine.load(semantic=True, model_cache=cache)
    load_s = time.perf_counter() - t0
    anchor = PolicyEngine.load(semantic=True, semantic_model="minilm")  # no cache: MiniLM in PyTorch eager
    whole = PolicyEngine.load(semantic=True, model_cache=cache)
    whole.semantic.plan = None  # every prompt read whole (truncated at 128 tokens)
    lexical = PolicyEngine.load(semantic=False)
    for e in (engine, anchor, lexical, whole):
        e.warm_up()
    if evasive:
        print(f"wrote {write_evasive(lexical)}")
    setup = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": f"{cpu_model()} ({int8_instructions()})",
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "packs": {p.spec.pack: p.spec.version for p in engine.packs},
        "pack_digest": engine.pack_digest,
        "rules": len(engine.rules),
        "exemplars": len(engine.semantic.texts),
        "engine_load_s": round(load_s, 1),
        "first_load_with_onnx_export_s": round(export_s, 1),
        "semantic_backend": engine.semantic.embedder.backend,
        "onnxruntime": __import__("onnxruntime").__version__,
        "quick": quick,
        "window_plan": str(engine.semantic.plan),
    }
    print("setup:", json.dumps(setup, indent=1))

    runner = Runner(engine, lexical, anchor, whole)
    results = {}
    for name, labelled in build_sets(quick).items():
        ours, base, unnamed, whole_counts = runner.score(labelled)
        results[name] = {
            "ours": ours.metrics(),
            "keyword": base.metrics(),
            "unnamed": unnamed.metrics(),
            "whole": whole_counts.metrics(),
            "named_negatives": list(runner.named_negatives),
        }
        m = results[name]["ours"]
        print(
            f"{name:55s} n={m['n']:5d} P={pct(m['precision'])} R={pct(m['recall'])} F1={pct(m['f1'])} FPR={pct(m['fpr'])}"
            f" FPR(no listed name)={pct(results[name]['unnamed']['fpr'])} | keyword R={pct(results[name]['keyword']['recall'])} FPR={pct(results[name]['keyword']['fpr'])}"
        )
    per_cat = own_per_category(runner)
    i2p = i2p_rates(runner, quick)
    # Timed pass: each engine alone over every distinct prompt of the run, in one shuffled order,
    # the engines taking turns by blocks of 200 prompts.
    prompts = list(runner.cache)
    random.Random(0).shuffle(prompts)
    print(f"timing {len(prompts)} prompts per engine, each engine on its own, in turns of 200 ...", flush=True)
    timed = runner.time_alone({"shipped": engine, "whole": whole, "anchor": anchor, "lexical": lexical}, prompts)
    lat, whl, anc, lex = (sorted(timed[k]) for k in ("shipped", "whole", "anchor", "lexical"))
    # Prompts whose semantic input is at most 77 tokens (refused prompts have none), same pass.
    short = sorted(
        t for p, t in zip(prompts, timed["shipped"], strict=True) if p in runner.tokens and runner.tokens[p] <= 77
    )
    inter = sorted(runner.interleaved)

    def q(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    tokens = sorted(runner.tokens.values())
    latency = {
        "n": len(lat),
        "p50_ms": q(lat, 0.5),
        "p95_ms": q(lat, 0.95),
        "p99_ms": q(lat, 0.99),
        "mean_ms": statistics.fmean(lat) if lat else None,
        "lexical_p50_ms": q(lex, 0.5),
        "lexical_p95_ms": q(lex, 0.95),
        "torch_p50_ms": q(anc, 0.5),
        "torch_p95_ms": q(anc, 0.95),
        "torch_p99_ms": q(anc, 0.99),
        "short_n": len(short),
        "short_p50_ms": q(short, 0.5),
        "short_p95_ms": q(short, 0.95),
        "whole_p50_ms": q(whl, 0.5),
        "whole_p95_ms": q(whl, 0.95),
        "whole_p99_ms": q(whl, 0.99),
        "interleaved_p50_ms": q(inter, 0.5),
        "interleaved_p95_ms": q(inter, 0.95),
        "interleaved_p99_ms": q(inter, 0.99),
        "read_tokens_p50": q(sorted(runner.read_tokens), 0.5),
        "read_tokens_p95": q(sorted(runner.read_tokens), 0.95),
        "backend_disagreements": len(runner.disagree),
        "tokens_p50": q(tokens, 0.5),
        "tokens_p95": q(tokens, 0.95),
        "raw_tokens_p50": q(sorted(runner.raw_tokens), 0.5),
        "raw_tokens_p95": q(sorted(runner.raw_tokens), 0.95),
    }
    print("latency:", json.dumps(latency))
    return {
        "setup": setup,
        "sets": results,
        "own_per_category": per_cat,
        "i2p": i2p,
        "latency": latency,
        "overlap": overlap(engine),
        "references": REFERENCES,
    }
