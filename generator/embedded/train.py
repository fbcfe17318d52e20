"""Train the embedded text-to-video model on procedural clips; resumable, CPU-friendly.

    nice -n 15 python -m generator.embedded.train --out generator/embedded/training/checkpoints \
        --hours 2.5 --threads 1

Run it again with the same --out to resume from ``latest.pt`` (model, EMA, optimiser, step,
data and torch RNG states). Text embeddings of the whole caption space are computed once with the
frozen MiniLM and cached, so a step costs only the UNet. Export with ``generator.embedded.export``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch

from generator.embedded import data
from generator.embedded.model import encode_prompts, minilm_path, scheduler_config, unet_config, with_coords

_FG_WEIGHT = 3.0  # extra loss weight on object pixels: the shape covers ~8 % of the frame


def _text_cache(out: Path) -> dict[str, torch.Tensor]:
    path = out / "text_cache.pt"
    if path.is_file():
        return torch.load(path)
    from transformers import AutoTokenizer, BertModel

    tok = AutoTokenizer.from_pretrained(minilm_path())
    enc = BertModel.from_pretrained(minilm_path()).eval()
    captions = [""] + sorted({s.caption(t) for s in data.all_scenes() for t in range(len(data.TEMPLATES))})
    cache = {}
    for i in range(0, len(captions), 64):
        chunk = captions[i : i + 64]
        for c, e in zip(chunk, encode_prompts(tok, enc, chunk), strict=True):
            cache[c] = e.clone()
    torch.save(cache, path)
    return cache


def _batch(rng: np.random.Generator, scenes, cache, size: int, drop: float):
    clips, conds, weights = [], [], []
    for _ in range(size):
        scene = scenes[rng.integers(len(scenes))]
        clip = data.sample_clip(scene, rng)  # (F, H, W, 3) uint8
        bg = np.array(data.COLOURS[scene.bg], np.int16)
        fg_mask = (np.abs(clip.astype(np.int16) - bg).sum(-1) > 30).astype(np.float32)  # (F, H, W)
        clips.append(clip)
        weights.append(1.0 + _FG_WEIGHT * fg_mask)
        text = "" if rng.random() < drop else scene.caption(int(rng.integers(len(data.TEMPLATES))))
        conds.append(cache[text])
    x = torch.from_numpy(np.stack(clips)).float().div(127.5).sub(1.0)  # B, F, H, W, 3
    x = x.permute(0, 1, 4, 2, 3).reshape(size, -1, data.SIZE, data.SIZE)  # B, F*3, H, W
    w = torch.from_numpy(np.stack(weights))[:, :, None].expand(-1, -1, 3, -1, -1)
    return x, w.reshape(size, -1, data.SIZE, data.SIZE), torch.stack(conds)


def _widened(state: dict, unet) -> dict:
    """Shipped weights for `unet`; input channels it lacks (the coordinates) start at zero weight,
    so the widened model computes exactly what the shipped one did until training moves them."""
    w, want = state["conv_in.weight"], unet.conv_in.weight
    if w.shape != want.shape:
        if w.shape[0] != want.shape[0] or w.shape[1] > want.shape[1] or w.shape[2:] != want.shape[2:]:
            raise ValueError(
                f"cannot start from weights with conv_in {tuple(w.shape)} for a UNet with {tuple(want.shape)}"
            )
        wide = torch.zeros_like(want)
        wide[:, : w.shape[1]] = w
        state = {**state, "conv_in.weight": wide}
    return state


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a killed job never leaves a half-written checkpoint


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--hours", type=float, default=2.0, help="wall-clock budget of this run")
    p.add_argument("--max-steps", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--drop", type=float, default=0.1, help="caption dropout (classifier-free guidance)")
    p.add_argument(
        "--high-noise",
        type=float,
        default=0.0,
        help="share of samples with t drawn from the top 40 %% of the schedule: the only place the "
        "direction word matters (lower down, the noisy clip already shows where the object goes)",
    )
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--keep-every", type=int, default=1000, help="also keep EMA weights every N steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cuda on a lent GPU: the same recipe in minutes")
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="an exported model folder (its unet/): continue from shipped weights when the "
        "checkpoint folder is gone (checkpoints are not committed); its step and hours carry over",
    )
    args = p.parse_args(argv)

    from diffusers import DDIMScheduler, UNet2DConditionModel

    torch.set_num_threads(args.threads)  # results depend on the thread count: pin it
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "train.log", "a", buffering=1) as log:  # line-buffered: progress is readable live
        cache = _text_cache(args.out)
        scenes = data.train_scenes()
        sched = DDIMScheduler(**scheduler_config())
        sched.alphas_cumprod = sched.alphas_cumprod.to(args.device)

        torch.manual_seed(args.seed)
        unet = UNet2DConditionModel(**unet_config()).to(args.device)
        ema = copy.deepcopy(unet).requires_grad_(False)
        opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
        rng = np.random.default_rng(args.seed)
        step, elapsed = 0, 0.0
        warm_from = 0  # the step the learning-rate warm-up counts from (a fresh optimiser warms up again)
        latest = args.out / "latest.pt"
        if latest.is_file():
            state = torch.load(latest, map_location=args.device, weights_only=False)
            unet.load_state_dict(state["unet"])
            ema.load_state_dict(state["ema"])
            opt.load_state_dict(state["opt"])
            rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"].cpu())
            step, elapsed = state["step"], state["elapsed"]
            warm_from = state.get("warm_from", 0)
            log.write(f"resumed at step {step} ({elapsed / 3600:.2f} h trained)\n")
        elif args.init_from is not None:
            # The exported weights are the EMA: both copies start from them; the optimiser starts fresh.
            shipped = _widened(UNet2DConditionModel.from_pretrained(args.init_from / "unet").state_dict(), unet)
            unet.load_state_dict(shipped)
            ema.load_state_dict(shipped)
            info = json.loads((args.init_from / "training.json").read_text())
            step, elapsed = int(info.get("step", 0)), float(info.get("trained_hours", 0.0)) * 3600
            rng = np.random.default_rng([args.seed, step])  # fresh data order, still seeded
            torch.manual_seed(args.seed + step)
            warm_from = step
            log.write(f"init from {args.init_from} at step {step} ({elapsed / 3600:.2f} h trained)\n")
        else:
            log.write(
                f"start {json.dumps(vars(args), default=str)} params={sum(p.numel() for p in unet.parameters())}\n"
            )

        def checkpoint() -> None:
            state = dict(
                unet=unet.state_dict(),
                ema=ema.state_dict(),
                opt=opt.state_dict(),
                rng=rng.bit_generator.state,
                torch_rng=torch.get_rng_state(),
                step=step,
                elapsed=elapsed,
                warm_from=warm_from,
                args=vars(args),
                unet_config=unet_config(),
                threads=args.threads,
            )
            _save(latest, state)

        stop = []  # SIGTERM / SIGINT: finish the step, checkpoint, exit (pause now, resume later)
        previous = {sig: signal.signal(sig, lambda *_: stop.append(True)) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            start, last_save, losses = time.time(), time.time(), []
            run_start_elapsed = elapsed
            while step < args.max_steps and time.time() - start < args.hours * 3600 and not stop:
                t0 = time.time()
                x0, w, cond = (v.to(args.device) for v in _batch(rng, scenes, cache, args.batch, args.drop))
                noise = torch.randn(x0.shape).to(args.device)  # CPU RNG: the same noise on any device
                n_t = sched.config.num_train_timesteps
                t = torch.randint(0, n_t, (args.batch,))
                high = torch.rand(args.batch) < args.high_noise
                t = torch.where(high, torch.randint(int(n_t * 0.6), n_t, (args.batch,)), t).to(args.device)
                pred = unet(with_coords(sched.add_noise(x0, noise, t)), t, cond).sample
                loss = (w * (pred - x0) ** 2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
                for g in opt.param_groups:
                    g["lr"] = args.lr * min(1.0, (step - warm_from + 1) / 200)
                opt.step()
                decay = min(args.ema, (1 + step) / (10 + step))
                with torch.no_grad():
                    for pe, pm in zip(ema.parameters(), unet.parameters(), strict=True):
                        pe.lerp_(pm, 1 - decay)
                step += 1
                elapsed = run_start_elapsed + (time.time() - start)
                losses.append(loss.item())
                if step % 50 == 0:
                    log.write(
                        f"step {step} loss {np.mean(losses):.4f} {time.time() - t0:.2f}s/step {elapsed / 3600:.2f}h\n"
                    )
                    losses = []
                if time.time() - last_save > args.save_minutes * 60:
                    checkpoint()
                    last_save = time.time()
                if step % args.keep_every == 0:
                    _save(args.out / f"ema_{step:06d}.pt", dict(ema=ema.state_dict(), step=step, elapsed=elapsed))
            checkpoint()
            log.write(f"stopped at step {step} ({elapsed / 3600:.2f} h trained)\n")
        finally:  # called in-process (tests), the caller keeps its own handlers
            for sig, handler in previous.items():
                signal.signal(sig, handler)


if __name__ == "__main__":
    main()
