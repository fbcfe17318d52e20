"""From media files to the fingerprints the registry stores or searches (no database here).

``media_files`` expands the paths given to ``registry add``;
``fingerprint_file`` reads every frame the sampler keeps, for registration and for the
protected-material check; ``fingerprint_query_pdq_first`` is the cheaper read for a lookup among
our own outputs alone (reference frames decoded, keyframes computed only if PDQ decides nothing);
``query_config`` thins long queries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from detectors.fingerprints.extract import (
    QUERY,
    ClipFingerprints,
    ExtractConfig,
    PendingKeyframes,
    extract,
    extract_pdq_first,
)
from detectors.fingerprints.sampling import read_sampled
from detectors.video_io import is_image_path, probe, read_frames, read_image

__all__ = [
    "Skipped",
    "media_files",
    "content_sha256",
    "fingerprint_file",
    "fingerprint_query_pdq_first",
    "query_config",
    "QUERY_PDQ_FRAMES",
]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def media_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Skipped]]:
    """Expand folders recursively (sorted, hidden files skipped); missing paths are skipped."""
    files, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(Skipped(str(path), "no such file or folder"))
    return files, skipped


def content_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (the identity of a registered asset)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_file(
    path: Path, config: ExtractConfig, *, max_pixels: int, frame_limit: int | None = None
) -> tuple[ClipFingerprints, str]:
    """Fingerprints of one media file and its kind ("image" | "video"); MediaError if unreadable.

    Declared sizes (pixels per frame, frames per clip) are checked from headers before any
    decode (``detectors.media_limits``); decoder failures arrive here as MediaError."""
    if is_image_path(path):
        return extract([read_image(path, max_pixels=max_pixels)], fps=1.0, config=config), "image"
    info = probe(path, max_pixels=max_pixels, frame_limit=frame_limit)
    # Let the decoder skip RGB conversion of frames the sampler would drop anyway.
    step = _step(info.fps, config)
    clip = extract(
        read_frames(path, max_pixels=max_pixels, step=step, frame_limit=frame_limit), fps=info.fps / step, config=config
    )
    factor = _rate_factor(info.duration_s, clip)
    return (clip.scaled_times(factor) if factor != 1.0 else clip), "video"


def fingerprint_query_pdq_first(
    path: Path, config: ExtractConfig, *, max_pixels: int, frame_limit: int | None = None
) -> PendingKeyframes:
    """A query's fingerprints for a lookup that PDQ usually decides (our own outputs): only
    reference frames are decoded (``read_sampled``) and keyframes are computed if asked for."""
    if is_image_path(path):
        return extract_pdq_first([read_image(path, max_pixels=max_pixels)], fps=1.0, config=config)
    info = probe(path, max_pixels=max_pixels, frame_limit=frame_limit)
    step = _step(info.fps, config)
    pending = extract_pdq_first(
        read_sampled(path, step=step, max_pixels=max_pixels, frame_limit=frame_limit),
        fps=info.fps / step,
        config=config,
    )
    factor = _rate_factor(info.duration_s, pending.pdq_only)
    if factor != 1.0:
        pending.scale_times(factor)
    return pending


def _step(fps: float, config: ExtractConfig) -> int:
    return max(1, int(fps / config.sample_fps)) if fps > 0 else 1


def _rate_factor(duration_s: float | None, clip: ClipFingerprints) -> float:
    """Some containers (AVI) report a nominal rate the decoder does not deliver; trust the duration."""
    if duration_s and clip.frames_seen > 1:
        factor = duration_s / (clip.frames_seen / clip.fps)
        if abs(factor - 1.0) > 0.1:
            return factor
    return 1.0


QUERY_PDQ_FRAMES = 120  # sampled query frames a long clip is thinned to (search cost is linear in it)


def query_config(duration: float, config: ExtractConfig = QUERY) -> ExtractConfig:
    """Sampling for a query of ``duration`` s: long clips are sampled more sparsely (down to
    1 frame/s) and the capped ORB keyframes are spread over the whole clip."""
    if duration <= 0:
        return config
    if duration * config.sample_fps > QUERY_PDQ_FRAMES:
        config = dataclasses.replace(config, sample_fps=max(1.0, QUERY_PDQ_FRAMES / duration))
    if config.orb_max_frames and duration > config.orb_max_frames * config.orb_interval:
        config = dataclasses.replace(config, orb_interval=duration / config.orb_max_frames)
    return config
