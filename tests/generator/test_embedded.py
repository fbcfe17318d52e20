"""The embedded model loads through the public path, generates at the delivery size, reproduces."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generator import GenerationParameterError, GenerationRequest, default_model_path, describe_model

PROMPT = "a red circle moving right on a blue background"


def test_default_folder_names_the_embedded_pipeline():
    index = json.loads((default_model_path() / "model_index.json").read_text())
    assert index["_class_name"] == "ShapesVideoPipeline"
    assert (default_model_path() / "unet" / "diffusion_pytorch_model.safetensors").stat().st_size <= 50 * 2**20


def test_generates_frames_and_record(embedded):
    calls = []
    result = embedded(GenerationRequest(PROMPT, seed=3, steps=2, width=64, height=48),
                      progress=lambda step, total: calls.append((step, total)))
    assert result.frames.shape == (16, 48, 64, 3) and result.frames.dtype == np.uint8
    assert calls == [(1, 2), (2, 2)]
    record = result.record
    assert (record.pipeline_class, record.steps, record.seed, record.num_frames) == ("ShapesVideoPipeline", 2, 3, 16)
    assert (record.width, record.height, record.fps, record.device) == (64, 48, 8.0, "cpu")
    assert record.weights_digest == describe_model(None).weights_digest
    assert record.scheduler == "DDIMScheduler" and record.scheduler_config["prediction_type"] == "sample"


def test_default_delivery_size(embedded):
    result = embedded(GenerationRequest(PROMPT, steps=1), progress=False)
    assert result.frames.shape == (16, 512, 512, 3)


def test_same_seed_same_frames_other_seed_other_frames(embedded):
    ask = lambda seed: embedded(GenerationRequest(PROMPT, seed=seed, steps=2, width=32, height=32), progress=False)
    first, again, other = ask(7), ask(7), ask(8)
    assert np.array_equal(first.frames, again.frames)
    assert not np.array_equal(first.frames, other.frames)


def test_negative_prompt_changes_the_guidance(embedded):
    ask = lambda neg: embedded(GenerationRequest(PROMPT, steps=2, width=32, height=32, negative_prompt=neg),
                               progress=False).frames
    assert not np.array_equal(ask(None), ask("a green square"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [(dict(width=100, height=64), "divisible by 8 for ShapesVideoPipeline but are 64 and 100"), (dict(num_frames=24), "`num_frames` has to be 16")],
)
def test_sizes_the_model_cannot_produce(embedded, kwargs, message):
    with pytest.raises(GenerationParameterError, match=message):
        embedded(GenerationRequest(PROMPT, steps=1, **kwargs), progress=False)
