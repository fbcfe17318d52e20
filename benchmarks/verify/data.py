"""The files the verification benchmark reads: the real samples, and signed videos and JPEGs of
chosen sizes generated into a temporary folder (deleted by the caller)."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
SAMPLES = Path(os.environ.get("REELGUARD_C2PA_SAMPLES", ROOT.parent / "shared" / "c2pa" / "samples"))
MB = 1024 * 1024  # as in bench_c2pa: "MB" is 2**20 bytes throughout
PAYLOAD = bytes.fromhex("00112233aabbccdd")  # the payload of tests/c2pa_ts/support.make_spec()
SEED_FRAMES, SEED_FPS, SEED_SIZE = 240, 24, (360, 640)  # 10 s of 640x360: the flow's 240-frame cap
# Labels of the sample groups, by suffix (the samples' suffixes agree with their contents).
TYPES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP", ".mp4": "MP4", ".mov": "MOV",
         ".wav": "WAV", ".m4a": "M4A", ".avi": "AVI", ".c2pa": "C2PA store"}


@dataclass
class BenchFile:
    path: Path
    kind: str  # "sample", "video" (generated MP4) or "jpeg" (generated)
    type: str  # JPEG, MP4, ... (the sample groups)
    mime: str  # what the bare Reader is told (sniffed once, outside the timing)
    bytes: int
    label: str  # short name for tables
    watermarked: bool = False

    @property
    def is_video(self) -> bool:
        return self.type in ("MP4", "MOV", "AVI")


def _import_support() -> Any:
    """tests/c2pa_ts/support.py (make_clip, make_spec), imported by path."""
    sys.path.insert(0, str(ROOT / "tests" / "c2pa_ts"))
    try:
        import support
    finally:
        sys.path.remove(str(ROOT / "tests" / "c2pa_ts"))
    return support


def _mime(path: Path) -> str:
    from detectors.provenance import sniff_format

    fmt = sniff_format(path)
    if fmt is None:
        raise SystemExit(f"{path}: not a format the benchmark knows")
    return fmt.mime


def samples(folder: Path = SAMPLES) -> list[BenchFile]:
    if not folder.is_dir():
        raise SystemExit(f"no C2PA samples at {folder} (set REELGUARD_C2PA_SAMPLES)")
    out = []
    for path in sorted(folder.iterdir()):
        kind = TYPES.get(path.suffix.lower())
        if kind is None or not path.is_file():
            continue
        out.append(BenchFile(path, "sample", kind, _mime(path), path.stat().st_size, path.name))
    return out


def _seed_frames(height: int, width: int, count: int) -> Any:
    """Smooth moving gradients and a moving square: compresses like camera footage, unlike noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    for i in range(count):
        frame = np.stack([(x + 3 * i) % 256, (y + 2 * i) % 256, ((x + y) / 2 + 5 * i) % 256], -1).astype(np.uint8)
        cx = int(width / 2 + width / 3 * np.sin(i / 20))
        cy = int(height / 2 + height / 3 * np.cos(i / 25))
        frame[max(0, cy - 24) : cy + 24, max(0, cx - 24) : cx + 24] = 255
        yield frame


def seed_clip(ctx: Any, folder: Path, *, watermarked: bool) -> Path:
    """A 10 s H.264 clip (240 frames at 640x360), optionally carrying ReelGuard's watermark with
    the payload the manifest declares (what ReelGuard's own output looks like)."""
    from detectors.video_io import write_video

    frames = _seed_frames(*SEED_SIZE, SEED_FRAMES)
    if watermarked:
        frames = ctx.watermark.embed(frames, payload=PAYLOAD, key=ctx.watermark_key)
    name = "seed-marked.mp4" if watermarked else "seed-plain.mp4"
    return write_video(folder / name, frames, fps=SEED_FPS, crf=23, preset="veryfast")


def signed_videos(identity: Any, folder: Path, sizes_mb: list[int], seed: Path, *, watermarked: bool,
                  tag: str = "") -> list[BenchFile]:
    """``seed`` grown to each size (``bench_c2pa._grown_mp4``: random bytes appended to its
    ``mdat``, so c2pa-rs hashes every byte) and signed by ``sign_video`` with ``identity`` (the
    issuing install's) and ``make_spec()``'s manifest."""
    from bench_c2pa import _grown_mp4  # benchmarks/bench_c2pa.py: how the benchmarks make big MP4s

    from governance.provenance.signing import sign_video

    spec = _import_support().make_spec(title="bench.mp4")
    out = []
    for size in sizes_mb:
        grown = _grown_mp4(seed, folder / f"grown-{size}{tag}.mp4", size * MB)
        dst = folder / f"signed-{size}mb{tag}.mp4"
        sign_video(grown, dst, spec=spec, identity=identity)
        grown.unlink()
        label = f"MP4 {size} MB" + (" (watermarked)" if watermarked and tag else "")
        out.append(BenchFile(dst, "video", "MP4", _mime(dst), dst.stat().st_size, label, watermarked))
    return out


def _noise_jpeg(width: int, height: int, quality: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(width * 7919 + height)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def jpeg_of_size(target: int, quality: int = 90) -> bytes:
    """A noise JPEG of about ``target`` bytes (within ~5%), 3:2 like a camera frame (noise:
    nothing compresses away, so the size is all entropy-coded pixels)."""
    pixels, data = 300 * 200, _noise_jpeg(300, 200, quality)
    for _ in range(3):
        pixels = pixels * target / len(data)
        width = max(16, int((pixels * 1.5) ** 0.5) // 16 * 16)
        height = max(16, int(width / 1.5) // 16 * 16)
        pixels, data = width * height, _noise_jpeg(width, height, quality)
        if abs(len(data) - target) <= 0.05 * target:
            break
    return data


def signed_jpegs(identity: Any, folder: Path, sizes_mb: list[int]) -> list[BenchFile]:
    """Noise JPEGs of about each size, signed by c2pa-python's ``Builder`` with ``identity``'s
    signer (the issuing install's) and the same ReelGuard manifest definition as the videos."""
    import c2pa

    from governance.provenance.signing import build_definition

    definition = build_definition(_import_support().make_spec(title="bench.jpg"), fmt="image/jpeg")
    offline = c2pa.Context.from_dict({"core": {"allowed_network_hosts": []}, "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False,
                                                 "verify_after_sign": False}})
    out = []
    try:
        for size in sizes_mb:
            data = jpeg_of_size(size * MB)
            dst = folder / f"signed-{size}mb.jpg"
            signer = identity.c2pa_signer()
            try:
                with c2pa.Builder(definition, context=offline) as builder, open(dst, "wb") as target:
                    builder.sign(signer, "image/jpeg", io.BytesIO(data), target)
            finally:
                signer.close()
            out.append(BenchFile(dst, "jpeg", "JPEG", _mime(dst), dst.stat().st_size, f"JPEG {size} MB"))
    finally:
        offline.close()
    return out


def warm(files: list[BenchFile]) -> None:
    """Read every file once, so every engine finds it in the page cache."""
    for f in files:
        with open(f.path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
