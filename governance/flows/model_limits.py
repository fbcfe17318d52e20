"""What a model can produce, read from its folder's JSON configs without loading weights, so a
request it cannot fulfil fails in milliseconds instead of after the policy model, the keys and
the diffusion model have loaded (``generate --frames 24`` on a 16-frame model).

Only what is known for sure is checked: the embedded model's clip length and smallest size come
from its UNet config; for diffusers pipelines, the size multiple their own ``check_inputs``
enforces. Anything else is left to the pipeline, which still checks after loading. A hub id that
is not a local folder is not looked up here (that needs diffusers and the cache): the pipeline's
own check covers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from generator.errors import GenerationParameterError

__all__ = ["ModelLimits", "model_limits", "check_params"]

EMBEDDED = ("generator.embedded", "shapes_t2v")
# Pipelines whose check_inputs refuses sizes off this multiple (diffusers' own messages).
_SIZE_MULTIPLE = {"Wan": 16, "LTX": 32, "TextToVideoSD": 8, "CogVideoX": 8, "ShapesVideo": 8}


@dataclass(frozen=True)
class ModelLimits:
    pipeline_class: str
    frames: int | None = None  # the one clip length the model makes, when it has one
    min_size: int | None = None
    size_multiple: int | None = None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _folder(model: str | None) -> Path | None:
    if model is None:
        folder = resources.files(EMBEDDED[0]).joinpath(EMBEDDED[1])
        return folder if isinstance(folder, Path) else None
    path = Path(model).expanduser()
    return path if path.is_dir() else None


def model_limits(model: str | None) -> ModelLimits | None:
    """The limits of ``model`` (None: the embedded model), or None when they are not known here."""
    folder = _folder(model)
    if folder is None:
        return None
    index = _read_json(folder / "model_index.json")
    name = str(index.get("_class_name") or "")
    if not name:
        return None
    multiple = next((m for prefix, m in _SIZE_MULTIPLE.items() if name.startswith(prefix)), None)
    if name == "ShapesVideoPipeline":
        unet = _read_json(folder / "unet" / "config.json")
        channels, size = unet.get("out_channels"), unet.get("sample_size")
        return ModelLimits(
            name,
            frames=int(channels) // 3 if isinstance(channels, int) else None,
            min_size=int(size) if isinstance(size, int) else None,
            size_multiple=multiple,
        )
    return ModelLimits(name, size_multiple=multiple)


def check_params(model: str | None, *, num_frames: int | None, width: int | None, height: int | None) -> None:
    """GenerationParameterError naming the model's limit when the request is outside it."""
    limits = model_limits(model)
    if limits is None:
        return
    who = limits.pipeline_class
    if limits.frames is not None and num_frames is not None and num_frames != limits.frames:
        raise GenerationParameterError(
            f"{who} makes clips of exactly {limits.frames} frames; --frames {num_frames} is not possible "
            f"(leave --frames out, or pass {limits.frames})"
        )
    for label, value in (("width", width), ("height", height)):
        if value is None:
            continue
        if limits.size_multiple and value % limits.size_multiple:
            raise GenerationParameterError(
                f"{who} needs a {label} divisible by {limits.size_multiple}, but it is {value}"
            )
        if limits.min_size and value < limits.min_size:
            raise GenerationParameterError(f"{who} needs a {label} of at least {limits.min_size}, but it is {value}")
