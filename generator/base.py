"""Typed values at the generator boundary: what is asked, what comes back, and what produced it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from generator.errors import GenerationParameterError

__all__ = ["GenerationRequest", "GenerationResult", "ModelRecord"]


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise GenerationParameterError(f"`{name}` has to be positive but is {value}")


@dataclass(frozen=True)
class GenerationRequest:
    """One generation. ``None`` means "the model's default"; ``image``/``video`` condition the
    clip (image-to-video, video-to-video) where the pipeline supports it."""

    prompt: str
    seed: int = 0
    num_frames: int | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    fps: float | None = None
    negative_prompt: str | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    video: np.ndarray | None = field(default=None, repr=False, compare=False)
    strength: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise GenerationParameterError("`prompt` has to be a non-empty string")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise GenerationParameterError(f"`seed` has to be an integer in [0, 2**63) but is {self.seed!r}")
        for name in ("num_frames", "width", "height", "steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise GenerationParameterError(f"`{name}` has to be a positive integer but is {value!r}")
        _positive("fps", self.fps)
        if self.guidance is not None and self.guidance < 0:
            raise GenerationParameterError(f"`guidance` has to be >= 0 but is {self.guidance}")
        if self.strength is not None and not 0 < self.strength <= 1:
            raise GenerationParameterError(f"`strength` has to be in (0, 1] but is {self.strength}")
        if self.image is not None and self.video is not None:
            raise GenerationParameterError("give either `image` or `video` as the source, not both")
        if self.image is not None and (self.image.ndim != 3 or self.image.shape[-1] != 3):
            raise GenerationParameterError(f"`image` has to be (H, W, 3) RGB but has shape {self.image.shape}")
        if self.video is not None and (self.video.ndim != 4 or self.video.shape[-1] != 3):
            raise GenerationParameterError(f"`video` has to be (F, H, W, 3) RGB but has shape {self.video.shape}")
        for name in ("image", "video"):
            value = getattr(self, name)
            if value is not None and (value.dtype != np.uint8 or value.size == 0):
                raise GenerationParameterError(
                    f"`{name}` has to be non-empty uint8 RGB but is {value.dtype} {value.shape}"
                )

    @property
    def task(self) -> str:
        if self.image is not None:
            return "image-to-video"
        if self.video is not None:
            return "video-to-video"
        return "text-to-video"

    @property
    def source(self) -> np.ndarray | None:
        return self.image if self.image is not None else self.video


@dataclass(frozen=True)
class ModelRecord:
    """What produced a clip; the C2PA manifest and the audit log cite it (``to_dict``)."""

    pipeline_class: str
    model_id: str
    revision: str | None
    weights_digest: str  # sha256 over the weight and config files, see generator.loading
    scheduler: str
    scheduler_config: dict[str, Any]
    steps: int
    guidance: float | None
    seed: int
    width: int
    height: int
    num_frames: int
    fps: float
    device: str
    dtype: str
    library_versions: dict[str, str]
    task: str = "text-to-video"
    source_sha256: str | None = None  # the image/video source (a C2PA ingredient), if any

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain values."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def source_digest(source: np.ndarray | None) -> str | None:
    if source is None:
        return None
    arr = np.ascontiguousarray(source)
    return hashlib.sha256(repr((arr.shape, arr.dtype.str)).encode() + arr.tobytes()).hexdigest()


@dataclass(frozen=True)
class GenerationResult:
    frames: np.ndarray  # (F, H, W, 3) uint8 RGB at the delivery size
    record: ModelRecord
    elapsed_s: float = 0.0  # wall time of the pipeline call

    @property
    def fps(self) -> float:
        return self.record.fps

    def to_dict(self) -> dict[str, Any]:
        """The record and timing (frames are not JSON)."""
        return {"record": self.record.to_dict(), "elapsed_s": self.elapsed_s, "shape": list(self.frames.shape)}
