"""``reelguard demo``: the main job end to end (generate, refuse, verify) on the embedded model."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import TaskID

from governance.core.errors import PolicyDenied
from governance.service.cli.common import console, handle_errors, load_settings
from governance.service.cli.render import print_report, progress_bar

__all__ = ["register"]

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
    with progress_bar() as progress:
        stage_task = progress.add_task("policy", total=None)
        steps: dict[str, TaskID] = {}

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
    from_ref = generate(
        ctx,
        GenerateRequest(
            prompt=DEMO_PROMPT,
            output=out_dir / "demo-i2v.mp4",
            seed=1,
            force=True,
            image=still,
            strength=0.6,
            actor="demo",
        ),
    )
    ref = from_ref.references[0]
    console.print(
        f"   wrote {from_ref.output}; ingredient {ref['title']} (inputTo) sha256 {ref['sha256'][:16]}…, "
        f"its credentials: {ref['c2pa']['state']}"
    )

    console.print(f"\n[bold]2. refuse[/] {DEMO_DENIED!r}")
    try:
        generate(ctx, GenerateRequest(prompt=DEMO_DENIED, output=out_dir / "denied.mp4", force=True, actor="demo"))
    except PolicyDenied as denied:
        d = denied.decision
        console.print(f"   [red]{d.action.value}[/] rule {d.rule_id} ({d.category}): {d.reason}")
    else:  # pragma: no cover - the bundled packs deny this prompt
        raise typer.Exit(1)

    console.print("\n[bold]3. verify[/] the published clip")
    print_report(verify(ctx, outcome.output, actor="demo").to_dict())

    console.print("\n[bold]4. verify[/] a re-upload that stripped the manifest (remux)")
    stripped = remux(outcome.output, out_dir / "demo-reupload.mp4")
    print_report(verify(ctx, stripped, actor="demo").to_dict())
    console.rule()


def register(app: typer.Typer) -> None:
    app.command("demo")(handle_errors(demo_cmd))
