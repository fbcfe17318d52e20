"""Procedural captioned clips for the embedded model: one shape moving over a plain background.

The caption space is small (colour x shape x motion x background), so it is enumerated: a fixed,
seeded set of combinations is held out of training and used only by the evaluation, which makes
"unseen combinations" a real claim.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "COLOURS",
    "SHAPES",
    "MOTIONS",
    "FRAMES",
    "SIZE",
    "Scene",
    "all_scenes",
    "train_scenes",
    "heldout_scenes",
    "caption",
    "render",
    "sample_clip",
]

# Well separated in RGB so that the evaluation can name a colour by its nearest palette entry.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (225, 30, 30),
    "green": (30, 190, 50),
    "blue": (35, 60, 225),
    "yellow": (240, 215, 35),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle")
MOTIONS: dict[str, tuple[int, int]] = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}
FRAMES = 16
SIZE = 32
TEMPLATES = (
    "a {fg} {shape} moving {motion} on a {bg} background",
    "a {fg} {shape} moves {motion} on a {bg} background",
    "{fg} {shape} moving {motion} over a {bg} background",
)
_HELDOUT_SEED = 9
_HELDOUT_FRACTION = 0.15


@dataclass(frozen=True)
class Scene:
    fg: str
    shape: str
    motion: str
    bg: str

    def caption(self, template: int = 0) -> str:
        return caption(self, template)


def caption(scene: Scene, template: int = 0) -> str:
    return TEMPLATES[template].format(fg=scene.fg, shape=scene.shape, motion=scene.motion, bg=scene.bg)


def all_scenes() -> list[Scene]:
    return [
        Scene(fg, shape, motion, bg)
        for fg, shape, motion, bg in itertools.product(COLOURS, SHAPES, MOTIONS, COLOURS)
        if fg != bg
    ]


def _split() -> tuple[list[Scene], list[Scene]]:
    scenes = all_scenes()
    rng = np.random.default_rng(_HELDOUT_SEED)
    held = set(rng.choice(len(scenes), size=round(len(scenes) * _HELDOUT_FRACTION), replace=False).tolist())
    return [s for i, s in enumerate(scenes) if i not in held], [s for i, s in enumerate(scenes) if i in held]


def train_scenes() -> list[Scene]:
    return _split()[0]


def heldout_scenes() -> list[Scene]:
    """Combinations never shown in training (every single attribute value still is)."""
    return _split()[1]


def _polygon(shape: str, cx: float, cy: float, r: float) -> np.ndarray:
    if shape == "square":
        s = r * 0.85
        pts = [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    else:  # triangle, pointing up
        pts = [(cx, cy - r), (cx + r * 0.95, cy + r * 0.75), (cx - r * 0.95, cy + r * 0.75)]
    return (np.array(pts) * 16).round().astype(np.int32)  # 4 fractional bits (cv2 `shift`)


def render(scene: Scene, *, x0: float, y0: float, radius: float, distance: float) -> np.ndarray:
    """The clip as (FRAMES, SIZE, SIZE, 3) uint8 RGB; the centre moves `distance` pixels in total."""
    dx, dy = MOTIONS[scene.motion]
    clip = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    colour = COLOURS[scene.fg]
    for f in range(FRAMES):
        t = f / (FRAMES - 1)
        cx, cy = x0 + dx * distance * t, y0 + dy * distance * t
        frame = clip[f]
        frame[:] = COLOURS[scene.bg]
        if scene.shape == "circle":
            centre = (int(round(cx * 16)), int(round(cy * 16)))
            cv2.circle(frame, centre, int(round(radius * 16)), colour, -1, cv2.LINE_AA, shift=4)
        else:
            cv2.fillPoly(frame, [_polygon(scene.shape, cx, cy, radius)], colour, cv2.LINE_AA, shift=4)
    return clip


def sample_clip(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """A random placement, size and speed for `scene` that keeps the shape inside the frame.

    The shape travels 14-16 px, starting within a few pixels of the edge it moves away from, so a
    caption's direction fixes where the shape is in the first and last frames. (With starts
    anywhere and 10-16 px of travel, 2.5 CPU-hours learnt colours perfectly and direction not at
    all: from pure noise, the direction word then moved the expected frames too little to learn.)
    """
    radius = rng.uniform(4.0, 6.0)
    distance = rng.uniform(14.0, 16.0)
    dx, dy = MOTIONS[scene.motion]
    lo, hi = radius + 1.0, SIZE - 1.0 - radius
    slack = hi - lo - distance  # 2-8 px

    def start(d: int) -> float:
        if d > 0:
            return lo + rng.uniform(0.0, slack)
        if d < 0:
            return hi - rng.uniform(0.0, slack)
        return rng.uniform(lo, hi)

    return render(scene, x0=start(dx), y0=start(dy), radius=radius, distance=distance)
