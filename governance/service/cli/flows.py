"""Top-level commands: ``generate``, ``verify`` and ``demo`` (thin over governance.flows)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings
from governance.core.errors import ANY_ERROR, PolicyDenied, exit_code_for

__all__ = ["register", "parse_size"]

_VERDICT_STYLE = {
    "authentic": "bold green",
    "recovered": "bold cyan",
    "tampered": "bold red",
    "untrusted": "bold yellow",
    "unverifiable": "bold magenta",
    "unknown": "bold white",
}


def parse_size(value: str | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", value)
    if not match:
        raise typer.BadParameter(f"size must look like 512x512, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def generate_cmd(
    prompt: str = typer.Argument(..., help="What to generate."),
    output: Path = typer.Option(..., "-o", "--output", help="Output MP4 path."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same frames on one device)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model folder or hub id (default: embedded)."),
    frames: Optional[int] = typer.Option(None, "--frames", min=1, help="Number of frames."),
    size: Optional[str] = typer.Option(None, "--size", help="Delivery size WxH, e.g. 512x512."),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="eu | cn | us-ca (default from settings)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome (or the refusal) as JSON."),
    image: Optional[Path] = typer.Option(None, "--image", help="Reference image (PNG, JPEG, WebP) the clip starts "
                                         "from; checked (credentials, protected works, faces) and cited as a C2PA "
                                         "ingredient."),
    video: Optional[Path] = typer.Option(None, "--video", help="Reference clip (MP4, MOV) for video-to-video; "
                                         "checked and cited like --image. One reference per generation."),
    strength: Optional[float] = typer.Option(None, "--strength", help="How far the model may move away from the "
                                             "reference, in (0, 1] (default: the pipeline's)."),
) -> None:
    """Policy-gated, watermarked, C2PA-signed and audited generation."""
    from governance.flows import FlowContext, GenerateRequest, generate

    width, height = parse_size(size)
    ctx = FlowContext(load_settings())
    request = GenerateRequest(
        prompt=prompt,
        output=output,
        seed=seed,
        model=model,
        num_frames=frames,
        width=width,
        height=height,
        jurisdiction=jurisdiction,
        force=force,
        image=image,
        video=video,
        strength=strength,
    )
    from governance.flows.references import ReferenceUseRefused

    try:
        with _progress() as progress:
            stage_task = progress.add_task("policy", total=None)
            step_task = None

            def on_stage(name: str) -> None:
                progress.update(stage_task, description=name)

            def on_step(step: int, total: int) -> None:
                nonlocal step_task
                if step_task is None:
                    step_task = progress.add_task("denoising", total=total)
                progress.update(step_task, completed=step)

            outcome = generate(ctx, request, on_stage=on_stage, on_step=on_step)
    except PolicyDenied as denied:
        if as_json:
            emit_json({"status": "denied", "decision": denied.decision.to_dict()})
        else:
            err_console.print(f"[bold red]refused:[/] {denied.decision.reason}")
            err_console.print(
                f"  action={denied.decision.action.value} rule={denied.decision.rule_id} "
                f"category={denied.decision.category}"
            )
        raise typer.Exit(denied.exit_code) from None
    except ReferenceUseRefused as refused:
        if as_json:
            emit_json({"status": "refused", "reason": "reference-credentials", "reference": refused.reference.to_dict(),
                       "entries": refused.entries})
        else:
            err_console.print(f"[bold red]refused:[/] {escape(str(refused))}")
        raise typer.Exit(refused.exit_code) from None
    if as_json:
        emit_json({"status": "generated", **outcome.to_dict()})
        return
    table = Table(show_header=False, box=None)
    for key, value in (
        ("output", str(outcome.output)),
        ("content id", outcome.content_id),
        ("watermark", f"{outcome.watermark_scheme} payload {outcome.payload_hex}"),
        ("policy", f"{outcome.decision.action.value} (pack {outcome.decision.pack_digest[:12]})"),
        ("model", f"{outcome.model_record.model_id} seed {outcome.model_record.seed}"),
        ("manifest", f"{outcome.manifest_label} signed by {outcome.signer}"),
        ("audit leaf", str(outcome.audit_leaf_index)),
        ("labels", ", ".join(outcome.labels_applied) or "-"),
        *((f"reference {r['kind']}", f"{r['title']} sha256 {r['sha256'][:16]}… c2pa={r['c2pa']['state']}")
          for r in outcome.references),
    ):
        table.add_row(f"[bold]{key}", value)
    console.print(Panel(table, title="[green]generated", expand=False))


def _expand_inputs(clips: list[Path]) -> list[Path]:
    from detectors.provenance.formats import KNOWN_SUFFIXES

    expanded: list[Path] = []
    for clip in clips:
        if clip.is_dir():
            # a <stem>.c2pa beside its asset is that asset's sidecar, not a file of its own
            found = sorted(p for p in clip.rglob("*") if p.is_file() and p.suffix.lower() in KNOWN_SUFFIXES)
            stems = {p.with_suffix("") for p in found if p.suffix.lower() != ".c2pa"}
            expanded.extend(p for p in found if p.suffix.lower() != ".c2pa" or p.with_suffix("") not in stems)
        else:
            expanded.append(clip)
    return expanded


def _print_report(report: dict) -> None:
    """One verdict block from a ``VerifyReport.to_dict()`` (the form batch results come in)."""
    verdict = report["verdict"]
    style = _VERDICT_STYLE.get(verdict, "bold")
    c2pa = report["c2pa"]
    disclosure = report.get("disclosure") or {}
    lines = [f"[{style}]{verdict.upper()}[/]  {escape(report['path'])}"]
    if disclosure.get("label"):
        lines.append(f"  [bold]{escape(disclosure['label'])}[/]")
    lines += [f"  • {escape(reason)}" for reason in report["reasons"]]
    if report["flags"]:
        lines.append(f"  flags: {', '.join(report['flags'])}")
    if c2pa["state"] != "absent":
        who = ", ".join(x for x in (c2pa.get("issuer"), c2pa.get("signer")) if x) or "-"
        stamp = "time-stamped" + (" (trusted TSA)" if c2pa.get("timestamp_trusted") else "") if c2pa.get("time_stamped") else "no time-stamp"
        lines.append(f"  c2pa={c2pa['state']}  signer: {escape(who)}  signed {c2pa.get('signed_at') or '-'} ({stamp})")
        if c2pa.get("claim_generator"):
            lines.append(f"  claim generator: {escape(c2pa['claim_generator'])}")
        actions = [a["action"] + (f" ({a['digital_source_type'].rsplit('/', 1)[-1]})" if a.get("digital_source_type") else "")
                   for a in c2pa.get("actions") or ()]
        if actions:
            lines.append(f"  actions: {escape(', '.join(actions))}")
        for ing in c2pa.get("ingredients") or ():
            codes = f" {', '.join(ing['codes'])}" if ing.get("codes") else ""
            role = f" ({ing['relationship']})" if ing.get("relationship") else ""
            digest = f" sha256 {ing['sha256'][:16]}…" if ing.get("sha256") else ""
            state = escape("[" + str(ing["state"]) + "]")  # rich would read "[unsigned]" as markup
            lines.append(f"  ingredient: {escape(str(ing.get('title')))}{escape(role)} {state}{digest}{escape(codes)}")
        for ident in c2pa.get("cawg_identities") or ():
            lines.append(f"  identity: {escape(ident)}")
        if c2pa.get("codes"):
            lines.append(f"  codes: {', '.join(c2pa['codes'])}")
    wm = report.get("watermark")
    record = report["registry"]["record"]
    if wm is not None:
        lines.append(f"  watermark={'yes' if wm['detected'] else 'no'} (p={wm['p_value']:.2e}, frames={wm['frames_used']})"
                     + (f"  record={record['content_id']}" if record else ""))
    console.print("\n".join(lines), markup=True, highlight=False)


def _parse_fail_on(value: str | None) -> frozenset[str]:
    from governance.flows import VERDICTS

    if not value:
        return frozenset()
    chosen = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = chosen - set(VERDICTS)
    if unknown:
        raise typer.BadParameter(f"unknown verdict(s) {', '.join(sorted(unknown))}; choose from {', '.join(VERDICTS)}")
    return chosen


def _parse_only(value: str | None) -> frozenset[str]:
    from governance.flows.verify import STAGES

    if not value:
        return STAGES
    chosen = frozenset(v.strip() for v in value.split(",") if v.strip())
    if not chosen or chosen - STAGES:
        raise typer.BadParameter(f"--only takes a comma-separated subset of {', '.join(sorted(STAGES))}")
    return chosen | {"c2pa"}


FAIL_ON_EXIT = 9  # a verdict named by --fail-on (scripts and CI gates)


def verify_cmd(
    clips: list[Path] = typer.Argument(..., help="Files (video, image, audio, .c2pa) or folders of them."),
    as_json: bool = typer.Option(False, "--json", help="JSON: one object per file, an array for several."),
    only: Optional[str] = typer.Option(None, "--only", help="Stages to run: c2pa, watermark, registry (c2pa: no decoding)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="A .c2pa manifest store for the (single) file."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help=f"Exit {FAIL_ON_EXIT} when a verdict is one of these, e.g. tampered,unverifiable."),
    verbose: bool = typer.Option(False, "--verbose", help="With --json: the full evidence (bit confidences, assertion bodies, recovered manifest)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="N>1: N Celery worker processes on Redis."),
) -> None:
    """Read C2PA credentials, detect the watermark, look up the registry: one verdict per file."""
    from governance.flows import FlowContext, VerifyOptions, verify

    stages, failing = _parse_only(only), _parse_fail_on(fail_on)
    ctx = FlowContext(load_settings())
    paths = _expand_inputs(clips)
    if not paths:
        err_console.print("[bold red]error:[/] no files to verify")
        raise typer.Exit(2)
    if manifest is not None and len(paths) != 1:
        raise typer.BadParameter("--manifest applies to exactly one file")
    options = VerifyOptions(stages=stages, manifest=manifest)
    results: list[dict] = []
    if workers > 1:
        from governance.service.jobs.batch import verify_many

        if manifest is not None:
            raise typer.BadParameter("--manifest applies to one file; it does not combine with --workers")
        with _progress() as progress:
            task = progress.add_task("verifying", total=len(paths))
            results = verify_many(
                paths,
                workers=workers,
                settings=ctx.settings,
                on_progress=lambda done, _total: progress.update(task, completed=done),
                stages=sorted(stages),
            )
    else:
        with _progress() as progress:
            task = progress.add_task("verifying", total=len(paths))
            for path in paths:
                try:
                    results.append(verify(ctx, path, options=options).to_dict(verbose=verbose))
                except ANY_ERROR as exc:
                    if len(paths) == 1 and not as_json:
                        raise
                    results.append({"path": str(path), "error": str(exc), "exit_code": exit_code_for(exc)})
                progress.advance(task)
    worst = next((r["exit_code"] for r in results if "error" in r), 0)
    if as_json:
        emit_json(results[0] if len(results) == 1 else results)
    else:
        for result in results:
            if "error" in result:
                err_console.print(f"[bold red]error:[/] {escape(result['error'])}")
            else:
                _print_report(result)
    if worst:
        raise typer.Exit(worst)
    if failing and any(r.get("verdict") in failing for r in results):
        raise typer.Exit(FAIL_ON_EXIT)


DEMO_PROMPT = "a red circle moving right on a blue background"
DEMO_DENIED = "Mickey Mouse waving at the camera"


def demo_cmd(
    out_dir: Path = typer.Option(Path("demo-out"), "--out-dir", help="Where the demo writes its clips."),
) -> None:
    """The main job end to end: a gated, watermarked, signed generation, a refused prompt,
    and verification of the clip as published and as re-uploaded without its manifest."""
    import time

    from detectors.video_io import remux
    from governance.flows import FlowContext, GenerateRequest, generate, verify

    settings = load_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = FlowContext(settings)
    console.rule("[bold]ReelGuard demo")
    console.print(f"home: {settings.home}")

    console.print(f"\n[bold]1. generate[/] {DEMO_PROMPT!r}")
    started = time.perf_counter()
    with _progress() as progress:
        stage_task = progress.add_task("policy", total=None)
        steps: dict[str, int] = {}

        def on_step(step: int, total: int) -> None:
            if "task" not in steps:
                steps["task"] = progress.add_task("denoising", total=total)
            progress.update(steps["task"], completed=step)

        outcome = generate(
            ctx,
            GenerateRequest(prompt=DEMO_PROMPT, output=out_dir / "demo.mp4", seed=0, force=True, actor="demo"),
            on_stage=lambda name: progress.update(stage_task, description=name),
            on_step=on_step,
        )
    elapsed = time.perf_counter() - started
    record = outcome.model_record
    console.print(
        f"   wrote {outcome.output} ({record.num_frames} frames {record.width}x{record.height} @ {record.fps:g} fps)"
        f" in {elapsed:.1f} s; payload {outcome.payload_hex}; audit leaf {outcome.audit_leaf_index}"
    )
    console.print("   timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in outcome.timings_s.items()))

    # The reference path: a still (the clip's last frame, saved without credentials) conditions
    # a second clip; the still is checked first and cited in the manifest as an ingredient.
    console.print("\n[bold]1b. generate from a reference image[/] (the clip's last frame, strength 0.6)")
    import cv2

    from detectors.video_io import read_clip

    still = out_dir / "demo-reference.png"
    cv2.imwrite(str(still), cv2.cvtColor(read_clip(outcome.output)[-1], cv2.COLOR_RGB2BGR))
    from_ref = generate(ctx, GenerateRequest(prompt=DEMO_PROMPT, output=out_dir / "demo-i2v.mp4", seed=1, force=True,
                                             image=still, strength=0.6, actor="demo"))
    ref = from_ref.references[0]
    console.print(f"   wrote {from_ref.output}; ingredient {ref['title']} (inputTo) sha256 {ref['sha256'][:16]}…, "
                  f"its credentials: {ref['c2pa']['state']}")

    console.print(f"\n[bold]2. refuse[/] {DEMO_DENIED!r}")
    try:
        generate(ctx, GenerateRequest(prompt=DEMO_DENIED, output=out_dir / "denied.mp4", force=True, actor="demo"))
    except PolicyDenied as denied:
        d = denied.decision
        console.print(f"   [red]{d.action.value}[/] rule {d.rule_id} ({d.category}): {d.reason}")
    else:  # pragma: no cover - the bundled packs deny this prompt
        raise typer.Exit(1)

    console.print("\n[bold]3. verify[/] the published clip")
    _print_report(verify(ctx, outcome.output, actor="demo").to_dict())

    console.print("\n[bold]4. verify[/] a re-upload that stripped the manifest (remux)")
    stripped = remux(outcome.output, out_dir / "demo-reupload.mp4")
    _print_report(verify(ctx, stripped, actor="demo").to_dict())
    console.rule()


def register(app: typer.Typer) -> None:
    app.command("generate")(handle_errors(generate_cmd))
    app.command("verify")(handle_errors(verify_cmd))
    app.command("demo")(handle_errors(demo_cmd))
