"""The registry benchmark's outputs: docs/registry/results.{md,json}, recall.png, scale.png and the
generated block of docs/registry.md (the hand-written text around it is kept). DEV and HELD-OUT
are summarised apart, every method of the same run side by side."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from common.media import DOCS, replace_block

from detectors.fingerprints.layout import LayoutFingerprint
from registry.run import LAYOUT_FLOOR, METHODS, QueryRow, SuiteResult

SHORT = {"reelguard": "ReelGuard", "pdq": "PDQ", "phash": "pHash", "vpdq": "vPDQ", "vpdq_bm": "vPDQ+bars+mirror"}
SPLIT_TITLE = {"dev": "DEV", "heldout": "HELD-OUT"}


@dataclass(frozen=True)
class Cell:
    """One method over a set of queries."""

    n: int
    found: int
    false_matches: int
    mean_coverage: float
    closest_false: float  # the highest decision statistic any wrong work reached

    @property
    def recall(self) -> float:
        return self.found / self.n if self.n else 0.0


def cell(rows: list[QueryRow], method: str) -> Cell:
    outs = [r.outcomes[method] for r in rows]
    return Cell(len(outs), sum(o.hit for o in outs), sum(len(o.false) for o in outs),
                float(np.mean([o.coverage for o in outs])) if outs else 0.0,
                max((o.closest_false for o in outs), default=0.0))  # fmt: skip


def by_transform(rows: list[QueryRow]) -> dict[str, dict[str, Cell]]:
    return {t: {m: cell([r for r in rows if r.transform == t], m) for m in METHODS}
            for t in dict.fromkeys(r.transform for r in rows)}  # fmt: skip


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}x" if b else ("-" if not a else "inf (baseline found none)")


def totals_table(rows: list[QueryRow]) -> list[str]:
    lines = [
        "| split | method | found | recall | false matches | ReelGuard found / method found |",
        "|---|---|---|---|---|---|",
    ]
    for split in SPLIT_TITLE:
        sub = [r for r in rows if r.split == split]
        if not sub:
            continue
        ours = cell(sub, "reelguard")
        for m in METHODS:
            c = cell(sub, m)
            ratio = "1 (reference)" if m == "reelguard" else _ratio(ours.found, c.found)
            lines.append(
                f"| {SPLIT_TITLE[split]} | {SHORT[m]} | {c.found}/{c.n} | {c.recall:.3f} | {c.false_matches} | {ratio} |"
            )
    return lines


def split_tables(rows: list[QueryRow], split: str) -> list[str]:
    sub = [r for r in rows if r.split == split]
    if not sub:
        return [f"No {SPLIT_TITLE[split]} works in this run.", ""]
    table = by_transform(sub)
    head = "| transform | n | " + " | ".join(f"{SHORT[m]} found / false" for m in METHODS) + " |"
    lines = [head, "|---|---|" + "---|" * len(METHODS)]
    for t, res in table.items():
        cells = [f"{res[m].found} / {res[m].false_matches}" for m in METHODS]
        lines.append(f"| {t} | {res['reelguard'].n} | " + " | ".join(cells) + " |")
    lines += ["", "Closest false candidate (the highest decision statistic any wrong work reached; decisions at "
              "coverage 0.25 for ReelGuard, PDQ and pHash, at a match share of 0.80 for vPDQ):", "",
              "| transform | " + " | ".join(SHORT[m] for m in METHODS) + " | ReelGuard decided by |",
              "|---|" + "---|" * (len(METHODS) + 1)]  # fmt: skip
    for t, res in table.items():
        fired = [r.outcomes["reelguard"].fired for r in sub if r.transform == t and r.outcomes["reelguard"].hit]
        by = ", ".join(f"{k}: {fired.count(k)}" for k in sorted(set(fired), key=str))
        lines.append(f"| {t} | " + " | ".join(f"{res[m].closest_false:.2f}" for m in METHODS) + f" | {by} |")
    margin = ["", f"Layout fingerprint margin (best similarity of a query's keyframes to a flat work's keyframes; "
                  f"frame threshold {LayoutFingerprint.threshold}; similarities under {LAYOUT_FLOOR} are not resolved and "
                  f"shown as 0.000):", "",
              "| transform | same work (min) | other works (max) |", "|---|---|---|"]  # fmt: skip
    for t in table:
        q = [r for r in sub if r.transform == t]
        true = [v for r in q for n, v in r.layout.items() if n == r.work]
        false = [v for r in q for n, v in r.layout.items() if n != r.work]
        margin.append(f"| {t} | {min(true):.3f} |" if true else f"| {t} | - |")
        margin[-1] += f" {max(false):.3f} |" if false else " - |"
    misses = [f"- {r.work} / {r.transform}: " + ", ".join(f"{SHORT[m]} {'found' if r.outcomes[m].hit else 'missed'}"
                                                          for m in METHODS)
              for r in sub if not r.outcomes["reelguard"].hit or r.outcomes["reelguard"].false]  # fmt: skip
    falses = [
        f"- {r.work} / {r.transform}: {SHORT[m]} also decided {', '.join(r.outcomes[m].false)}"
        for r in sub
        for m in METHODS
        if r.outcomes[m].false
    ]
    return (
        lines
        + margin
        + [
            "",
            "ReelGuard misses or false matches: " + ("none." if not misses else ""),
            *misses,
            "",
            "False matches, every method: " + ("none." if not falses else ""),
            *falses,
            "",
        ]
    )


def write_report(
    out: Path, suite: SuiteResult, scale: list[dict], e2e: dict | None, *, command: str, quick: bool
) -> str:
    """Write every output; returns the summary that goes into docs/registry.md."""
    out.mkdir(parents=True, exist_ok=True)
    rows = suite.rows
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    works = ", ".join(f"{SPLIT_TITLE[s]} {n} works" for s, n in suite.works.items())
    run_line = (f"`{command}` ({'quick' if quick else 'full'} run: {works}, {len(rows)} queries; {stamp}; "
                f"{os.cpu_count()} CPU cores shared with other jobs, so times are pessimistic)")  # fmt: skip
    match = np.asarray(suite.match_s) if suite.match_s else np.zeros(1)
    speed = [f"Registration: {suite.registration_frames} frames in {suite.registration_s:.1f} s = "
             f"{suite.registration_fps:.1f} frames/s (wall clock).",
             f"Match (fingerprint + production match, per query clip of <= 6 s): mean {match.mean():.2f} s, "
             f"p95 {np.percentile(match, 95):.2f} s (wall clock)."]  # fmt: skip
    if e2e:
        speed.append(
            f"60 s query end to end against the benchmark registry: {e2e['total_s']:.2f} s "
            f"(fingerprinting {e2e['extract_s']:.2f} s, {int(e2e['pdq_codes'])} PDQ codes incl. mirror)."
        )
    text = ["# Registry benchmark results", "", f"Generated by {run_line}.", "",
            "Methods: " + "; ".join(f"**{SHORT[m]}**: {METHODS[m]}" for m in METHODS) + ". ReelGuard, PDQ and pHash "
            "are decided by production's `MatchConfig` (min_frames 2, min_coverage 0.25); vPDQ by its own rule.", "",
            "## Totals", "", *totals_table(rows), ""]  # fmt: skip
    for split in SPLIT_TITLE:
        text += [f"## {SPLIT_TITLE[split]}", "", *split_tables(rows, split)]
    if scale:
        text += [
            "## Scale",
            "",
            "| index | fingerprints | build s | search s (codes) | memory MB |",
            "|---|---|---|---|---|",
        ]
        text += [f"| {s['kind']} | {s['n']:,} | {s['build_s']:.1f} | {s['search_s']:.2f} ({s['queries']}) | "
                 f"{s['memory_mb']:.0f} |" for s in scale] + [""]  # fmt: skip
    text += ["## Speed", "", *speed, ""]
    (out / "results.md").write_text("\n".join(text), encoding="utf-8")
    doc = {"command": command, "quick": quick, "works": suite.works, "methods": METHODS,
           "totals": {s: {m: asdict(cell([r for r in rows if r.split == s], m)) for m in METHODS}
                      for s in suite.works},
           "by_transform": {s: {t: {m: asdict(c) for m, c in res.items()}
                                for t, res in by_transform([r for r in rows if r.split == s]).items()}
                            for s in suite.works},
           "registration": {"frames": suite.registration_frames, "seconds": suite.registration_s},
           "match_seconds": {"mean": float(match.mean()), "p95": float(np.percentile(match, 95))},
           "e2e_60s": e2e, "scale": scale, "rows": [asdict(r) for r in rows]}  # fmt: skip
    (out / "results.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    plot_recall(out, rows)
    if scale:
        plot_scale(out, scale)
    summary = "\n".join([f"Last run: {run_line}; full tables in [registry/results.md](registry/results.md).", "",
                         *totals_table(rows)])  # fmt: skip
    if out.resolve() == (DOCS / "registry").resolve():  # a run to another folder leaves the docs alone
        replace_block(DOCS / "registry.md", "bench", summary)
    return summary


def plot_recall(out: Path, rows: list[QueryRow]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = [s for s in SPLIT_TITLE if any(r.split == s for r in rows)]
    fig, axes = plt.subplots(len(splits), 1, figsize=(13, 4.2 * len(splits)), squeeze=False)
    width = 0.8 / len(METHODS)
    for ax, split in zip(axes[:, 0], splits, strict=True):
        table = by_transform([r for r in rows if r.split == split])
        names = list(table)
        for i, m in enumerate(METHODS):
            offset = (i - (len(METHODS) - 1) / 2) * width
            ax.bar(np.arange(len(names)) + offset, [table[t][m].recall for t in names], width, label=SHORT[m])
        ax.set_xticks(np.arange(len(names)), names, rotation=35, ha="right")
        ax.set_ylabel("recall of the right work")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{SPLIT_TITLE[split]}: recall per method and transform (same run)")
        ax.legend(ncol=5, loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "recall.png", dpi=110)
    plt.close(fig)


def plot_scale(out: Path, scale: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind in ("mih", "flat"):
        pts = [(s["n"], s["search_s"]) for s in scale if s["kind"] == kind]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=f"{kind} ({scale[0]['queries']} query codes)")
    ax.axhline(2.0, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("fingerprints in the index")
    ax.set_ylabel("search seconds")
    ax.legend()
    ax.set_title("PDQ radius-31 search, 60 s query")
    fig.tight_layout()
    fig.savefig(out / "scale.png", dpi=110)
    plt.close(fig)
