"""``reelguard watermark embed`` / ``detect`` end to end on a real H.264 file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from detectors.video_io import probe, write_video
from governance.service.cli.watermark import app
from tests.detectors.test_watermark_support import panning_clip

runner = CliRunner()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    return tmp_path


def test_help_lists_both_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "embed" in result.output and "detect" in result.output


def test_embed_then_detect(home):
    source = home / "in.mp4"
    write_video(source, panning_clip(5, frames=24, height=288, width=512), fps=24, crf=16)
    out = home / "out.mp4"
    result = runner.invoke(app, ["embed", str(source), str(out), "--payload", "00112233445566ff", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["payload"] == "00112233445566ff" and summary["frames"] == 24 and summary["psnr_db"] >= 42
    assert probe(out).frame_count == 24

    refused = runner.invoke(app, ["embed", str(source), str(out)])
    assert refused.exit_code == 15 and "--force" in refused.output
    forced = runner.invoke(app, ["embed", str(source), str(out), "--force", "--payload", "00112233445566ff"])
    assert forced.exit_code == 0, forced.output

    found = runner.invoke(app, ["detect", str(out), "--json"])
    assert found.exit_code == 0, found.output
    doc = json.loads(found.output)
    assert doc["detected"] is True and doc["payload"] == "00112233445566ff"
    assert doc["p_value"] <= 1e-6 and doc["frames_used"] == 24 and len(doc["bit_confidence"]) == 64

    clean = runner.invoke(app, ["detect", str(source)])
    assert clean.exit_code == 0 and "no reelguard.ss.v1 watermark found" in clean.output


def test_bad_payload_and_missing_input_are_clear_errors(home):
    bad = runner.invoke(app, ["embed", str(home / "nope.mp4"), str(home / "o.mp4"), "--payload", "xyz"])
    assert bad.exit_code == 2 and "hexadecimal" in bad.output
    missing = runner.invoke(app, ["detect", str(home / "nope.mp4")])
    assert missing.exit_code == 21 and "no such file" in missing.output


def _clip_with_audio(path, frames, fps=24):
    """An H.264 + AAC MP4 with a title tag, written with PyAV (a tone on the audio track)."""
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4") as container:
        container.metadata["title"] = "tone and pan"
        video = container.add_stream("libx264", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "20"}
        audio = container.add_stream("aac", rate=48000)
        audio.layout = "mono"
        audio.metadata["language"] = "fra"
        t = np.arange(48000 * len(frames) // fps) / 48000.0
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            for packet in audio.encode(chunk):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
        for frame in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    return path


def _audio_packets(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        language = stream.metadata.get("language")
        return [bytes(p) for p in container.demux(stream) if p.size], language, container.metadata.get("title")


def test_embed_keeps_audio_untouched_and_the_bitrate_comparable(home):
    source = _clip_with_audio(home / "with_audio.mp4", panning_clip(2, frames=48, height=288, width=512))
    out = home / "marked.mp4"
    result = runner.invoke(app, ["embed", str(source), str(out), "--payload", "0011223344556677", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["streams_kept"] == ["audio:aac"] and summary["streams_dropped"] == []
    before, after = _audio_packets(source), _audio_packets(out)
    assert after[0] == before[0] and len(after[0]) > 20  # every audio packet copied byte for byte
    assert after[1] == "fra" and after[2] == "tone and pan"  # stream and container metadata kept
    # The CRF follows the source's bitrate instead of a fixed 18 (which nearly tripled real clips).
    assert summary["crf_chosen"] and 16 <= summary["crf"] <= 30
    assert summary["output_video_bps"] <= 1.25 * summary["source_video_bps"]
    found = runner.invoke(app, ["detect", str(out), "--json"])
    assert json.loads(found.output)["payload"] == "0011223344556677"
