"""Reference media through the generator: the embedded model's image / video conditioning and
the concise refusals of pipelines that cannot take a reference."""

from __future__ import annotations

import numpy as np
import pytest

from generator import GenerationParameterError, GenerationRequest

PROMPT = "a red circle moving right on a blue background"


def _ask(embedded, **kwargs):
    return embedded(GenerationRequest(PROMPT, seed=1, steps=4, width=32, height=32, **kwargs), progress=False)


def test_low_strength_keeps_the_reference_image(embedded):
    green = np.zeros((48, 64, 3), np.uint8)
    green[..., 1] = 220
    result = _ask(embedded, image=green, strength=0.25)
    mean = result.frames.reshape(-1, 3).mean(axis=0)
    assert mean[1] > 150 and mean[0] < 80 and mean[2] < 80, mean  # still green, on every frame
    assert result.record.task == "image-to-video" and result.record.source_sha256 is not None


def test_the_reference_changes_the_clip_and_reproduces(embedded):
    still = np.full((32, 32, 3), 200, np.uint8)
    plain = _ask(embedded).frames
    first = _ask(embedded, image=still, strength=0.75).frames
    again = _ask(embedded, image=still, strength=0.75).frames
    assert np.array_equal(first, again)
    assert not np.array_equal(first, plain)


def test_a_reference_video_is_sampled_over_the_clip_in_order(embedded):
    clip = np.zeros((4, 40, 40, 3), np.uint8)
    clip[:2, ..., 1] = 255  # green first half, black second half
    conditioning = embedded.pipeline._reference(None, list(clip), 16)  # (1, 3F, S, S) in [-1, 1]
    green = conditioning.reshape(16, 3, 32, 32)[:, 1].mean(dim=(1, 2))
    assert green[:8].min() > 0.99 and green[8:].max() < -0.99


def test_a_reference_video_steers_the_clip(embedded):
    green, grey = np.zeros((4, 40, 40, 3), np.uint8), np.full((4, 40, 40, 3), 128, np.uint8)
    green[..., 1] = 230

    def tint(frames):
        return float(frames[..., 1].mean() - frames[..., [0, 2]].mean())

    result = _ask(embedded, video=green, strength=0.25)
    assert tint(result.frames) > tint(_ask(embedded, video=grey, strength=0.25).frames) + 50
    assert result.record.task == "video-to-video"


def test_strength_too_small_for_the_steps_is_explained(embedded):
    with pytest.raises(GenerationParameterError, match="leaves no step to run"):
        _ask(embedded, image=np.zeros((32, 32, 3), np.uint8), strength=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(image=np.zeros((8, 8, 3), np.float32)), "uint8"),
        (dict(video=np.zeros((0, 8, 8, 3), np.uint8)), "non-empty"),
    ],
)
def test_bad_reference_arrays_are_refused_before_the_model(kwargs, message):
    with pytest.raises(GenerationParameterError, match=message):
        GenerationRequest(PROMPT, **kwargs)


def test_progress_ends_at_the_total_when_strength_skips_steps(embedded):
    calls = []
    embedded(GenerationRequest(PROMPT, steps=4, width=32, height=32, image=np.zeros((8, 8, 3), np.uint8),
                               strength=0.5), progress=lambda step, total: calls.append((step, total)))
    assert calls == [(3, 4), (4, 4)]  # two steps run, the first two skipped by strength 0.5


# -- real diffusers pipelines that take a reference (tiny, random, built offline) ---------------


def _saved(tmp_path, build, cls_name):
    import diffusers

    from generator import load_generator

    pipe, kwargs = build(tmp_path)
    pipe = getattr(diffusers, cls_name)(**pipe.components)  # same components, the reference variant
    pipe.save_pretrained(tmp_path / "model")
    return load_generator(tmp_path / "model", local_files_only=True), kwargs


def test_an_image_to_video_pipeline_gets_the_image(tmp_path):
    from .tiny import ltx

    gen, kwargs = _saved(tmp_path, ltx, "LTXImageToVideoPipeline")
    dark, light = np.zeros((kwargs["height"], kwargs["width"], 3), np.uint8), np.full(
        (kwargs["height"], kwargs["width"], 3), 255, np.uint8)
    first = gen(GenerationRequest("a red circle", seed=2, image=dark, **kwargs), progress=False)
    other = gen(GenerationRequest("a red circle", seed=2, image=light, **kwargs), progress=False)
    assert first.record.pipeline_class == "LTXImageToVideoPipeline" and first.record.task == "image-to-video"
    assert first.record.source_sha256 != other.record.source_sha256
    assert not np.array_equal(first.frames, other.frames)  # the image reached the model
    with pytest.raises(GenerationParameterError, match="cannot do video-to-video"):
        gen(GenerationRequest("a red circle", video=dark[None], **kwargs), progress=False)


def test_a_video_to_video_pipeline_gets_the_clip(tmp_path):
    from .tiny import cogvideox

    gen, kwargs = _saved(tmp_path, cogvideox, "CogVideoXVideoToVideoPipeline")
    frames = kwargs.get("num_frames") or 9
    clip = np.zeros((frames, kwargs["height"], kwargs["width"], 3), np.uint8)
    bright = clip + 200
    kw = {k: v for k, v in kwargs.items() if k != "num_frames"}  # the clip sets the length
    first = gen(GenerationRequest("a red circle", seed=2, video=clip, strength=0.8, **kw), progress=False)
    other = gen(GenerationRequest("a red circle", seed=2, video=bright, strength=0.8, **kw), progress=False)
    assert first.record.task == "video-to-video" and first.frames.ndim == 4
    assert not np.array_equal(first.frames, other.frames)
