"""Markdown tables and the plot of the recovery benchmark."""

from __future__ import annotations

import re
from pathlib import Path

LAYERS = ("watermark", "fingerprint", "both")
SUMMARY_START, SUMMARY_END = "<!-- recovery-summary:start -->", "<!-- recovery-summary:end -->"


def per_attack(rows: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for row in rows:
        entry = out.setdefault(
            row["attack"],
            {
                "attack": row["attack"],
                "new": row["new"],
                "n": 0,
                **{f"{k}_ok": 0 for k in LAYERS},
                **{f"{k}_wrong": 0 for k in LAYERS},
            },
        )
        entry["n"] += 1
        for layer in LAYERS:
            got = row[layer]
            entry[f"{layer}_ok"] += got == row["clip"]
            entry[f"{layer}_wrong"] += got is not None and got != row["clip"]
    return list(out.values())


def _table(entries: list[dict]) -> list[str]:
    lines = [
        "| attack | clips | watermark | fingerprint | both (verify's order) | wrong record |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        name = e["attack"] + (" *(new)*" if e["new"] else "")
        wrong = sum(e[f"{k}_wrong"] for k in LAYERS)
        lines.append(
            f"| {name} | {e['n']} | {e['watermark_ok']}/{e['n']} | {e['fingerprint_ok']}/{e['n']} | "
            f"{e['both_ok']}/{e['n']} | {wrong} |"
        )
    return lines


def summary(results: dict) -> str:
    entries = per_attack(results["rows"])
    n = sum(e["n"] for e in entries)
    both = sum(e["both_ok"] for e in entries)
    every = sum(e["both_ok"] == e["n"] for e in entries)
    false_neg = sum(1 for r in results["negatives"] if r["both"] is not None)
    wrong = sum(e["both_wrong"] for e in entries)
    speed = results["speed"]
    lines = [
        f"- {both}/{n} attacked clips of ours recovered through at least one layer "
        f"({every}/{len(entries)} attacks recover every clip); wrong records: {wrong}; "
        f"false recoveries on unrelated clips: {false_neg}/{len(results['negatives'])}.",
        f"- watermark detection end to end at 720p (H.264 decode, residuals, search, readout): "
        f"{speed['end_to_end_marked_fps']:.0f} frames per CPU-second on a marked clip, "
        f"{speed['end_to_end_unmarked_fps']:.0f} on an unmarked one (full search); per-frame core "
        f"(residual only) {speed['core_residual_fps']:.0f} fps.",
    ]
    scale = results.get("scale")
    if scale and "queries" in scale:
        lines.append(scale_summary(scale))
    elif scale:
        m = scale["median"]
        lines.append(
            f"- 1M generated clips ({scale['rows']:,} PDQ rows): one 10 s 720p query in "
            f"{m['total_wall_s']:.2f} s wall end to end ({m['fingerprint_wall_s']:.2f} s decoding and "
            f"fingerprinting the query, {m['search_wall_s']:.2f} s search and decision); true source found: "
            f"{scale['found_true_source']}."
        )
    load = results["setup"]
    lines.append(
        f"- machine: {load['cpu']}; load average {load['load_before'][0]:.1f} before, "
        f"{load['load_after'][0]:.1f} after (speeds under load are pessimistic)."
    )
    return "\n".join(lines)


def scale_summary(scale: dict) -> str:
    q = scale["queries"]
    m, mir, un, before = (
        q["match"]["median"],
        q["mirrored"]["median"],
        q["unrelated"]["median"],
        scale["before"]["median"],
    )
    names = {"match": "the copy", "mirrored": "the mirror image", "unrelated": "the unrelated footage"}

    def goal(key: str) -> str:
        met = [names[n] for n in names if q[n]["median"][key] < 1.0]
        missed = [names[n] for n in names if q[n]["median"][key] >= 1.0]
        if not missed:
            return "met for all three"
        return f"met for {', '.join(met) or 'none'}, not for {', '.join(missed)}"

    wall_goal, cpu_goal = goal("total_wall_s"), goal("total_cpu_s")
    return (
        f"- 1M generated clips ({scale['rows']:,} PDQ rows; {scale['index_mb']:.0f} MB of index arrays, "
        f"+{scale['memory_mb']:.0f} MB resident, built in {scale['build_s']:.0f} s), one 10 s 720p query end to "
        f"end, median of {len(q['match']['runs'])} (wall / CPU): a copy of one of our clips "
        f"{m['total_wall_s']:.2f} s end to end / {m['total_cpu_s']:.2f} s (decoding and fingerprinting "
        f"{m['fingerprint_wall_s']:.2f} / {m['fingerprint_cpu_s']:.2f} s, search and decision "
        f"{m['search_wall_s']:.2f} / {m['search_cpu_s']:.2f} s); its mirror image {mir['total_wall_s']:.2f} / "
        f"{mir['total_cpu_s']:.2f} s; unrelated footage, which pays every stage including keyframes, "
        f"{un['total_wall_s']:.2f} / {un['total_cpu_s']:.2f} s. Goal (under 1 s): in wall time {wall_goal}; in CPU "
        f"time {cpu_goal}; load average {scale['load_before'][0]:.1f} before and {scale['load_after'][0]:.1f} after. "
        f"The one-pass read of before (every frame decoded, ORB at once, all PDQ codes in one search; "
        f"today's index code), same run: {before['total_wall_s']:.2f} / "
        f"{before['total_cpu_s']:.2f} s. True source found: {scale['found_true_source']}; unrelated query "
        f"matched nothing: {q['unrelated']['correct']}."
    )


def _scale_table(scale: dict) -> list[str]:
    text = [
        "",
        "## 1M generated clips",
        "",
        f"{scale['rows_per_clip']} PDQ rows per clip, {scale['rows']:,} rows; index built in {scale['build_s']:.0f} s, "
        f"{scale['index_mb']:.0f} MB of index arrays, +{scale['memory_mb']:.0f} MB resident. Queries: {scale['query']}. "
        "Each is looked up as `verify` does with no protected work registered (reference frames decoded, PDQ "
        "first, the staged search, keyframes only if PDQ decides nothing); keyframe time counts as "
        "fingerprinting. The ORB index holds the true source only (at 1M clips it is not measured).",
        "",
    ]
    for name, q in scale["queries"].items():
        text += [f"- **{name}**: {q['description']}; correct in every run: {q['correct']}"]
    text += [
        "",
        "| query | run | stage | PDQ rows | fingerprint wall s | fingerprint CPU s | search wall s | search CPU s "
        "| total wall s | total CPU s | found |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, q in scale["queries"].items():
        for i, r in enumerate(q["runs"]):
            text.append(
                f"| {name} | {i + 1} | {r['stage']} | {r['pdq_rows']} | {r['fingerprint_wall_s']:.3f} | "
                f"{r['fingerprint_cpu_s']:.3f} | {r['search_wall_s']:.3f} | {r['search_cpu_s']:.3f} | "
                f"{r['total_wall_s']:.3f} | {r['total_cpu_s']:.3f} | {r['found'] or '-'} |"
            )
    for i, r in enumerate(scale["before"]["runs"]):
        text.append(
            f"| match, one-pass read of before (every frame decoded, ORB at once, all PDQ codes in one search; "
            f"today's index code) | {i + 1} | - | - | "
            f"{r['fingerprint_wall_s']:.3f} | {r['fingerprint_cpu_s']:.3f} | {r['search_wall_s']:.3f} | "
            f"{r['search_cpu_s']:.3f} | {r['total_wall_s']:.3f} | {r['total_cpu_s']:.3f} | {r['found'] or '-'} |"
        )
    return text


def write(out: Path, results: dict) -> str:
    entries = per_attack(results["rows"])
    text = [
        "# Recovery benchmark results",
        "",
        "Generated by `benchmarks/bench_recovery.py`"
        + (" --quick" if results["setup"]["quick"] else "")
        + "; see ../recovery.md for the method.",
        "",
        "## Summary",
        "",
        summary(results),
        "",
        "## Clips of ours, per attack",
        "",
        *_table(entries),
        "",
        "## Unrelated clips (never registered, never marked with the key)",
        "",
        "| clip | attack | watermark | fingerprint |",
        "|---|---|---|---|",
    ]
    for r in results["negatives"]:
        text.append(f"| {r['clip']} | {r['attack']} | {r['watermark'] or '-'} | {r['fingerprint'] or '-'} |")
    speed = results["speed"]
    text += ["", "## Watermark detection speed (CPU seconds, all threads)", "", "| measure | value |", "|---|---|"]
    text += [f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in speed.items()]
    scale = results.get("scale")
    if scale:
        text += _scale_table(scale)
    for n, old in enumerate(results.get("earlier_runs", []), 1):
        m, sp = old["scale"]["median"] if old.get("scale") else None, old["speed"]
        text += [
            "",
            f"Earlier run {n} (load average {old['load'][0][0]:.1f} before, {old['load'][1][0]:.1f} after): "
            f"detect end to end {sp['end_to_end_marked_fps']:.0f} / {sp['end_to_end_unmarked_fps']:.0f} frames "
            f"per CPU-second (marked / unmarked), core {sp['core_residual_fps']:.0f} fps"
            + (
                f"; 1M clips: {m['total_wall_s']:.2f} s end to end ({m['fingerprint_wall_s']:.2f} s "
                f"fingerprinting, {m['search_wall_s']:.2f} s search)"
                if m
                else ""
            )
            + ".",
        ]
    text += [
        "",
        "## Per clip and attack",
        "",
        "Content PSNR: the attacked clip against the original (new attacks only): how much of the clip is left.",
        "",
        "| clip | attack | content PSNR dB | watermark | z | fingerprint | score | kind |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        psnr = r.get("psnr")
        text.append(
            f"| {r['clip']} | {r['attack']} | {psnr if psnr is not None else '-'} | {r['watermark'] or '-'} | "
            f"{r['z']} | {r['fingerprint'] or '-'} | {r['fp_score'] if r['fp_score'] is not None else '-'} | "
            f"{r['fp_kind'] or '-'} |"
        )
    (out / "results.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    plot(out / "recovery.png", entries)
    brief = summary(results)
    doc = out.parent / "recovery.md"
    if doc.exists():
        body = doc.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(SUMMARY_START) + ".*?" + re.escape(SUMMARY_END), re.S)
        doc.write_text(pattern.sub(lambda _m: f"{SUMMARY_START}\n{brief}\n{SUMMARY_END}", body), encoding="utf-8")
    return brief


def plot(path: Path, entries: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [e["attack"] for e in entries]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(names) + 1.5))
    for offset, layer in zip((-0.27, 0.0, 0.27), LAYERS, strict=True):
        ax.barh(y + offset, [e[f"{layer}_ok"] / e["n"] for e in entries], height=0.26, label=layer)
    ax.set_yticks(y, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of our clips whose record is recovered")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
