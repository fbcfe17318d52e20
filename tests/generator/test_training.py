"""The embedded model's training script: continue from the shipped weights, then resume."""

from __future__ import annotations

import json

import pytest
import torch

from generator.embedded import train
from generator.loading import default_model_path


def test_init_from_shipped_weights_then_resume(tmp_path, monkeypatch):
    threads = torch.get_num_threads()
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # keep this process's setting
    out = tmp_path / "ckpt"
    shipped = default_model_path()
    start = json.loads((shipped / "training.json").read_text())["step"]
    args = ["--out", str(out), "--max-steps", str(start + 2), "--batch", "2", "--threads", "1"]
    train.main([*args, "--init-from", str(shipped)])
    state = torch.load(out / "latest.pt", weights_only=False)
    assert state["step"] == start + 2  # carried over from training.json, then two steps
    assert "init from" in (out / "train.log").read_text()

    train.main(["--out", str(out), "--max-steps", str(start + 3), "--batch", "2", "--threads", "1"])
    assert torch.load(out / "latest.pt", weights_only=False)["step"] == start + 3
    assert "resumed at step" in (out / "train.log").read_text()
    assert torch.get_num_threads() == threads


def test_coordinate_channels_start_at_zero_weight():
    """Weights trained without the x/y channels compute the same thing once widened."""
    from diffusers import UNet2DConditionModel

    from generator.embedded.model import COORD_CHANNELS, TEXT_DIM, TEXT_TOKENS, unet_config, with_coords

    torch.manual_seed(0)
    narrow = UNet2DConditionModel(**{**unet_config(), "in_channels": unet_config()["out_channels"]}).eval()
    wide = UNet2DConditionModel(**unet_config()).eval()
    wide.load_state_dict(train._widened(narrow.state_dict(), wide))
    x = torch.randn(2, narrow.config.in_channels, 32, 32)
    text = torch.randn(2, TEXT_TOKENS, TEXT_DIM)
    t = torch.tensor([999, 10])
    with torch.no_grad():
        assert torch.equal(narrow(x, t, text).sample, wide(with_coords(x), t, text).sample)
    coords = with_coords(x)[:, -COORD_CHANNELS:]
    assert coords[0, 0, 0, 0] == -1 and coords[0, 0, 0, -1] == 1 and coords[0, 1, -1, 0] == 1  # x, then y
    assert with_coords(x, 0) is x
    with pytest.raises(ValueError, match="extra input channels"):
        with_coords(x, 3)
