"""Example frame pairs for each fingerprint (scikit-image stills: a test extra, so never in the
product package). ``examples_for(name)`` gives a fingerprint's pairs; every fingerprint must match a lightly transformed copy (re-encode, downscale, letterbox,
brightness) and must not match a different picture.
"""

from __future__ import annotations

import cv2
import numpy as np

from detectors.fingerprints.base import FingerprintExample

__all__ = ["still", "standard_examples", "centre_crop", "picture_in_picture", "STILL_NAMES", "examples_for"]

STILL_NAMES = ("astronaut", "coffee", "chelsea", "rocket")


def still(name: str, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """A bundled scikit-image picture as an RGB frame of ``size`` (width, height)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def centre_crop(frame: np.ndarray, margin: float) -> np.ndarray:
    """The frame without ``margin`` of its width and height on each side, scaled back to size."""
    h, w = frame.shape[:2]
    inner = frame[int(h * margin):int(h * (1 - margin)), int(w * margin):int(w * (1 - margin))]
    return cv2.resize(inner, (w, h))


def picture_in_picture(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``frame`` at half size inside ``background`` (same size), right of centre."""
    h, w = frame.shape[:2]
    out = background.copy()
    out[h // 4:h // 4 + h // 2, w // 2 - 20:w - 20] = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return out


def _jpeg(frame: np.ndarray, quality: int = 30) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def _letterbox(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    inner = cv2.resize(frame, (w, int(h * 0.75)), interpolation=cv2.INTER_AREA)
    out = np.zeros_like(frame)
    top = (h - inner.shape[0]) // 2
    out[top:top + inner.shape[0]] = inner
    return out


def standard_examples() -> list[FingerprintExample]:
    a, b = still("astronaut"), still("coffee")
    half = cv2.resize(a, (320, 180), interpolation=cv2.INTER_AREA)
    bright = np.clip(a.astype(np.int16) + 25, 0, 255).astype(np.uint8)
    return [
        FingerprintExample("jpeg-q30", a, _jpeg(a), True),
        FingerprintExample("downscale-50", a, half, True),
        FingerprintExample("letterbox", a, _letterbox(a), True),
        FingerprintExample("brightness+25", a, bright, True),
        FingerprintExample("different-picture", a, b, False),
        FingerprintExample("different-picture-2", still("chelsea"), still("rocket"), False),
    ]


def _keypoints_examples() -> list[FingerprintExample]:

    a = still("astronaut")
    h = a.shape[0]
    banner = a.copy()
    banner[int(h * .75):] = (20, 20, 160)
    pip = picture_in_picture(a, np.full_like(a, 90))
    return standard_examples() + [
        FingerprintExample("centre-crop-70", a, centre_crop(a, .15), True),
        FingerprintExample("banner-overlay", a, banner, True),
        FingerprintExample("picture-in-picture-50", a, pip, True),
    ]


def _layout_examples() -> list[FingerprintExample]:

    wheel = still("colorwheel")
    h, w = wheel.shape[:2]
    crop = centre_crop(wheel, .16)
    banner = wheel.copy()
    banner[int(h * .8):] = (banner[int(h * .8):] * 0.35).astype(np.uint8)
    sepia_m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    sepia = np.clip(wheel.astype(np.float32) @ sepia_m.T, 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    waves = np.stack([128 + 100 * np.sin(xx / 60), 128 + 100 * np.sin(yy / 45),
                      128 + 80 * np.sin((xx + yy) / 90)], axis=2).astype(np.uint8)
    pip = picture_in_picture(wheel, waves)
    return standard_examples() + [
        FingerprintExample("smooth-centre-crop-70", wheel, crop, True),
        FingerprintExample("smooth-darkened-banner", wheel, banner, True),
        FingerprintExample("smooth-sepia", wheel, sepia, True),
        FingerprintExample("smooth-picture-in-picture-50", wheel, pip, True),
        FingerprintExample("smooth-other-gradient", wheel, waves, False),
        FingerprintExample("smooth-vs-textured", wheel, still("clock"), False),
    ]


def examples_for(name: str) -> list[FingerprintExample]:
    """The example pairs of the fingerprint called ``name`` (the standard set where it has no
    extra ones of its own)."""
    extra = {"orb": _keypoints_examples, "layout": _layout_examples}
    return extra[name]() if name in extra else standard_examples()
