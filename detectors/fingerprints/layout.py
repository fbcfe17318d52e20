"""Layout thumbnails: the descriptor for frames too flat for ORB and too smooth for PDQ.

A smooth picture (a sky, a colour wash, scikit-image's ``colorwheel``) has few corners (ORB
finds 8-18 where textured frames give 200) and its PDQ bits sit near the median, so
compression or a tone change flips 60-110 of them. What survives is the layout itself: the
luma of a 64-px thumbnail still correlates at >= 0.95 with its cropped, overlaid, re-toned,
sepia or picture-in-picture copies.

Two frames match when, under the best of a small set of geometric hypotheses (the query is a
crop of the reference at 62-100 % scale, or holds it at 35-70 % scale as picture in picture,
or is the whole reference squeezed to another aspect ratio; either mirrored; any offset), BOTH
the global normalised cross-correlation and the median of the 4x4 per-cell correlations reach
``threshold``, and, when both sides have colour of their own (chroma that luma does not
explain: not grey, not sepia), their Cr and Cb planes correlate too. Per-cell correlation
rejects a textured frame whose coarse layout happens to agree; global correlation a different
smooth field (any two linear ramps correlate cell by cell); colour a smooth field with the same
light and shade in other hues (a colourful wash behind a picture-in-picture inset reached luma
0.95 against ``colorwheel`` with chroma correlation -0.3). The registry uses it only for
reference keyframes that ORB cannot describe, which keeps its exposure to look-alikes small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from detectors.fingerprints.base import Fingerprint, FrameCodes
from detectors.fingerprints.borders import remove_borders

__all__ = [
    "LayoutFingerprint",
    "LayoutMatch",
    "Thumbnail",
    "Query",
    "Reference",
    "thumbnail",
    "compare",
    "prepare_query",
    "prepare_reference",
    "THUMB_W",
    "THUMB_H",
    "THUMB_BYTES",
]

THUMB_W, THUMB_H = 64, 36  # stored size; the true aspect ratio travels beside it
_PLANES = 3  # luma (Y), then chroma (Cr, Cb)
THUMB_BYTES = _PLANES * THUMB_H * THUMB_W
_CROP_SCALES = (1.0, 0.92, 0.84, 0.77, 0.7, 0.62)  # query = this share of the reference's width
_PIP_SCALES = (0.7, 0.6, 0.5, 0.42, 0.35)  # reference = this share of the query's width
_CELLS = 4
_MIN_STD = 4.0  # grey levels: flatter thumbnails (black, fades) carry no layout
_RICH_CHROMA = 15.0  # grey levels of chroma that luma does not explain: below, no colour check
_MIN_CHROMA_NCC = 0.5


@dataclass(frozen=True)
class Thumbnail:
    """A frame at ``THUMB_W`` px wide in its own aspect ratio: (3, H, W) float32 Y, Cr, Cb."""

    planes: np.ndarray

    @property
    def pixels(self) -> np.ndarray:
        return self.planes[0]

    @classmethod
    def from_code(cls, code: np.ndarray, aspect: float) -> Thumbnail:
        """Undo the fixed-size storage: ``code`` is 3 x THUMB_H x THUMB_W bytes, ``aspect`` = w / h."""
        grid = np.asarray(code, np.uint8).reshape(_PLANES, THUMB_H, THUMB_W).astype(np.float32)
        height = int(np.clip(round(THUMB_W / max(aspect, 1e-3)), 8, 4 * THUMB_W))
        return cls(np.stack([cv2.resize(p, (THUMB_W, height), interpolation=cv2.INTER_LINEAR) for p in grid]))


def thumbnail(frame: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(3 x THUMB_H x THUMB_W uint8 Y/Cr/Cb code, aspect w/h) of a border-free RGB frame; None
    when its luma is flat."""
    ycc = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YCrCb)
    h, w = ycc.shape[:2]
    code = cv2.resize(ycc, (THUMB_W, THUMB_H), interpolation=cv2.INTER_AREA)
    if float(code[:, :, 0].std()) < _MIN_STD:
        return None
    return np.ascontiguousarray(code.transpose(2, 0, 1)), w / h


