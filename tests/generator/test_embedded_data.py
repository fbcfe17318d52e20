"""The procedural data and the evaluation's image analysis (checked on ground-truth renders)."""

from __future__ import annotations

import cv2
import numpy as np

from generator.embedded import data
from generator.embedded.evaluate import analyse_clip, eval_scenes


def test_heldout_combinations_never_reach_training():
    train, held = set(data.train_scenes()), set(data.heldout_scenes())
    assert not train & held and train | held == set(data.all_scenes())
    for attr in ("fg", "shape", "motion", "bg"):  # each single value is still taught
        assert {getattr(s, attr) for s in train} == {getattr(s, attr) for s in data.all_scenes()}
    seen, unseen = eval_scenes(16)
    assert set(seen) <= train and set(unseen) <= held


def test_analysis_reads_back_what_was_rendered():
    rng = np.random.default_rng(0)
    scores = [analyse_clip(data.sample_clip(s, rng)).score(s) for s in data.all_scenes()]
    for attr in ("fg", "bg", "motion"):
        assert all(s[attr] for s in scores), attr
    assert np.mean([s["shape"] for s in scores]) > 0.95


def test_analysis_works_at_delivery_size_and_on_empty_clips():
    scene = data.Scene("yellow", "square", "up", "black")
    clip = data.sample_clip(scene, np.random.default_rng(1))
    big = np.stack([cv2.resize(f, (256, 256), interpolation=cv2.INTER_CUBIC) for f in clip])
    assert all(analyse_clip(big).score(scene).values())
    empty = analyse_clip(np.full((16, 32, 32, 3), 30, np.uint8))
    assert empty.fg is None and empty.motion is None
