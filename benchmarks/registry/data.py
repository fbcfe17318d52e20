"""The registry benchmark's works: the two shared real clips, scikit-image stills panned and
zoomed into 6 s clips, and seeded smooth colour fields, all normalised to 640x360 references.

Works come in two named splits (``split_dev.json``, ``split_heldout.json``): DEV is the set the
layout fingerprint and its thresholds were built and tuned on; HELD-OUT was chosen before any run
on it. Both are registered in one registry (each split's works are distractors for the other's
queries) and reported apart.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from common.media import CLIPS, skimage_still

from detectors.video_io import probe, read_frames, write_video

W, H = 640, 360
FPS = 25.0
HERE = Path(__file__).resolve().parent
SPLITS = ("dev", "heldout")
REAL_CLIPS = ("penguins_ai_1080p.mp4", "crowd_720p.avi")  # the shared real clips (both DEV works)


@dataclass(frozen=True)
class Split:
    name: str  # "dev" | "heldout"
    note: str
    real: tuple[str, ...]
    stills: tuple[str, ...]
    synthetic: tuple[str, ...]
    quick: tuple[str, ...]

    @property
    def works(self) -> tuple[str, ...]:
        return self.real + self.stills + self.synthetic

    def names(self, quick: bool) -> list[str]:
        return list(self.quick if quick else self.works)


def load_split(name: str) -> Split:
    """``split_<name>.json`` beside this module."""
    if name not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} but is {name!r}")
    doc = json.loads((HERE / f"split_{name}.json").read_text(encoding="utf-8"))
    return Split(doc["split"], doc["note"], tuple(doc["real"]), tuple(doc["stills"]), tuple(doc["synthetic"]),
                 tuple(doc["quick"]))  # fmt: skip


def smooth_field(name: str, size: tuple[int, int]) -> np.ndarray:
    """A smooth colour field (three cosines per channel), seeded by its name: a flat picture
    that gives ORB few corners and PDQ weak bits, like a sky or a colour wash."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / w
    channels = []
    for _ in range(3):
        amp, fx, fy, ph = (
            rng.uniform(20, 60, 3),
            rng.uniform(0.2, 1.2, 3),
            rng.uniform(0.2, 1.2, 3),
            rng.uniform(0, 6.3, 3),
        )
        channels.append(
            128 + sum(a * np.cos(2 * np.pi * (u * xx + v * yy) + p) for a, u, v, p in zip(amp, fx, fy, ph, strict=True))
        )
    return np.clip(np.stack(channels, axis=2), 0, 255).astype(np.uint8)


def source_picture(name: str, size: tuple[int, int]) -> np.ndarray:
    if name.startswith("field-"):
        return smooth_field(name, size)
    return cv2.resize(skimage_still(name), size, interpolation=cv2.INTER_AREA)


def still_clip(name: str, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """A slow pan plus zoom across a picture, 640x360 at 25 fps."""
    big = source_picture(name, (int(W * 1.6), int(H * 1.6)))
    rng = np.random.default_rng(zlib.crc32(name.encode()) + seed)  # stable across runs
    n = int(seconds * FPS)
    x0, y0 = rng.uniform(0, 0.35, 2)
    x1, y1 = rng.uniform(0, 0.35, 2)
    z = np.linspace(1.0, 0.8, n)  # zoom in by 20 %
    frames = []
    for i in range(n):
        a = i / max(1, n - 1)
        cw, ch = W * 1.6 * 0.62 * z[i], H * 1.6 * 0.62 * z[i]
        x = (x0 + (x1 - x0) * a) * (big.shape[1] - cw) / 0.35
        y = (y0 + (y1 - y0) * a) * (big.shape[0] - ch) / 0.35
        x, y = min(max(0, x), big.shape[1] - cw), min(max(0, y), big.shape[0] - ch)
        crop = big[int(y) : int(y + ch), int(x) : int(x + cw)]
        frames.append(cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA))
    return np.stack(frames)


def real_clip(name: str) -> tuple[np.ndarray, float]:
    path = CLIPS / name
    info = probe(path)
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA) for f in read_frames(path)]
    fps = len(frames) / info.duration_s if info.duration_s else info.fps  # AVI nominal rate lies
    return np.stack(frames), fps


@dataclass(frozen=True)
class WorkSpec:
    name: str
    split: str
    path: Path
    fps: float
    frames: int


def build_works(tmp: Path, splits: list[tuple[Split, list[str]]]) -> list[WorkSpec]:
    """Reference files (H.264 CRF 18) of every named work, tagged with its split."""
    works = []
    for split, names in splits:
        for name in names:
            frames, fps = real_clip(name) if name in split.real else (still_clip(name), FPS)
            path = write_video(tmp / f"ref_{Path(name).stem}.mp4", frames, fps=fps, crf=18, preset="veryfast")
            works.append(WorkSpec(name, split.name, path, fps, len(frames)))
    return works


def load(work: WorkSpec) -> np.ndarray:
    return np.stack(list(read_frames(work.path)))
