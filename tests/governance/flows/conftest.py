"""Face clips for the likeness flow tests: real photos from ../shared/faces, panned into clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED, require_shared
from tests.support.clips import pan_across

FR = SHARED / "faces" / "photos" / "face_recognition"


def face_photo(name: str) -> Path:
    return require_shared(FR / name)


def pan_clip(photo: Path, *, frames: int = 16, size: int = 256) -> np.ndarray:
    """A slow pan across a still: (F, size, size, 3) uint8 RGB."""
    from detectors.video_io import read_image

    image = read_image(photo)
    h, w = image.shape[:2]
    side = int(min(h, w) * 0.9)
    return pan_across(image, frames=frames, window=(side, side), y=int((h - side) * 0.2), size=(size, size))


class ClipGenerator:
    """Stands in for the diffusion model: "generates" a fixed clip (a face the model drew)."""

    def __init__(self, frames: np.ndarray, fps: float = 8.0) -> None:
        self.frames, self.fps = frames, fps

    def __call__(self, request, progress=False):
        from generator import GenerationResult, ModelRecord

        f = self.frames
        record = ModelRecord(
            pipeline_class="ClipGenerator",
            model_id="tests/face-clip",
            revision=None,
            weights_digest="0" * 64,
            scheduler="none",
            scheduler_config={},
            steps=1,
            guidance=None,
            seed=request.seed,
            width=f.shape[2],
            height=f.shape[1],
            num_frames=len(f),
            fps=self.fps,
            device="cpu",
            dtype="uint8",
            library_versions={},
        )
        return GenerationResult(frames=f, record=record)


@pytest.fixture(scope="session")
def obama_clip() -> np.ndarray:
    return pan_clip(face_photo("obama.jpg"))


@pytest.fixture(scope="session")
def biden_clip() -> np.ndarray:
    return pan_clip(face_photo("biden.jpg"))
