"""Requests validate their own fields; records are JSON-safe and cite what produced a clip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generator import GenerationParameterError, GenerationRequest, ModelRecord


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        (dict(prompt=""), "`prompt`"),
        (dict(prompt="x", seed=-1), "`seed`"),
        (dict(prompt="x", num_frames=0), "`num_frames`"),
        (dict(prompt="x", width=64.5), "`width`"),
        (dict(prompt="x", fps=0), "`fps`"),
        (dict(prompt="x", guidance=-1.0), "`guidance`"),
        (dict(prompt="x", strength=1.5), "`strength`"),
        (dict(prompt="x", image=np.zeros((4, 4), np.uint8)), "`image`"),
    ],
)
def test_bad_request_names_the_field(kwargs, names):
    with pytest.raises(GenerationParameterError, match=names):
        GenerationRequest(**kwargs)


def test_task_follows_the_source():
    frame = np.zeros((8, 8, 3), np.uint8)
    assert GenerationRequest("x").task == "text-to-video"
    assert GenerationRequest("x", image=frame).task == "image-to-video"
    assert GenerationRequest("x", video=frame[None]).task == "video-to-video"
    with pytest.raises(GenerationParameterError, match="not both"):
        GenerationRequest("x", image=frame, video=frame[None])


def test_record_round_trips_through_json():
    record = ModelRecord(
        pipeline_class="P", model_id="m", revision=None, weights_digest="0" * 64, scheduler="S",
        scheduler_config={"betas": (0.1, 0.2), "n": np.int64(3)}, steps=2, guidance=None, seed=1, width=8,
        height=8, num_frames=5, fps=8.0, device="cpu", dtype="float32", library_versions={"torch": "x"},
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["scheduler_config"] == {"betas": [0.1, 0.2], "n": 3}
    assert data["seed"] == 1 and data["task"] == "text-to-video"
