"""Benchmark of the prompt policy engine against public prompt sets and ReelGuard's own set.

    python benchmarks/bench_policy.py [--quick] [--out docs/policy] [--write-evasive]
    python benchmarks/bench_policy.py --multilingual-only   # issue #22's benchmark alone (~2 min)

Two parts. First the multilingual benchmark (``benchmarks/policy/``: data, baseline, run,
report): dev and held-out prompts in 13 language variants and 7 phrasing families, their names
obfuscated by an independent generator, four engines side by side, written to
``OUT/multilingual.md`` / ``.json`` / ``.png``. Then the English public-set suite below (Six-CD,
I2P), on the shipped engine with MiniLM in PyTorch as the speed anchor.

A prompt counts as *flagged* when the engine would not let it be generated (deny, review, or
require-consent without a licence). Everything is measured in this run, including a plain
keyword blocklist built from the same packs' terms (lower-case whole-word match on the raw text:
no normalisation, no fuzzy or semantic matching), so the table shows what matching adds.
Writes ``OUT/benchmark.md``, ``OUT/benchmark.json`` and ``OUT/benchmark.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import cpu_model, int8_instructions  # noqa: E402  (benchmarks/machine.py)
from policy.baseline import Keyword  # noqa: E402  (benchmarks/policy/: full strength, prefixes kept)

from policies import PolicyEngine, PromptError, normalize  # noqa: E402
from policies.boilerplate import content_text  # noqa: E402
from tests.support.evasion import EVASIONS, evade_prompt  # noqa: E402

DATASETS = Path(os.environ.get("REELGUARD_DATASETS", ROOT.parent / "shared" / "datasets"))
SIXCD = DATASETS / "six-cd"
OWN = ROOT / "tests" / "policies" / "data"
TEMPLATES = ["a photo of {}", "{} is eating a burger", "an image depicting {} in the mountain",
             "a cinematic video of {} reading a book"]
REFERENCES = [  # published prompt-classification results (Meta's internal test set), not re-measured
    ("Llama Guard 3-8B (Meta, reported)", 0.947, 0.057),
    ("Llama Guard 3-1B (Meta, reported)", 0.899, 0.090),
]


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


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

    def time_alone(self, engines: dict[str, PolicyEngine], prompts: list[str], block: int = 200) -> dict[str, list[float]]:
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
                    try:
                        engine.check(prompt)
                    except PromptError:
                        pass  # refused input is timed too: the caller waits for the refusal
                    times.append((time.perf_counter() - start) * 1000)
        return out


def sample(items: list, k: int | None, seed: int = 0) -> list:
    if k is None or len(items) <= k:
        return items
    return random.Random(seed).sample(items, k)


def six_cd_names(kind: str) -> list[str]:
    names = []
    for row in rows(SIXCD / "SIX-CD" / f"{kind}.csv"):
        names.append(row["concept"].replace("_", " ").strip())
    return names


def build_sets(quick: bool, lexical: PolicyEngine) -> dict[str, list[tuple[str, bool]]]:
    k = 60 if quick else None
    sets: dict[str, list[tuple[str, bool]]] = {}
    for kind in ("Celebrity", "Character"):
        names = six_cd_names(kind)
        sets[f"Six-CD {kind} names x4 templates"] = [(t.format(n), True) for n in names for t in TEMPLATES]
        dual = SIXCD / "Dual-Version" / kind
        sets[f"Six-CD Dual {kind}"] = [(r["prompt"], True) for r in rows(dual / "malicious.csv")] + \
                                      [(r["prompt"], False) for r in rows(dual / "clean.csv")]
        kinds = sorted(EVASIONS)
        obfuscated = []
        for i, name in enumerate(names):
            chosen = kinds if not quick else [kinds[i % len(kinds)]]
            for j, ev in enumerate(chosen):
                template = TEMPLATES[(i + j) % len(TEMPLATES)]
                obfuscated.append((evade_prompt(template.format(name), name, ev, seed=i), True))
        sets[f"Six-CD {kind} names, obfuscated (8 evasions)"] = obfuscated
    sets["Name-free descriptions (dev, used for tuning)"] = [(r["prompt"], True) for r in rows(OWN / "descriptions_heldout.csv")]
    sets["Name-free descriptions (held-out test, seen in earlier runs)"] = [(r["prompt"], True) for r in rows(OWN / "descriptions_test.csv")]
    # Written 2026-12-02 by someone who had not seen the packs or the other sets; first scored with
    # the packs as committed that day, never used to change them.
    sets["Name-free descriptions (fresh held-out test 2)"] = [(r["prompt"], True) for r in rows(OWN / "descriptions_test2.csv")]
    # Written 2026-12-02 by a helper who saw neither the packs nor the other sets; used to choose
    # how long prompts are windowed, so it is a dev set.
    long_dev = [r["prompt"] for r in rows(OWN / "descriptions_long_dev.csv")]
    sets["Name-free descriptions in long prompts, 48-70 words (dev, used to choose the windows)"] = [(p, True) for p in long_dev]
    sets["Dev descriptions inside 20-40 words of benign scene, before or after (dev)"] = [
        (p, True) for p in in_scenes([r["prompt"] for r in rows(OWN / "descriptions_heldout.csv")])]
    # The same scenes around the hard benign prompts: do windows add false positives in long prompts?
    sets["Hard benign inside 20-40 words of benign scene, before or after (negatives)"] = [
        (p, False) for p in in_scenes([r["prompt"] for r in rows(OWN / "benign_hard.csv")])]
    sets["Six-CD benign (500)"] = [(r["prompt"], False) for r in sample(rows(SIXCD / "benign.csv"), 150 if quick else None)]
    for kind in ("Harm", "Nudity"):
        dual = SIXCD / "Dual-Version" / kind
        sets[f"Six-CD Dual {kind} (model-drawn labels)"] = [(r["prompt"], True) for r in rows(dual / "malicious.csv")] + \
                                                           [(r["prompt"], False) for r in rows(dual / "clean.csv")]
        sets[f"Six-CD {kind} (all positive, model-drawn)"] = [(r["prompt"], True) for r in sample(rows(SIXCD / "SIX-CD" / f"{kind}.csv"), k)]
    plain = rows(OWN / "harmful_plain.csv")
    evasive = rows(OWN / "harmful_evasive.csv") if (OWN / "harmful_evasive.csv").exists() else []
    hard = [(r["prompt"], False) for r in rows(OWN / "benign_hard.csv")]
    sets["Own: plainly harmful + hard benign"] = [(r["prompt"], True) for r in plain] + hard
    sets["Own: evasive variants + hard benign"] = [(r["prompt"], True) for r in evasive] + hard
    return sets


SCENES = [  # benign scene text put before or after a description (what a long real prompt adds)
    "walking through a quiet village market on a sunny morning, old stone houses with flower boxes, people "
    "selling fruit and fresh bread, a slow river in the background with small wooden boats, children playing "
    "near a fountain, pigeons on the square",
    "a wide valley at dusk with rolling green hills, a winding dirt road, a farmhouse with a red barn and a "
    "windmill, cows grazing in the meadow, mist rising over a lake, a flock of birds crossing an orange sky "
    "above distant snowy mountains",
]


def in_scenes(prompts: list[str]) -> list[str]:
    """Each prompt with the first 20 or 40 words of each scene before it and after it."""
    out = []
    for words in (20, 40):
        for scene in SCENES:
            text = " ".join(scene.split()[:words])
            out += [f"{d}, {text}" for d in prompts] + [f"{text}, {d}" for d in prompts]
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
    return {cat: {"n": len(v), "ours": sum(a for a, _ in v) / len(v), "keyword": sum(b for _, b in v) / len(v)}
            for cat, v in sorted(by_cat.items())}


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
            out[f"{name}/{cat}"] = {"n": len(prompts), "recall": ours.metrics()["recall"],
                                    "keyword_recall": base.metrics()["recall"]}
    out["hard-benign FPR"] = {"n": len(hard), **{k: v for k, v in zip(
        ("fpr", "keyword_fpr"), (runner.score([(p, False) for p in hard])[i].metrics()["fpr"] for i in (0, 1)))}}
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


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsample the large sets (a few minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "policy")
    parser.add_argument("--write-evasive", action="store_true", help="regenerate tests/policies/data/harmful_evasive.csv")
    parser.add_argument("--multilingual-only", action="store_true", help="only the languages-and-phrasings benchmark")
    parser.add_argument("--skip-multilingual", action="store_true", help="only the English public-set suite")
    args = parser.parse_args()
    if not args.skip_multilingual:
        multilingual(args.out)
    if args.multilingual_only:
        return

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
    if args.write_evasive:
        print(f"wrote {write_evasive(lexical)}")
    setup = {
        "python": platform.python_version(), "torch": torch.__version__, "cpu": f"{cpu_model()} ({int8_instructions()})",
        "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "packs": {p.spec.pack: p.spec.version for p in engine.packs}, "pack_digest": engine.pack_digest,
        "rules": len(engine.rules), "exemplars": len(engine.semantic.texts), "engine_load_s": round(load_s, 1),
        "first_load_with_onnx_export_s": round(export_s, 1), "semantic_backend": engine.semantic.embedder.backend,
        "onnxruntime": __import__("onnxruntime").__version__,
        "quick": args.quick,
        "window_plan": str(engine.semantic.plan),
    }
    print("setup:", json.dumps(setup, indent=1))

    runner = Runner(engine, lexical, anchor, whole)
    results = {}
    for name, labelled in build_sets(args.quick, lexical).items():
        ours, base, unnamed, whole_counts = runner.score(labelled)
        results[name] = {"ours": ours.metrics(), "keyword": base.metrics(), "unnamed": unnamed.metrics(),
                         "whole": whole_counts.metrics(),
                         "named_negatives": list(runner.named_negatives)}
        m = results[name]["ours"]
        print(f"{name:55s} n={m['n']:5d} P={pct(m['precision'])} R={pct(m['recall'])} F1={pct(m['f1'])} FPR={pct(m['fpr'])}"
              f" FPR(no listed name)={pct(results[name]['unnamed']['fpr'])} | keyword R={pct(results[name]['keyword']['recall'])} FPR={pct(results[name]['keyword']['fpr'])}")
    per_cat = own_per_category(runner)
    i2p = i2p_rates(runner, args.quick)
    # Timed pass: each engine alone over every distinct prompt of the run, in one shuffled order,
    # the engines taking turns by blocks of 200 prompts.
    prompts = list(runner.cache)
    random.Random(0).shuffle(prompts)
    print(f"timing {len(prompts)} prompts per engine, each engine on its own, in turns of 200 ...", flush=True)
    timed = runner.time_alone({"shipped": engine, "whole": whole, "anchor": anchor, "lexical": lexical}, prompts)
    lat, whl, anc, lex = (sorted(timed[k]) for k in ("shipped", "whole", "anchor", "lexical"))
    # Prompts whose semantic input is at most 77 tokens (refused prompts have none), same pass.
    short = sorted(t for p, t in zip(prompts, timed["shipped"]) if p in runner.tokens and runner.tokens[p] <= 77)
    inter = sorted(runner.interleaved)

    def q(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    tokens = sorted(runner.tokens.values())
    latency = {"n": len(lat), "p50_ms": q(lat, 0.5), "p95_ms": q(lat, 0.95), "p99_ms": q(lat, 0.99),
               "mean_ms": statistics.fmean(lat) if lat else None,
               "lexical_p50_ms": q(lex, 0.5), "lexical_p95_ms": q(lex, 0.95),
               "torch_p50_ms": q(anc, 0.5), "torch_p95_ms": q(anc, 0.95), "torch_p99_ms": q(anc, 0.99),
               "short_n": len(short), "short_p50_ms": q(short, 0.5), "short_p95_ms": q(short, 0.95),
               "whole_p50_ms": q(whl, 0.5), "whole_p95_ms": q(whl, 0.95), "whole_p99_ms": q(whl, 0.99),
               "interleaved_p50_ms": q(inter, 0.5), "interleaved_p95_ms": q(inter, 0.95),
               "interleaved_p99_ms": q(inter, 0.99),
               "read_tokens_p50": q(sorted(runner.read_tokens), 0.5), "read_tokens_p95": q(sorted(runner.read_tokens), 0.95),
               "backend_disagreements": len(runner.disagree),
               "tokens_p50": q(tokens, 0.5), "tokens_p95": q(tokens, 0.95),
               "raw_tokens_p50": q(sorted(runner.raw_tokens), 0.5), "raw_tokens_p95": q(sorted(runner.raw_tokens), 0.95)}
    print("latency:", json.dumps(latency))
    report = {"setup": setup, "sets": results, "own_per_category": per_cat, "i2p": i2p, "latency": latency,
              "overlap": overlap(engine), "references": REFERENCES}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    (args.out / "benchmark.md").write_text(render(report), encoding="utf-8")
    plot(report, args.out / "benchmark.png")
    print(f"wrote {args.out / 'benchmark.md'}")


def multilingual(out: Path) -> None:
    """Issue #22's benchmark: every engine on the dev and held-out splits, then latency."""
    from policy import report, run

    before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cache = Path(tempfile.mkdtemp(prefix="bench-policy-ml-"))
    data = run.run(model_cache=str(cache))
    after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = {"cpu": cpu_model(), "int8": int8_instructions(), "cores": os.cpu_count(),
               "load_before": before, "load_after": after, "python": platform.python_version()}
    report.write(out, data, machine)
    print(f"wrote {out / 'multilingual.md'}")


