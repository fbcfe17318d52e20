"""Small JPEG thumbnails (data: URIs) of the matched segments of an uploaded clip."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

__all__ = ["segment_thumbnails"]

_WIDTH = 160


def _encode(frame) -> str | None:
    import cv2

    h, w = frame.shape[:2]
    small = cv2.resize(frame, (_WIDTH, max(1, round(h * _WIDTH / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii") if ok else None


def segment_thumbnails(path: Path, matches: list[Any], *, max_pixels: int, limit: int = 4) -> list[str | None]:
    """One thumbnail per match (the frame at the middle of its query segment), in one decode pass."""
    from detectors.video_io import probe, read_frames

    if not matches:
        return []
    try:
        fps = probe(path, max_pixels=max_pixels).fps or 25.0
        wanted: dict[int, list[int]] = {}  # frame index -> the matches it illustrates
        for i, m in enumerate(matches[:limit]):
            wanted.setdefault(int(round((m.query_start + m.query_end) / 2 * fps)), []).append(i)
        out: list[str | None] = [None] * len(matches)
        last = max(wanted)
        for index, frame in enumerate(read_frames(path, max_frames=last + 1, max_pixels=max_pixels)):
            for i in wanted.get(index, ()):
                out[i] = _encode(frame)
        return out
    except Exception:  # thumbnails are decoration: a clip that decodes badly just has none
        return [None] * len(matches)
