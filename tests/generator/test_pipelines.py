"""Tiny random Wan, CogVideoX, LTX, Mochi, HunyuanVideo, AnimateDiff and TextToVideoSD pipelines: build offline, save, reload through
the public path with local_files_only=True, generate, reproduce; bad sizes and frame counts are
refused before any compute."""

from __future__ import annotations

import numpy as np
import pytest

from generator import GenerationParameterError, GenerationRequest, load_generator

from .tiny import BUILDERS


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def saved(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    pipe, kwargs = BUILDERS[request.param](root)
    pipe.save_pretrained(root / "model")
    return request.param, load_generator(root / "model", local_files_only=True), kwargs


def test_generates_and_reproduces(saved):
    name, gen, kwargs = saved
    calls = []
    first = gen(GenerationRequest("a red circle", seed=1, **kwargs), progress=lambda s, t: calls.append(s))
    again = gen(GenerationRequest("a red circle", seed=1, **kwargs), progress=False)
    frames = first.frames
    assert frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3
    assert frames.shape[1:3] == (kwargs["height"], kwargs["width"])
    assert np.array_equal(frames, again.frames)
    assert calls == list(range(1, kwargs["steps"] + 1))
    record = first.record
    assert record.pipeline_class == type(gen.pipeline).__name__ and record.num_frames == frames.shape[0]
    assert len(record.weights_digest) == 64 and record.library_versions["diffusers"]


def test_size_not_divisible_is_refused(saved):
    name, gen, kwargs = saved
    bad = dict(kwargs, height=kwargs["height"] + 4)
    with pytest.raises(GenerationParameterError, match="`height` and `width` have to be divisible by"):
        gen(GenerationRequest("a red circle", **bad), progress=False)


def test_frame_count_rule(saved):
    name, gen, kwargs = saved
    if name not in ("wan", "cogvideox", "ltx", "mochi", "hunyuan"):
        pytest.skip("no temporal compression: any frame count works")
    with pytest.raises(GenerationParameterError, match=r"`num_frames` has to be of the form \d+k\+1"):
        gen(GenerationRequest("a red circle", **dict(kwargs, num_frames=kwargs["num_frames"] + 1)), progress=False)


def test_image_to_video_needs_an_i2v_pipeline(saved):
    name, gen, kwargs = saved
    image = np.zeros((kwargs["height"], kwargs["width"], 3), np.uint8)
    with pytest.raises(GenerationParameterError, match="cannot do image-to-video"):
        gen(GenerationRequest("a red circle", image=image, **kwargs), progress=False)


def test_mochi_needs_two_steps(saved):
    name, gen, kwargs = saved
    if name != "mochi":
        pytest.skip("only Mochi has a minimum step count")
    with pytest.raises(GenerationParameterError, match="`steps` has to be at least 2 for MochiPipeline but is 1"):
        gen(GenerationRequest("a red circle", **dict(kwargs, steps=1)), progress=False)
