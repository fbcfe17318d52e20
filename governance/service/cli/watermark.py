"""``reelguard watermark``: embed the invisible mark into a video, or look for it in one."""

from __future__ import annotations

import math
import secrets
from pathlib import Path

import numpy as np
import typer

from detectors.video_io import VideoWriter, probe, read_coded_frames, read_frames
from detectors.video_mux import CrfChoice, choose_crf, mux_streams, video_bitrate
from detectors.watermark import DEFAULT_SCHEME, get_scheme
from governance.core.errors import OutputExistsError
from governance.core.secrets import watermark_key
from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["app"]

CRF_SAMPLE = 24  # marked frames the automatic CRF is measured on (1 s at 24 fps; 150 MB at 1080p)

app = typer.Typer(help="Embed or detect ReelGuard's invisible video watermark.", no_args_is_help=True)


def _parse_payload(text: str | None, size: int) -> bytes:
    if text is None:
        return secrets.token_bytes(size)
    cleaned = text.strip().lower().removeprefix("0x")
    try:
        payload = bytes.fromhex(cleaned)
    except ValueError:
        raise typer.BadParameter(f"not hexadecimal: {text!r}", param_hint="--payload") from None
    if len(payload) != size:
        raise typer.BadParameter(f"needs exactly {2 * size} hex digits, got {len(cleaned)}", param_hint="--payload")
    return payload


@app.command()
@handle_errors
def embed(
    input: Path = typer.Argument(..., help="video to mark (any format PyAV reads)"),
    output: Path = typer.Argument(..., help="marked H.264 MP4 to write"),
    payload: str | None = typer.Option(None, "--payload", help="64-bit payload as 16 hex digits (default: random)"),
    strength: float | None = typer.Option(
        None, "--strength", help="RMS luma change in 8-bit levels (default 1.4, about 45 dB)"
    ),
    force: bool = typer.Option(False, "--force", help="overwrite OUTPUT if it exists"),
    crf: int | None = typer.Option(
        None,
        "--crf",
        min=0,
        max=51,
        help="H.264 quality of the output (default: the lowest CRF that stays within the source's video bitrate)",
    ),
    scheme_name: str = typer.Option(DEFAULT_SCHEME, "--scheme", help="watermark scheme"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Stream INPUT frame by frame through the embedder into OUTPUT (written atomically); audio,
    subtitles and metadata are copied untouched."""
    if output.exists() and not force:
        raise OutputExistsError(f"{output} exists; pass --force to overwrite it")
    scheme = get_scheme(scheme_name)
    data = _parse_payload(payload, scheme.payload_bits // 8)
    info = probe(input)
    key = watermark_key(load_settings())
    squared_error, samples = 0.0, 0
    originals: list[np.ndarray] = []

    def remember(frames):
        for frame in frames:
            originals.append(frame)  # holds one frame: the writer consumes it right away
            yield frame

    marked_frames = scheme.embed(remember(read_frames(input)), payload=data, key=key, strength=strength)
    # The CRF is chosen on the first marked frames (held in memory, at most CRF_SAMPLE of them).
    head: list[np.ndarray] = []
    for marked in marked_frames:
        original = originals.pop()
        diff = marked.astype(np.int32) - original
        squared_error += float(np.einsum("ijk,ijk->", diff, diff))
        samples += diff.size
        head.append(marked)
        if len(head) >= CRF_SAMPLE:
            break
    source_bps = video_bitrate(input)
    choice = (
        choose_crf(head, fps=info.fps, target_bps=source_bps, frames=info.frame_count)
        if crf is None
        else CrfChoice(crf, source_bps, None)
    )
    video_only = output.with_name(f".{output.stem}.video{output.suffix or '.mp4'}")
    try:
        with VideoWriter(video_only, fps=info.fps, crf=choice.crf) as writer:
            for marked in head:
                writer.write(marked)
            head.clear()
            for marked in marked_frames:
                original = originals.pop()
                diff = marked.astype(np.int32) - original
                squared_error += float(np.einsum("ijk,ijk->", diff, diff))
                samples += diff.size
                writer.write(marked)
        muxed = mux_streams(video_only, input, output)
        out_bps = video_bitrate(output)
    finally:
        video_only.unlink(missing_ok=True)
    mse = squared_error / max(samples, 1)
    psnr = math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)
    result = {
        "output": str(output),
        "scheme": scheme.name,
        "payload": data.hex(),
        "frames": writer.frames_written,
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "psnr_db": round(psnr, 2) if math.isfinite(psnr) else None,
        "crf": choice.crf,
        "crf_chosen": crf is None,
        "source_video_bps": round(source_bps) if source_bps else None,
        "output_video_bps": round(out_bps) if out_bps else None,
        "size_ratio": round(output.stat().st_size / max(input.stat().st_size, 1), 3),
        "streams_kept": list(muxed.kept),
        "streams_dropped": list(muxed.dropped),
    }
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"marked {result['frames']} frames of {input} -> {output} "
            f"(scheme {scheme.name}, payload {result['payload']}, PSNR {result['psnr_db']} dB, CRF {choice.crf}, "
            f"size x{result['size_ratio']}, kept {', '.join(muxed.kept) or 'no other streams'})"
        )
        for why in muxed.dropped:
            console.print(f"[yellow]dropped[/] {why}")


@app.command()
@handle_errors
def detect(
    clip: Path = typer.Argument(..., help="video (or image) to examine"),
    as_json: bool = typer.Option(False, "--json", help="print the detection as JSON"),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="read at most this many frames"),
    scheme_name: str = typer.Option(DEFAULT_SCHEME, "--scheme", help="watermark scheme"),
) -> None:
    """Look for the mark under this home's watermark key; reports p-value and payload."""
    scheme = get_scheme(scheme_name)
    key = watermark_key(load_settings())
    detection = scheme.detect(read_coded_frames(clip), key=key, max_frames=max_frames)
    if as_json:
        emit_json(detection)
        return
    if detection.detected:
        payload = detection.payload.hex() if detection.payload is not None else "unreadable"
        console.print(
            f"[green]watermark found[/] ({detection.scheme}): payload {payload}, "
            f"p-value {detection.p_value:.3g}, {detection.frames_used} frames"
        )
    else:
        console.print(
            f"no {detection.scheme} watermark found (p-value {detection.p_value:.3g}, {detection.frames_used} frames)"
        )
