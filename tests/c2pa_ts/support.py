"""Helpers shared by the C2PA tests: tiny clips, a ManifestSpec, a fresh home, the TS reader."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
C2PA_TS_READY = (HERE / "node_modules" / "@trustnxt" / "c2pa-ts").is_dir() and shutil.which("node") is not None
C2PA_TS_SKIP = "c2pa-ts not installed: run `npm install --prefix tests/c2pa_ts --no-audit --no-fund` (needs Node 20+)"


def make_clip(path: Path, *, seed: int = 0, frames: int = 6, size: int = 64) -> Path:
    from detectors.video_io import write_video

    rng = np.random.default_rng(seed)
    clip = rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8)
    return write_video(path, clip, fps=6, preset="ultrafast")


def remux(src: Path, dst: Path, **options: str) -> Path:
    """``src``'s video packets copied into a new MP4 (what ``ffmpeg -c copy`` does), with muxer
    ``options`` (e.g. ``movflags="frag_keyframe+empty_moov"`` for a fragmented file)."""
    import av

    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4", options=options) as target:
        out = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                target.mux(packet)
    return dst


def make_spec(**overrides: Any):
    from governance.provenance.signing import ManifestSpec

    values: dict[str, Any] = dict(
        title="clip.mp4",
        content_id="0123456789abcdef",
        watermark_scheme="reelguard.ss.v1",
        watermark_payload_hex="00112233aabbccdd",
        model_record={"model_id": "reelguard/embedded-tiny", "revision": "r1", "steps": 4, "seed": 0},
        policy_decision={"action": "allow", "pack_digest": "ab" * 32, "rule_id": None, "jurisdiction": "eu"},
        jurisdiction="eu",
        obligations=("c2pa", "watermark"),
        audit_leaf_index=17,
        organisation="ACME Studios",
        created_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    )
    values.update(overrides)
    return ManifestSpec(**values)


def new_settings(tmp_path: Path, **overrides: Any):
    from governance.core.settings import get_settings

    return get_settings(home=tmp_path / "home", organisation="ACME Studios", **overrides)


def c2pa_ts_read(*paths: Path) -> dict[str, dict[str, Any]]:
    """What @trustnxt/c2pa-ts says about each path (one Node start for all, ~1.5 s):
    ``{str(path): {"manifest", "valid", "failures", "active_label", "assertions", "error"}}``."""
    done = subprocess.run(
        ["node", str(HERE / "read.mjs"), *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"c2pa-ts reader failed: {done.stderr.strip()[:500]}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {row.pop("path"): row for row in rows}