@dataclass(frozen=True)
class LayoutMatch:
    """The best hypothesis for a (query, reference) pair: ``similarity`` = min(global, cells)."""

    similarity: float
    global_ncc: float
    cell_ncc: float
    hypothesis: str  # "crop" (query inside the reference) | "pip" (reference inside the query)
    #                  | "stretch" (the whole query resized to the reference's aspect)
    scale: float
    mirrored: bool
    chroma_ncc: float | None = None  # None: one side had no colour of its own (grey, sepia)


@dataclass(frozen=True)
class Query:
    """A query thumbnail, as given and mirrored, with its luma resized for every crop hypothesis."""

    planes: tuple[np.ndarray, np.ndarray]
    crops: tuple[tuple[tuple[float, np.ndarray], ...], ...]


@dataclass(frozen=True)
class Reference:
    """A reference thumbnail with its luma resized for every picture-in-picture hypothesis."""

    planes: np.ndarray
    pips: tuple[tuple[float, np.ndarray], ...]


def prepare_query(thumb: Thumbnail) -> Query:
    both = (thumb.planes, np.ascontiguousarray(thumb.planes[:, :, ::-1]))
    crops = tuple(tuple((k, _resize(p[0], k)) for k in _CROP_SCALES) for p in both)
    return Query(both, crops)


def prepare_reference(thumb: Thumbnail) -> Reference:
    return Reference(thumb.planes, tuple((k, _resize(thumb.pixels, k)) for k in _PIP_SCALES))


def _resize(pixels: np.ndarray, k: float) -> np.ndarray:
    h, w = pixels.shape
    if k == 1.0:
        return pixels
    return cv2.resize(pixels, (max(4, round(w * k)), max(4, round(h * k))), interpolation=cv2.INTER_AREA)


def _ncc(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / d if d > 1e-6 else 0.0


def _cell_ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Median over a 4x4 grid of each cell's correlation (a flat cell counts as 0)."""
    h, w = a.shape
    ys = np.linspace(0, h, _CELLS + 1).astype(int)
    xs = np.linspace(0, w, _CELLS + 1).astype(int)
    return float(
        np.median(
            [
                _ncc(a[ys[i] : ys[i + 1], xs[j] : xs[j + 1]], b[ys[i] : ys[i + 1], xs[j] : xs[j + 1]])
                for i in range(_CELLS)
                for j in range(_CELLS)
            ]
        )
    )


def _own_chroma(planes: np.ndarray) -> float:
    """Std of the chroma that a linear function of luma does not explain: ~0 for grey, sepia or
    any single tint, tens of grey levels for a picture with colours of its own."""
    design = np.stack([planes[0].ravel(), np.ones(planes[0].size, np.float32)], axis=1)
    rest = 0.0
    for c in planes[1:]:
        coef, *_ = np.linalg.lstsq(design, c.ravel(), rcond=None)
        rest += float((c.ravel() - design @ coef).var())
    return float(np.sqrt(rest))


def _chroma_ncc(query: np.ndarray, ref: np.ndarray) -> float | None:
    """The weaker of the Cr and Cb correlations, or None when either side has no colour of its
    own (then colour cannot speak, and luma decides alone)."""
    if _own_chroma(query) < _RICH_CHROMA or _own_chroma(ref) < _RICH_CHROMA:
        return None
    return min(_ncc(query[1], ref[1]), _ncc(query[2], ref[2]))


def _windows(kind: str, k: float, q: np.ndarray, r: np.ndarray, y: int, x: int, shape) -> tuple[np.ndarray, np.ndarray]:
    """The aligned (query, reference) planes of a hypothesis, all three channels."""
    h, w = shape
    if kind == "crop":
        return np.stack([_resize(p, k) for p in q]), r[:, y : y + h, x : x + w]
    if kind == "pip":
        return q[:, y : y + h, x : x + w], np.stack([_resize(p, k) for p in r])
    return np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in q]), r  # stretch