def render(r: dict) -> str:
    s = r["setup"]
    lines = ["# Prompt policy benchmark", "",
             f"Generated by `benchmarks/bench_policy.py{' --quick' if s['quick'] else ''}`. "
             f"Packs {', '.join(f'{k} {v}' for k, v in s['packs'].items())}; digest `{s['pack_digest'][:16]}…`; "
             f"{s['rules']} rules, {s['exemplars']} exemplars. Python {s['python']}, torch {s['torch']}, "
             f"CPU {s['cpu']}, {s['cores']} cores shared with other jobs (load average {s['load_average']:.1f} at start).", "",
             "*Flagged* = the engine would not let the prompt be generated (deny, review, or require-consent "
             "without a licence). The keyword baseline uses the same packs' terms as a plain lower-case "
             "whole-word match on the raw prompt.", "",
             "*FPR, no listed name*: the false-positive rate over the negatives that do not literally name a "
             "listed real person or protected work (those are refused by design: consent or deny).", "",
             "| set | n | precision | recall | F1 | FPR | FPR, no listed name | keyword recall | keyword FPR |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, v in r["sets"].items():
        o, k, u = v["ours"], v["keyword"], v.get("unnamed", {})
        unnamed = f"{pct(u.get('fpr'))} (n={u['n']})" if u.get("fpr") is not None else "–"
        lines.append(f"| {name} | {o['n']} | {pct(o['precision'])} | {pct(o['recall'])} | {pct(o['f1'])} | "
                     f"{pct(o['fpr'])} | {unnamed} | {pct(k['recall'])} | {pct(k['fpr'])} |")
    named = [(n, v["named_negatives"]) for n, v in r["sets"].items() if v.get("named_negatives")]
    if named:
        lines += ["", "Negatives left out of *FPR, no listed name* (they name a listed person or work):", ""]
        for set_name, prompts in named:
            shown = "; ".join(p[:60] for p in prompts[:12]) + (" …" if len(prompts) > 12 else "")
            lines.append(f"- {set_name} ({len(prompts)}): {shown}")
    lines += ["", "### Long prompts: read in windows (shipped) against read whole (the design before)", "",
              f"Window plan: `{s.get('window_plan', '–')}`: a prompt over `whole` tokens is read as its first "
              "window plus the best-ranked other one (`policies/windows.py`), each embedded alone.", "",
              "| set | n | recall / FPR, windows | recall / FPR, whole prompt |", "|---|---:|---:|---:|"]
    for name, v in r["sets"].items():
        if "whole" not in v:
            continue
        rates = lambda m: "/".join(pct(m[k]) for k in ("recall", "fpr") if m[k] is not None)  # noqa: E731
        lines.append(f"| {name} | {v['ours']['n']} | {rates(v['ours'])} | {rates(v['whole'])} |")
    lines += ["", "Reference points (reported by Meta on its internal prompt set; not measured here):", "",
              "| model | F1 | FPR |", "|---|---:|---:|"]
    lines += [f"| {name} | {f1:.3f} | {fpr:.3f} |" for name, f1, fpr in r["references"]]
    lines += ["", "## Own harmful set, per category (recall; engine vs keyword)", "",
              "| category | n | recall | keyword recall |", "|---|---:|---:|---:|"]
    for name, v in r["own_per_category"].items():
        if "recall" in v:
            lines.append(f"| {name} | {v['n']} | {pct(v['recall'])} | {pct(v['keyword_recall'])} |")
    hb = r["own_per_category"].get("hard-benign FPR")
    if hb:
        lines.append(f"| hard benign (FPR) | {hb['n']} | {pct(hb['fpr'])} | {pct(hb['keyword_fpr'])} |")
    lines += ["", "## I2P (labels from what a model drew; share of prompts flagged)", "",
              "| category | n | ours | keyword |", "|---|---:|---:|---:|"]
    lines += [f"| {c} | {v['n']} | {v['ours']:.3f} | {v['keyword']:.3f} |" for c, v in r["i2p"].items()]
    lat, ov = r["latency"], r["overlap"]
    st = r["setup"]
    lines += ["", "## Latency (per prompt, after warm-up, distinct prompts)", "",
              f"Each engine runs on its own over all {lat['n']} distinct prompts of the run (one shuffled order, "
              f"the same for every engine), one prompt after another, as a service or `policy check --file` "
              f"runs it; the engines take turns by blocks of 200 prompts, so drift in the machine's speed "
              f"reaches all of them alike. Semantic input (the prompt "
              f"without its style-only segments) in MiniLM tokens: p50 {lat['tokens_p50']}, p95 {lat['tokens_p95']}; "
              f"whole prompt p50 {lat.get('raw_tokens_p50', '–')}, p95 {lat.get('raw_tokens_p95', '–')} "
              f"(truncated at 128); read by the shipped engine (all windows) p50 {lat.get('read_tokens_p50', '–')}, "
              f"p95 {lat.get('read_tokens_p95', '–')}. First engine load with the "
              f"one-time ONNX export {st['first_load_with_onnx_export_s']} s, later loads {st['engine_load_s']} s.", "",
              "| engine | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|",
              f"| full engine, MiniLM in ONNX Runtime {st['onnxruntime']}, {st['semantic_backend']} (shipped) | {lat['p50_ms']:.1f} | "
              f"{lat['p95_ms']:.1f} | {lat['p99_ms']:.1f} |",
              f"| full engine, MiniLM in PyTorch eager (anchor) | {lat['torch_p50_ms']:.1f} | {lat['torch_p95_ms']:.1f} | "
              f"{lat['torch_p99_ms']:.1f} |",
              f"| full engine (ONNX), windows off: every prompt read whole (the design before) | {lat.get('whole_p50_ms', float('nan')):.1f} | "
              f"{lat.get('whole_p95_ms', float('nan')):.1f} | {lat.get('whole_p99_ms', float('nan')):.1f} |",
              f"| ratio anchor / shipped | {lat['torch_p50_ms'] / lat['p50_ms']:.2f}x | "
              f"{lat['torch_p95_ms'] / lat['p95_ms']:.2f}x | {lat['torch_p99_ms'] / lat['p99_ms']:.2f}x |",
              f"| full engine (ONNX), semantic input of at most 77 tokens (n={lat['short_n']}) | {lat['short_p50_ms']:.1f} | "
              f"{lat['short_p95_ms']:.1f} | – |",
              f"| shipped engine in the accuracy pass, taking turns with the three others on each prompt "
              f"(their weights evict its own from the CPU caches) | {lat.get('interleaved_p50_ms', float('nan')):.1f} | "
              f"{lat.get('interleaved_p95_ms', float('nan')):.1f} | {lat.get('interleaved_p99_ms', float('nan')):.1f} |", "",
              f"- over {lat['n']} prompts; the two backends decided {lat['backend_disagreements']} of them differently",
              f"- lexical only (`semantic=False`): p50 {lat['lexical_p50_ms']:.2f} ms, p95 {lat['lexical_p95_ms']:.2f} ms", "",
              "## Overlap between the evaluation lists and the shipped lexicons", "",
              f"- Six-CD celebrity names present verbatim among shipped names: {ov['Celebrity']}",
              f"- Six-CD character concepts (parenthetical stripped) present verbatim: {ov['Character']}",
              f"- shipped: {ov['shipped entities']} entities, {ov['shipped names']} names", ""]
    return "\n".join(lines)


def plot(r: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = [n for n, v in r["sets"].items() if v["ours"]["recall"] is not None]
    ours = [r["sets"][n]["ours"]["recall"] for n in names]
    base = [r["sets"][n]["keyword"]["recall"] for n in names]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.5))
    y = range(len(names))
    ax.barh([i + 0.2 for i in y], ours, height=0.4, label="ReelGuard engine")
    ax.barh([i - 0.2 for i in y], base, height=0.4, label="keyword blocklist")
    ax.set_yticks(list(y), names, fontsize=7)
    ax.set_xlabel("recall (share of harmful prompts flagged)")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
