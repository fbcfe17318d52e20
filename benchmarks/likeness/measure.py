"""Measurements of the likeness benchmark: photo-pair distances, per-sample distance tables of
clips, and the clip-level decision for any (threshold, frames to agree, sampling interval)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detectors.faces import FaceBox, FaceEmbedder
from detectors.video_io import read_image
from likeness.clips import attack, read_video, render_pan

__all__ = ["Split", "load_split", "photo_pairs", "ClipRun", "scan_clips", "evaluate", "BASE_INTERVAL_S"]

BASE_INTERVAL_S = 0.5  # clips are sampled this often; coarser intervals are subsets of it
PHOTO_MAX_PIXELS = 50_000_000


@dataclass
class Split:
    name: str
    note: str
    enrolled: dict[str, dict[str, list[str]]]
    impostors: dict[str, list[str]]
    negative_videos: list[str]
    video_people: dict[str, dict[str, object]]


def load_split(path: Path) -> Split:
    data = json.loads(path.read_text())
    return Split(
        data["split"],
        data["note"],
        data["enrolled"],
        data["impostors"],
        data["negative_videos"],
        data.get("video_people", {}),
    )


def _largest_face(embedder: FaceEmbedder, path: Path) -> np.ndarray | None:
    faces = embedder.faces(read_image(path, max_pixels=PHOTO_MAX_PIXELS))
    if not faces:
        return None
    return max(faces, key=lambda f: f.box.width * f.box.height).descriptor


def photo_pairs(split: Split, root: Path, embedder: FaceEmbedder) -> dict[str, object]:
    """Every same-person and different-person pair of the split's photos: their distances."""
    photos: list[tuple[str, str]] = []
    for person, entry in split.enrolled.items():
        photos += [(person, p) for p in entry["enrol"] + entry["probe"]]
    for person, paths in split.impostors.items():
        photos += [(person, p) for p in paths]
    described, failed = [], []
    for person, rel in photos:
        vec = _largest_face(embedder, root / rel)
        (described.append((person, vec)) if vec is not None else failed.append(rel))
    same, different = [], []
    for (pa, va), (pb, vb) in itertools.combinations(described, 2):
        (same if pa == pb else different).append(float(np.linalg.norm(va - vb)))
    return {"photos": len(photos), "no_face": failed, "same": np.array(same), "different": np.array(different)}


@dataclass
class ClipRun:
    """One clip under one attack: per sampled frame, the distance to each enrolled person."""

    source: str
    truth: str | None  # the enrolled person shown, None for a negative clip
    kind: str  # "pan" | "video"
    attack: str
    fps: float
    frames: int
    distances: np.ndarray  # (samples, people): min over the frame's faces; inf without a face
    faces: list[int] = field(default_factory=list)
    seconds: float = 0.0
    face_boxes: list[list[FaceBox]] = field(default_factory=list)  # per sample
    face_dists: list[np.ndarray] = field(default_factory=list)  # per sample: (faces, people)


def _sampled_distances(
    frames: np.ndarray, fps: float, embedder: FaceEmbedder, gallery: np.ndarray, owners: np.ndarray, people: int
) -> tuple[np.ndarray, list[int], list[list[FaceBox]], list[np.ndarray]]:
    """Per sampled frame: the distance to each person (min over faces), the face count, the boxes and
    each face's distance to each person (what ``evaluate`` needs to replay the gate's tracking)."""
    from detectors.faces import SamplingConfig, sample_frames

    every = max(1, round(fps * BASE_INTERVAL_S))
    rows, faces_per, boxes_per, dists_per = [], [], [], []
    for _index, frame in sample_frames(frames, SamplingConfig(every=every, scene_threshold=255.0)):
        faces = embedder.faces(frame)
        per_face = np.full((len(faces), people), np.inf)
        for i, face in enumerate(faces):
            d = np.linalg.norm(gallery - face.descriptor[None, :], axis=1)
            np.minimum.at(per_face[i], owners, d)
        rows.append(per_face.min(axis=0) if len(faces) else np.full(people, np.inf))
        faces_per.append(len(faces))
        boxes_per.append([face.box for face in faces])
        dists_per.append(per_face)
    return np.array(rows).reshape(len(rows), people), faces_per, boxes_per, dists_per


def _gate_hits(run: ClipRun, names: list[str], stride: int, threshold: float, min_frames: int) -> np.ndarray:
    """(samples, people) matches as the gate finds them: a face that continues a face matched only to
    confirmed people is not described (``detectors.faces.clips.continued_match``, the product's rule)."""
    from detectors.faces import continued_match

    confirmed: set[str] = set()
    counts = np.zeros(len(names), dtype=np.int64)
    previous: list = []
    rows = []
    for boxes, dist in zip(run.face_boxes[::stride], run.face_dists[::stride], strict=True):
        hit = np.zeros(len(names), dtype=bool)
        current = []
        for box, d in zip(boxes, dist, strict=True):
            carried = continued_match(box, previous, confirmed)
            if carried is None:
                carried = frozenset(names[j] for j in np.flatnonzero(d <= threshold))
                hit |= d <= threshold
            current.append((box, carried))
        counts += hit
        confirmed |= {names[j] for j in np.flatnonzero(counts >= min_frames)}
        previous = current
        rows.append(hit)
    return np.array(rows, dtype=bool).reshape(len(rows), len(names))