def compare(query: Query, ref: Reference, threshold: float = 0.0) -> LayoutMatch | None:
    """The best hypothesis whose luma correlations reach ``threshold`` and whose colour, when
    both sides have colour of their own, agrees too (None if none does).

    Cells and colour are only scored for hypotheses that pass globally: that is what keeps a
    comparison at ~1 ms when nothing matches.
    """
    best: LayoutMatch | None = None
    rp, pips = ref.planes, ref.pips
    r = rp[0]
    for mirrored, (qp, crops) in enumerate(zip(query.planes, query.crops, strict=True)):
        q = qp[0]
        hyps = [("crop", k, r, t) for k, t in crops if t.shape[0] <= r.shape[0] and t.shape[1] <= r.shape[1]]
        hyps += [("pip", k, q, t) for k, t in pips if t.shape[0] <= q.shape[0] and t.shape[1] <= q.shape[1]]
        if q.shape != r.shape:  # an anamorphic squeeze: the whole query stretched onto the reference
            hyps.append(("stretch", 1.0, r, cv2.resize(q, (r.shape[1], r.shape[0]), interpolation=cv2.INTER_AREA)))
        for kind, k, image, template in hyps:
            scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
            y, x = np.unravel_index(int(scores.argmax()), scores.shape)
            g = float(scores[y, x])
            if g < threshold or (best is not None and g <= best.similarity):
                continue
            c = _cell_ncc(image[y : y + template.shape[0], x : x + template.shape[1]], template)
            sim = min(g, c)
            if sim < threshold or (best is not None and sim <= best.similarity):
                continue
            chroma = _chroma_ncc(*_windows(kind, k, qp, rp, int(y), int(x), template.shape))
            if chroma is not None and chroma < _MIN_CHROMA_NCC:
                continue  # the same light and shade in different colours: another picture
            best = LayoutMatch(sim, g, c, kind, k, bool(mirrored), chroma)
    return best


class LayoutFingerprint(Fingerprint):
    """A 64x36 Y/Cr/Cb thumbnail per frame (6912 bytes), matched by correlation, not Hamming."""

    name: ClassVar[str] = "layout"
    bits: ClassVar[int] = THUMB_BYTES * 8
    threshold: ClassVar[float] = 0.945  # global and per-cell luma correlation (colour must agree too)

    def __init__(self, *, strip_borders: bool = True) -> None:
        self.strip_borders = strip_borders

    def hash_frame(self, frame: np.ndarray) -> FrameCodes:
        if self.strip_borders:
            frame = remove_borders(frame)
        made = thumbnail(frame)
        if made is None:
            return FrameCodes.empty(self.name, self.nbytes)
        code, aspect = made
        return FrameCodes(
            self.name,
            code.reshape(1, -1),
            np.zeros(1, np.int32),
            np.zeros(1, np.int16),
            np.full(1, 100, np.int16),
            np.array([[aspect, 0.0]], np.float32),
        )

    @staticmethod
    def thumb(codes: FrameCodes, row: int = 0) -> Thumbnail:
        return Thumbnail.from_code(codes.codes[row], float(codes.points[row, 0]))

    def similarity(self, query: FrameCodes, ref: FrameCodes) -> float:
        """Best similarity over the colour-consistent hypotheses (0 when either frame is flat)."""
        if not len(query) or not len(ref):
            return 0.0
        found = compare(prepare_query(self.thumb(query)), prepare_reference(self.thumb(ref)), 0.0)
        return found.similarity if found else 0.0

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:  # type: ignore[override]
        """1 - similarity of two RGB frames (the base class's distance is over codes)."""
        return 1.0 - self.similarity(self.hash_frame(b), self.hash_frame(a))

    def matches(self, a: np.ndarray, b: np.ndarray) -> bool:
        return self.frames_match(a, b)

    def frames_match(self, a: np.ndarray, b: np.ndarray) -> bool:
        return self.similarity(self.hash_frame(b), self.hash_frame(a)) >= self.threshold
