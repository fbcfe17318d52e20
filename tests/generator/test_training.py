"""The embedded model's training script: continue from the shipped weights, then resume."""

from __future__ import annotations

import json

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
