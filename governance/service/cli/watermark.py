"""``reelguard watermark``: embed the invisible mark into a video, or look for it in one."""

from __future__ import annotations

import math
import secrets
from pathlib import Path

import numpy as np
import typer

from detectors.video_io import VideoWriter, probe, read_coded_frames, read_frames
from detectors.watermark import DEFAULT_SCHEME, get_scheme
from governance.service.cli.common import console, emit_json, handle_errors, load_settings
from governance.core.errors import OutputExistsError
from governance.core.secrets import watermark_key

__all__ = ["app"]

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
    crf: int = typer.Option(18, "--crf", min=0, max=51, help="H.264 quality of the output"),
    scheme_name: str = typer.Option(DEFAULT_SCHEME, "--scheme", help="watermark scheme"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Stream INPUT frame by frame through the embedder into OUTPUT (written atomically)."""
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

    with VideoWriter(output, fps=info.fps, crf=crf) as writer:
        for marked in scheme.embed(remember(read_frames(input)), payload=data, key=key, strength=strength):
            original = originals.pop()
            diff = marked.astype(np.int32) - original
            squared_error += float(np.einsum("ijk,ijk->", diff, diff))
            samples += diff.size
            writer.write(marked)
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
    }
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"marked {result['frames']} frames of {input} -> {output} "
            f"(scheme {scheme.name}, payload {result['payload']}, PSNR {result['psnr_db']} dB)"
        )


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
