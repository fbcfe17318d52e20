"""Top-level commands: ``generate`` and ``verify`` (thin over governance.flows; ``demo`` is in demo.py)."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from governance.core.errors import ANY_ERROR, PolicyDenied, exit_code_for
from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings
from governance.service.cli.render import print_report, progress_bar

__all__ = ["register", "parse_size"]


def parse_size(value: str | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", value)
    if not match:
        raise typer.BadParameter(f"size must look like 512x512, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def generate_cmd(
    prompt: str = typer.Argument(..., help="What to generate."),
    output: Path = typer.Option(..., "-o", "--output", help="Output MP4 path."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same frames on one device)."),
    model: str | None = typer.Option(None, "--model", help="Model folder or hub id (default: embedded)."),
    frames: int | None = typer.Option(None, "--frames", min=1, help="Number of frames."),
    size: str | None = typer.Option(None, "--size", help="Delivery size WxH, e.g. 512x512."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="eu | cn | us-ca (default from settings)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome (or the refusal) as JSON."),
    image: Path | None = typer.Option(
        None,
        "--image",
        help="Reference image (PNG, JPEG, WebP) the clip starts "
        "from; checked (credentials, protected works, faces) and cited as a C2PA "
        "ingredient.",
    ),
    video: Path | None = typer.Option(
        None,
        "--video",
        help="Reference clip (MP4, MOV) for video-to-video; "
        "checked and cited like --image. One reference per generation.",
    ),
    strength: float | None = typer.Option(
        None,
        "--strength",
        help="How far the model may move away from the reference, in (0, 1] (default: the pipeline's).",
    ),
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
        with progress_bar() as progress:
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
            emit_json(
                {
                    "status": "refused",
                    "reason": "reference-credentials",
                    "reference": refused.reference.to_dict(),
                    "entries": refused.entries,
                }
            )
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
        *(
            (f"reference {r['kind']}", f"{r['title']} sha256 {r['sha256'][:16]}… c2pa={r['c2pa']['state']}")
            for r in outcome.references
        ),
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
    only: str | None = typer.Option(
        None, "--only", help="Stages to run: c2pa, watermark, registry (c2pa: no decoding)."
    ),
    manifest: Path | None = typer.Option(None, "--manifest", help="A .c2pa manifest store for the (single) file."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help=f"Exit {FAIL_ON_EXIT} when a verdict is one of these, e.g. tampered,unverifiable."
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        help="With --json: the full evidence (bit confidences, assertion bodies, recovered manifest).",
    ),
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
        with progress_bar() as progress:
            task = progress.add_task("verifying", total=len(paths))
            results = verify_many(
                paths,
                workers=workers,
                settings=ctx.settings,
                on_progress=lambda done, _total: progress.update(task, completed=done),
                stages=sorted(stages),
            )
    else:
        with progress_bar() as progress:
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
                print_report(result)
    if worst:
        raise typer.Exit(worst)
    if failing and any(r.get("verdict") in failing for r in results):
        raise typer.Exit(FAIL_ON_EXIT)


def register(app: typer.Typer) -> None:
    app.command("generate")(handle_errors(generate_cmd))
    app.command("verify")(handle_errors(verify_cmd))
