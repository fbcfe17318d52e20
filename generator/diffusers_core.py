"""One interface over diffusers text-to-video pipelines: ``VideoGenerator(request) -> result``.

Each pipeline family names its knobs differently and has its own frame/size rules; this module
reads them from the pipeline (signature, VAE factors, patch sizes), checks a request against
them before any compute, and returns uint8 frames plus a ModelRecord.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import cv2
import numpy as np
import torch

from generator.base import GenerationRequest, GenerationResult, ModelRecord, source_digest
from generator.errors import GenerationParameterError, GeneratorError
from generator.loading import LoadedModel, load_pipeline

__all__ = ["VideoGenerator", "load_generator", "Progress"]

Progress = bool | Callable[[int, int], None]

# Frame rates the model families were trained at (their pipelines do not say).
_FPS = {
    "WanPipeline": 16,
    "CogVideoXPipeline": 8,
    "LTXPipeline": 24,
    "MochiPipeline": 30,
    "HunyuanVideoPipeline": 24,
    "AnimateDiffPipeline": 8,
    "TextToVideoSDPipeline": 8,
    "ShapesVideoPipeline": 8,
}
_MIN_STEPS = {"MochiPipeline": 2}
_LIBRARIES = ("torch", "diffusers", "transformers", "numpy", "safetensors")


def _temporal_factor(pipe) -> int:
    if type(pipe).__name__ == "ShapesVideoPipeline":
        return 0  # fixed clip length, checked by the pipeline itself
    for name in ("vae_scale_factor_temporal", "vae_temporal_compression_ratio", "vae_temporal_scale_factor"):
        value = getattr(pipe, name, None)
        if isinstance(value, int) and value > 1:
            return value
    return 1


def _spatial_multiple(pipe) -> int:
    if type(pipe).__name__ == "ShapesVideoPipeline":
        return 8
    factor = 8
    for name in (
        "vae_scale_factor_spatial",
        "vae_spatial_compression_ratio",
        "vae_spatial_scale_factor",
        "vae_scale_factor",
    ):
        value = getattr(pipe, name, None)
        if isinstance(value, int) and value > 0:
            factor = value
            break
    model = getattr(pipe, "transformer", None)
    patch = getattr(getattr(model, "config", None), "patch_size", 1) or 1
    patch = patch[-1] if isinstance(patch, (list, tuple)) else patch
    return factor * int(patch)


@dataclass(frozen=True)
class _Plan:
    num_frames: int | None
    height: int | None
    width: int | None
    steps: int
    guidance: float | None
    fps: float


class VideoGenerator:
    """A loaded pipeline behind one ``__call__``; build it with :func:`load_generator`."""

    def __init__(self, loaded: LoadedModel, *, device: str, dtype: torch.dtype) -> None:
        self._loaded = loaded
        self.pipeline = loaded.pipeline
        self.device, self.dtype = device, dtype
        self._params = inspect.signature(self.pipeline.__call__).parameters

    @property
    def pipeline_class(self) -> str:
        return type(self.pipeline).__name__

    @property
    def model_id(self) -> str:
        return self._loaded.model_id

    def _default(self, name: str):
        p = self._params.get(name)
        return None if p is None or p.default is inspect.Parameter.empty else p.default

    def plan(self, request: GenerationRequest) -> _Plan:
        """The request with model defaults filled in, checked against what the model can produce."""
        cls = self.pipeline_class
        frames = request.num_frames or self._default("num_frames")
        height = request.height or self._default("height")
        width = request.width or self._default("width")
        steps = request.steps or self._default("num_inference_steps") or 50
        guidance = request.guidance if request.guidance is not None else self._default("guidance_scale")
        fps = request.fps or self._default("frame_rate") or _FPS.get(cls, 8)
        multiple = _spatial_multiple(self.pipeline)
        if height is not None and width is not None and (height % multiple or width % multiple):
            raise GenerationParameterError(
                f"`height` and `width` have to be divisible by {multiple} for {cls} but are {height} and {width}"
            )
        temporal = _temporal_factor(self.pipeline)
        if frames is not None and temporal > 1 and (frames - 1) % temporal:
            raise GenerationParameterError(
                f"`num_frames` has to be of the form {temporal}k+1 for {cls} but is {frames}"
            )
        if steps < _MIN_STEPS.get(cls, 1):
            raise GenerationParameterError(f"`steps` has to be at least {_MIN_STEPS[cls]} for {cls} but is {steps}")
        if request.negative_prompt is not None and "negative_prompt" not in self._params:
            raise GenerationParameterError(f"{cls} does not take a `negative_prompt`")
        if request.task == "image-to-video" and "image" not in self._params:
            raise GenerationParameterError(f"{cls} cannot do image-to-video (no `image` input); use an I2V pipeline")
        if request.task == "video-to-video" and "video" not in self._params:
            raise GenerationParameterError(f"{cls} cannot do video-to-video (no `video` input); use a V2V pipeline")
        return _Plan(frames, height, width, int(steps), guidance, float(fps))

    def _kwargs(self, request: GenerationRequest, plan: _Plan, progress: Progress) -> dict:
        wanted: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "num_frames": plan.num_frames,
            "height": plan.height,
            "width": plan.width,
            "num_inference_steps": plan.steps,
            "guidance_scale": plan.guidance,
            "strength": request.strength,
            "generator": torch.Generator(device="cpu").manual_seed(request.seed),  # same seed -> same noise
            "output_type": "np",
        }
        if request.image is not None:
            wanted["image"] = _to_pil(request.image)
        if request.video is not None:
            wanted["video"] = [_to_pil(f) for f in request.video]
        if callable(progress):
            if "callback_on_step_end" in self._params:

                def _on_step(pipe, i, t, tensors):
                    progress(i + 1, plan.steps)
                    return {}

                wanted["callback_on_step_end"] = _on_step
            elif "callback" in self._params:  # older pipelines (TextToVideoSD)
                wanted["callback"] = lambda i, t, latents: progress(i + 1, plan.steps)
                wanted["callback_steps"] = 1
        return {k: v for k, v in wanted.items() if v is not None and k in self._params}

    def __call__(self, request: GenerationRequest, *, progress: Progress = True) -> GenerationResult:
        plan = self.plan(request)
        self.pipeline.set_progress_bar_config(disable=progress is not True, leave=False)
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                out = self.pipeline(**self._kwargs(request, plan, progress))
        except GeneratorError:
            raise
        except ValueError as exc:  # diffusers' check_inputs: the request does not fit the model
            raise GenerationParameterError(f"{self.pipeline_class}: {exc}") from exc
        elapsed = time.perf_counter() - started
        frames = _to_uint8(out.frames[0] if not isinstance(out, tuple) else out[0][0])
        height, width = plan.height or frames.shape[1], plan.width or frames.shape[2]
        if frames.shape[1:3] != (height, width):  # pipelines that round the size: deliver what was asked
            frames = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in frames])
        return GenerationResult(frames=frames, record=self._record(request, plan, frames), elapsed_s=elapsed)

    def _record(self, request: GenerationRequest, plan: _Plan, frames: np.ndarray) -> ModelRecord:
        scheduler = getattr(self.pipeline, "scheduler", None)
        return ModelRecord(
            pipeline_class=self.pipeline_class,
            model_id=self._loaded.model_id,
            revision=self._loaded.revision,
            weights_digest=self._loaded.weights_digest,
            scheduler=type(scheduler).__name__ if scheduler is not None else "none",
            scheduler_config=dict(getattr(scheduler, "config", {}) or {}),
            steps=plan.steps,
            guidance=plan.guidance,
            seed=request.seed,
            width=int(frames.shape[2]),
            height=int(frames.shape[1]),
            num_frames=int(frames.shape[0]),
            fps=plan.fps,
            device=self.device,
            dtype=str(self.dtype).removeprefix("torch."),
            library_versions=library_versions(),
            task=request.task,
            source_sha256=source_digest(request.source),
        )


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):  # not installed: not listed
            versions[name] = metadata.version(name)
    versions["torch_threads"] = str(torch.get_num_threads())  # CPU results depend on it
    return versions


def _to_pil(frame: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))


def _to_uint8(frames) -> np.ndarray:
    """(F, H, W, 3) uint8 from float [0, 1] arrays/tensors, (F, 3, H, W) tensors or PIL lists."""
    if isinstance(frames, torch.Tensor):
        frames = frames.float().cpu().numpy()
        if frames.ndim == 4 and frames.shape[1] == 3 and frames.shape[-1] != 3:
            frames = frames.transpose(0, 2, 3, 1)
    if isinstance(frames, list):
        frames = np.stack([np.asarray(f) for f in frames])
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        frames = (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise GeneratorError(f"the pipeline returned frames of shape {frames.shape}, not (F, H, W, 3)")
    return np.ascontiguousarray(frames)


def load_generator(
    path_or_id: str | os.PathLike | None = None,
    *,
    device: str = "cpu",
    dtype: torch.dtype | None = None,
    local_files_only: bool = True,
    revision: str | None = None,
    cpu_offload: bool = False,
    vae_tiling: bool = False,
) -> VideoGenerator:
    """Load a pipeline folder or hub id (``None``: the embedded model) as a VideoGenerator.

    dtype defaults to float32 on CPU and bfloat16 on CUDA. ``cpu_offload`` keeps weights on the
    CPU until each sub-model runs; ``vae_tiling`` decodes in tiles (both where supported).
    """
    if dtype is None:
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    loaded = load_pipeline(
        path_or_id,
        device="cpu" if cpu_offload else device,
        dtype=dtype,
        local_files_only=local_files_only,
        revision=revision,
    )
    pipe = loaded.pipeline
    if cpu_offload and str(device).startswith("cuda") and hasattr(pipe, "enable_model_cpu_offload"):
        pipe.enable_model_cpu_offload(device=device)
    vae = getattr(pipe, "vae", None)
    if vae_tiling and vae is not None:
        for option in ("enable_tiling", "enable_slicing"):
            if hasattr(vae, option):
                getattr(vae, option)()
    return VideoGenerator(loaded, device=str(device), dtype=dtype)