def scan_clips(
    split: Split, root: Path, embedder: FaceEmbedder, attacks: list[str], progress=print
) -> tuple[list[str], list[ClipRun]]:
    """Enrol the split's people from their enrolment photos, then scan every clip under every attack."""
    import time

    names = sorted([*split.enrolled, *split.video_people])
    vectors, owners = [], []
    for i, person in enumerate(names):
        if person in split.video_people:
            entry = split.video_people[person]
            frame = read_video(root / str(entry["video"]), seconds=0.04, start_s=float(entry["enrol_at_s"]))[0][0]
            vectors.append(embedder.single_face(frame, what=f"{entry['video']} frame").descriptor)
            owners.append(i)
            continue
        for rel in split.enrolled[person]["enrol"]:
            image = read_image(root / rel, max_pixels=PHOTO_MAX_PIXELS)
            vectors.append(embedder.single_face(image, what=rel).descriptor)
            owners.append(i)
    gallery, owner_idx = np.stack(vectors), np.array(owners)
    sources: list[tuple[str, str | None, str, float]] = []
    for person in sorted(split.enrolled):
        sources += [(rel, person, "pan", 0.0) for rel in split.enrolled[person]["probe"]]
    for person, entry in sorted(split.video_people.items()):
        sources.append((str(entry["video"]), person, "video", float(entry["scan_from_s"])))
    for paths in split.impostors.values():
        sources += [(rel, None, "pan", 0.0) for rel in paths]
    sources += [(rel, None, "video", 0.0) for rel in split.negative_videos]
    runs = []
    for rel, truth, kind, start in sources:
        if kind == "pan":
            base, fps = render_pan(root / rel, max_pixels=PHOTO_MAX_PIXELS), 24.0
        else:
            base, fps = read_video(root / rel, start_s=start)
        for name in attacks:
            started = time.perf_counter()
            frames = attack(name, base, fps)
            dist, faces, boxes, dists = _sampled_distances(frames, fps, embedder, gallery, owner_idx, len(names))
            seconds = time.perf_counter() - started
            runs.append(ClipRun(rel, truth, kind, name, fps, len(frames), dist, faces, seconds, boxes, dists))
        progress(f"  {split.name}: {rel} ({'enrolled ' + truth if truth else 'not enrolled'}) x{len(attacks)}")
    return names, runs


def evaluate(
    names: list[str],
    runs: list[ClipRun],
    *,
    threshold: float,
    min_frames: int,
    interval_s: float,
    skip_confirmed: bool = False,
) -> dict[str, object]:
    """Clip-level recall of enrolled people and false matches per clip for one configuration
    (``skip_confirmed``: as the gate decides, not describing faces of confirmed people)."""
    stride = max(1, round(interval_s / BASE_INTERVAL_S))
    hits, positives, false_clips, negatives, per_attack = 0, 0, 0, 0, {}
    false_list, misses = [], []
    for run in runs:
        d = run.distances[::stride]
        need = max(1, min(min_frames, len(d)))
        hits_at = _gate_hits(run, names, stride, threshold, min_frames) if skip_confirmed else d <= threshold
        present = {names[j] for j in range(len(names)) if int(hits_at[:, j].sum()) >= need} if len(d) else set()
        wrong = present - {run.truth} if run.truth else present
        stats = per_attack.setdefault(run.attack, {"hits": 0, "positives": 0, "false": 0, "clips": 0})
        stats["clips"] += 1
        if run.truth is not None:
            positives += 1
            stats["positives"] += 1
            if run.truth in present:
                hits += 1
                stats["hits"] += 1
            else:
                col = d[:, names.index(run.truth)] if len(d) else np.array([])
                faces = sum(1 for n in run.faces[::stride] if n)
                misses.append(
                    f"{run.source} [{run.attack}]: matched in {int(hits_at[:, names.index(run.truth)].sum())} of {len(d)} "
                    f"sampled frames (a face found in {faces}; best distance {float(col.min()):.3f})"
                )
        else:
            negatives += 1
        if wrong:
            false_clips += 1
            stats["false"] += 1
            false_list.append(f"{run.source} [{run.attack}] -> {', '.join(sorted(wrong))}")
    return {
        "threshold": threshold,
        "min_frames": min_frames,
        "interval_s": interval_s,
        "skip_confirmed": skip_confirmed,
        "recall": hits / positives if positives else float("nan"),
        "hits": hits,
        "positives": positives,
        "false_match_clips": false_clips,
        "clips": len(runs),
        "negative_clips": negatives,
        "per_attack": per_attack,
        "false_matches": false_list,
        "misses": misses,
    }
