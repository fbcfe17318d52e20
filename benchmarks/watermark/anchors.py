"""Anchors for the watermark benchmark: the invisible-watermark methods (dwtDct, dwtDctSvd, RivaGAN)
run here, and Video Seal's figures quoted from its authors (it needs weights fetched at run time)."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from watermark.attacks import ANCHOR_ATTACKS, attack_named, pixels
from watermark.clips import PAYLOAD, Clip, Frames
from watermark.metrics import quality

VIDEO_SEAL = [
    ("Video Seal (paper notebook, 1080p CPU)", "H.264 CRF 30 + crop 0.75", "0.61", "48.3", "~17"),
    ("Video Seal (paper notebook, 1080p CPU)", "H.264 CRF 40", "0.80", "48.3", "~17"),
    ("Video Seal (OmniSealBench)", "resize 0.55", "0.989", "", ""),
    ("Video Seal (OmniSealBench)", "crop 0.55", "0.718", "", ""),
]


class Anchor:
    """invisible-watermark methods, decoded per frame and majority-voted over frames."""

    def __init__(self, method: str, size: tuple[int, int] | None = None) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.method, self.size = method, size
        self.bits = 32 if method == "rivaGan" else 64
        self.payload = np.unpackbits(np.frombuffer(PAYLOAD[: self.bits // 8], np.uint8)).tolist()
        if method == "rivaGan":
            WatermarkEncoder.loadModel()
        self.encoder = WatermarkEncoder()
        self.encoder.set_watermark("bits", self.payload)
        self.decoder = WatermarkDecoder("bits", self.bits)

    def embed(self, frames: Frames) -> Frames:
        out = []
        for f in frames:
            f = cv2.resize(f, self.size, interpolation=cv2.INTER_AREA) if self.size else f
            bgr = cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
            out.append(cv2.cvtColor(self.encoder.encode(bgr, self.method), cv2.COLOR_BGR2RGB))
        return out

    def decode(self, frames: Frames) -> np.ndarray:
        votes = []
        for f in pixels(frames):
            bgr = cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
            if min(bgr.shape[:2]) < 256:  # the library refuses smaller frames: upscale back
                factor = 256 / min(bgr.shape[:2])
                size = (int(math.ceil(bgr.shape[1] * factor)), int(math.ceil(bgr.shape[0] * factor)))
                bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
            bits = self.decoder.decode(bgr, self.method)
            votes.append(np.asarray(bits, dtype=np.float64))
        return (np.mean(votes, axis=0) > 0.5).astype(np.uint8)

    def accuracy(self, frames: Frames) -> float:
        return float(np.mean(self.decode(frames) == np.array(self.payload)))


def run_anchors(clip: Clip, frames_riva: int, log) -> list[dict]:
    rows = []
    for method, size, n in (
        ("dwtDct", None, len(clip.frames)),
        ("dwtDctSvd", None, min(len(clip.frames), 12)),
        ("rivaGan", (640, 360), frames_riva),
    ):
        try:
            anchor = Anchor(method, size)
        except Exception as exc:  # a missing optional dependency must not stop the benchmark
            log(f"  anchor {method}: unavailable ({exc})")
            continue
        frames = clip.frames[:n]
        t = time.process_time()
        marked = anchor.embed(frames)
        embed_fps = len(frames) / (time.process_time() - t)
        originals = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames] if size else frames
        q = quality(originals, marked)
        unmarked_acc = anchor.accuracy(originals)
        for name in ANCHOR_ATTACKS:
            attack = attack_named(name)
            attacked = attack.apply(marked, clip.fps, np.random.default_rng(0))
            try:
                acc = anchor.accuracy(attacked)
            except Exception as exc:  # report, do not lose the rest of the run
                log(f"  anchor {method} {name}: decoder failed ({exc})")
                continue
            rows.append(
                {
                    "method": method,
                    "attack": name,
                    "bit_acc": acc,
                    "embed_fps": embed_fps,
                    "psnr": q["psnr_rgb"],
                    "unmarked_bit_acc": unmarked_acc,
                    "frames": len(frames),
                    "size": f"{marked[0].shape[1]}x{marked[0].shape[0]}",
                }
            )
            log(
                f"  anchor {method:10s} {name:32s} bit acc {acc:.3f} (unmarked {unmarked_acc:.3f}, "
                f"PSNR {q['psnr_rgb']:.1f}, embed {embed_fps:.2f} fps)"
            )
    return rows
