"""Image-to-video and video-to-video where the pipeline has the input; the source is recorded."""

from __future__ import annotations

import numpy as np

from generator import GenerationRequest, load_generator
from generator.base import source_digest

from .tiny import ltx, text_to_video_sd


def test_image_to_video_with_ltx(tmp_path):
    from diffusers import LTXImageToVideoPipeline

    pipe, kwargs = ltx(tmp_path)
    LTXImageToVideoPipeline(**pipe.components).save_pretrained(tmp_path / "i2v")
    gen = load_generator(tmp_path / "i2v")
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    result = gen(GenerationRequest("a red circle", image=image, **kwargs), progress=False)
    assert result.frames.shape[1:] == (32, 32, 3)
    assert result.record.task == "image-to-video" and result.record.source_sha256 == source_digest(image)


def test_video_to_video_with_text_to_video_sd_weights(tmp_path):
    from diffusers import VideoToVideoSDPipeline

    pipe, kwargs = text_to_video_sd(tmp_path)
    VideoToVideoSDPipeline(**pipe.components).save_pretrained(tmp_path / "v2v")
    gen = load_generator(tmp_path / "v2v")
    video = np.random.default_rng(1).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    kwargs = {k: v for k, v in kwargs.items() if k != "num_frames"}
    result = gen(GenerationRequest("a red circle", video=video, strength=0.6, **kwargs), progress=False)
    assert result.frames.shape == (4, 32, 32, 3)
    assert result.record.task == "video-to-video" and result.record.source_sha256 == source_digest(video)
