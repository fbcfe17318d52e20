"""Hostile media through every entry that reads it: truncations, bit flips, box-size edits,
decompression bombs. The answer is always a result or a ReelGuard error, never a crash.

The corpus is generated here from tiny valid files (an MP4 and a MOV from ``make_clip``, PNG,
JPEG and WebP from ``cv2.imencode``, a WAV from ``wave``) with ``random.Random(seed)``, so every
run sees the same mutants; Hypothesis runs derandomized with bounded examples. The whole module
runs in about 25 s on two shared cores (see docs/robustness.md). Memory is measured in child processes
(``ru_maxrss`` after minus before the hostile call; see ``_peak_in_child``).
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest

from detectors.errors import MediaError

ROOT = Path(__file__).resolve().parents[1]
ONE_GB = 1 << 30
# BMFF boxes whose payload is a list of boxes; stsd holds sample entries after 8 bytes.
_CONTAINERS = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"dinf": 0, b"edts": 0,
               b"udta": 0, b"stsd": 8, b"avc1": 78, b"mp4v": 78}
# Tables with a 32-bit entry count after version/flags (stsz: after the constant size too).
_COUNTED = {b"stts": 12, b"stsc": 12, b"stco": 12, b"co64": 12, b"stss": 12, b"ctts": 12, b"stsz": 16,
            b"stsd": 12, b"elst": 12, b"dref": 12}


# -- seeds -----------------------------------------------------------------------------------

def _clip_bytes(tmp: Path, fmt: str) -> bytes:
    import av

    from tests.c2pa_ts.support import make_clip

    src = make_clip(tmp / "seed.mp4", frames=4, size=96)  # 96: the watermark's smallest frame
    if fmt == "mp4":
        return src.read_bytes()
    dst = tmp / "seed.mov"
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mov") as target:
        out = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                target.mux(packet)
    return dst.read_bytes()


def _image_bytes(ext: str) -> bytes:
    import cv2

    rng = np.random.default_rng(7)
    picture = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(ext, picture)
    assert ok
    return encoded.tobytes()


def _wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.arange(800, dtype=np.int16).tobytes())
    return buffer.getvalue()


SUFFIX = {"mp4": ".mp4", "mov": ".mov", "png": ".png", "jpeg": ".jpg", "webp": ".webp", "wav": ".wav"}


def seeds(tmp: Path) -> dict[str, bytes]:
    """One small valid file per format."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {"mp4": _clip_bytes(tmp, "mp4"), "mov": _clip_bytes(tmp, "mov"), "png": _image_bytes(".png"),
            "jpeg": _image_bytes(".jpg"), "webp": _image_bytes(".webp"), "wav": _wav_bytes()}


# -- mutations -------------------------------------------------------------------------------

def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of every ISO BMFF box, descending into the container boxes."""
    end = len(data) if end is None else end
    found, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size < 8 or pos + size > end:
            break
        found.append((pos, size, kind))
        if kind in _CONTAINERS:
            found += boxes(data, pos + 8 + _CONTAINERS[kind], pos + size)
        pos += size
    return found


def box_edits(data: bytes) -> list[bytes]:
    """Each box's size set to values that lie (0, 1, 7, one off, 2^32-1) and each table's entry
    count set to 2^32-1 or 2^31: the edits that crashed ``probe`` (stsd, stbl, minf, ...)."""
    out = []
    for offset, size, kind in boxes(data):
        for new in (0, 1, 7, size - 1, size + 1, 0xFFFFFFFF):
            mutant = bytearray(data)
            struct.pack_into(">I", mutant, offset, new & 0xFFFFFFFF)
            out.append(bytes(mutant))
        if kind in _COUNTED and offset + _COUNTED[kind] + 4 <= offset + size:
            for new in (0xFFFFFFFF, 0x80000000):
                mutant = bytearray(data)
                struct.pack_into(">I", mutant, offset + _COUNTED[kind], new)
                out.append(bytes(mutant))
    return out


def truncations(data: bytes, rng: random.Random, n: int) -> list[bytes]:
    cuts = {1, 8, 16, len(data) // 2, len(data) - 1} | {rng.randrange(1, len(data)) for _ in range(n)}
    return [data[:cut] for cut in sorted(cuts) if 0 < cut < len(data)]


def bit_flips(data: bytes, rng: random.Random, n: int, *, region: tuple[int, int] | None = None) -> list[bytes]:
    lo, hi = region or (0, len(data))
    out = []
    for _ in range(n):
        mutant = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 8))):
            mutant[rng.randrange(lo, hi)] ^= 1 << rng.randrange(8)
        out.append(bytes(mutant))
    return out


def corpus(seed_files: dict[str, bytes], *, seed: int = 20, flips: int = 12, cuts: int = 6,
           every_box: int = 1) -> list[tuple[str, str, bytes]]:
    """(format, mutation label, bytes): the deterministic mutants of every seed."""
    rng = random.Random(seed)
    out: list[tuple[str, str, bytes]] = []
    for fmt, data in seed_files.items():
        out += [(fmt, f"truncate#{i}", m) for i, m in enumerate(truncations(data, rng, cuts))]
        out += [(fmt, f"flip#{i}", m) for i, m in enumerate(bit_flips(data, rng, flips))]
        if fmt in ("mp4", "mov"):
            moov = next((o, s) for o, s, k in boxes(data) if k == b"moov")
            out += [(fmt, f"moov-flip#{i}", m)
                    for i, m in enumerate(bit_flips(data, rng, flips, region=(moov[0], moov[0] + moov[1])))]
            out += [(fmt, f"box#{i}", m) for i, m in enumerate(box_edits(data)) if i % every_box == 0]
    return out


# -- bombs -----------------------------------------------------------------------------------

def jpeg_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A ~600-byte JPEG whose frame header declares ``width`` x ``height``."""
    data = bytearray(_image_bytes(".jpg"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def deflate_zeros(total: int) -> bytes:
    """A zlib stream inflating to ``total`` zero bytes, built in milliseconds: a full flush resets
    the compressor, so every 1 MiB of zeros compresses to the same block, repeated; the Adler-32
    of n zeros is ((n mod 65521) << 16) | 1."""
    chunk = 1 << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(total, chunk)
    tail = comp.compress(bytes(rest)) + comp.flush()
    return b"\x78\xda" + block * count + tail + (((total % 65521) << 16) | 1).to_bytes(4, "big")


def png_bomb(width: int = 32000, height: int = 32000, *, rows: int | None = 64) -> bytes:
    """A grayscale PNG declaring ``width`` x ``height``; its IDAT is a zlib bomb of ``rows`` rows
    of zeros (all of them when ``rows`` is None: 32000^2 is ~1 MB inflating to 1 GB)."""
    body = deflate_zeros((width + 1) * (height if rows is None else rows))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def webp_bomb() -> bytes:
    """A WebP whose VP8X canvas declares 16384 x 16384."""
    body = b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBP" + b"VP8X" + struct.pack("<I", len(body)) + body


def _peak_in_child(code: str, *, timeout: float = 120) -> dict:
    """Run ``code`` in a fresh interpreter and return its JSON result. The child measures its own
    peak resident memory as ``ru_maxrss`` after the hostile call minus ``ru_maxrss`` before it
    (Linux: KiB), so imports and fixtures are not counted; ``peak_mb`` is that delta."""
    wrapper = (
        "import json, resource, sys\n"
        "def _rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        + code
    )
    done = subprocess.run([sys.executable, "-c", wrapper], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- tests -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_files(tmp_path_factory) -> dict[str, bytes]:
    return seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def mutants(seed_files) -> list[tuple[str, str, bytes]]:
    return corpus(seed_files)


def _write(folder: Path, i: int, fmt: str, data: bytes) -> Path:
    path = folder / f"m{i:04d}{SUFFIX[fmt]}"
    path.write_bytes(data)
    return path


def test_corpus_is_deterministic_and_covers_every_format(seed_files, mutants):
    """The same seed gives the same mutants; every format and mutation kind is represented."""
    again = corpus(seed_files)
    assert [m[2] for m in again] == [m[2] for m in mutants]
    kinds = {(fmt, label.split("#")[0]) for fmt, label, _ in mutants}
    for fmt in SUFFIX:
        assert (fmt, "truncate") in kinds and (fmt, "flip") in kinds
    assert ("mp4", "box") in kinds and ("mov", "moov-flip") in kinds
    assert len(mutants) > 300


def test_probe_and_read_frames_answer_media_error_or_frames(tmp_path, mutants):
    """``probe`` and ``read_frames`` on every mutant: frames, or MediaError; nothing else."""
    from detectors.video_io import probe, read_frames

    outcomes = {"ok": 0, "refused": 0}
    for i, (fmt, label, data) in enumerate(mutants):
        path = _write(tmp_path, i, fmt, data)
        try:
            if fmt in ("mp4", "mov"):
                probe(path, frame_limit=10_000)
            frames = list(read_frames(path, max_frames=8, frame_limit=10_000))
            assert frames and all(f.ndim == 3 and f.dtype == np.uint8 for f in frames), (fmt, label)
            outcomes["ok"] += 1
        except MediaError:
            outcomes["refused"] += 1
        finally:
            path.unlink()
    assert outcomes["ok"] and outcomes["refused"], outcomes


def test_header_sizes_match_what_opencv_decodes(seed_files):
    """The header readers agree with the decoder on every valid seed image."""
    import cv2

    from detectors.media_limits import image_header

    for fmt in ("png", "jpeg", "webp"):
        header = image_header(seed_files[fmt])
        decoded = cv2.imdecode(np.frombuffer(seed_files[fmt], np.uint8), cv2.IMREAD_COLOR)
        assert (header.width, header.height) == (decoded.shape[1], decoded.shape[0]), fmt
    for ext in (".bmp", ".tif", ".gif"):
        try:
            ok, encoded = cv2.imencode(ext, np.zeros((5, 9, 3), np.uint8))
        except cv2.error:  # no GIF encoder in this OpenCV build
            continue
        header = image_header(encoded.tobytes())
        assert header is not None and (header.width, header.height) == (9, 5), ext


@pytest.mark.parametrize("bomb", ["jpeg", "png", "webp"])
def test_bombs_are_refused_from_the_header(tmp_path, bomb):
    """A tiny file declaring a huge picture is refused (MediaTooLargeError, a MediaError) before
    any decode, and the message names the declared size."""
    from detectors.errors import MediaTooLargeError
    from detectors.video_io import read_frames, read_image

    data, ext, size = {"jpeg": (jpeg_bomb(), ".jpg", "30000x30000"), "png": (png_bomb(), ".png", "32000x32000"),
                       "webp": (webp_bomb(), ".webp", "16384x16384")}[bomb]
    path = tmp_path / f"bomb{ext}"
    path.write_bytes(data)
    for call in (lambda: read_image(path), lambda: list(read_frames(path))):
        with pytest.raises(MediaTooLargeError, match=size):
            call()


def test_bomb_peak_memory_is_bounded_in_a_child_process(tmp_path):
    """The 30000^2 JPEG and the 32000^2 PNG zlib bomb (1 MB inflating to 1 GB of samples, 3 GB
    as BGR) through ``read_image`` in a fresh interpreter: peak RSS delta (``ru_maxrss`` after
    minus before, KiB) stays under 1 GB; before the header check it was 5.2 and 5.9 GB."""
    jpeg, png = tmp_path / "bomb.jpg", tmp_path / "bomb.png"
    jpeg.write_bytes(jpeg_bomb())
    png.write_bytes(png_bomb(rows=None))
    result = _peak_in_child(
        "from detectors.video_io import read_image\n"
        "from detectors.errors import MediaError\n"
        "out = {}\n"
        f"for p in ({str(jpeg)!r}, {str(png)!r}):\n"
        "    before = _rss()\n"
        "    try:\n"
        "        read_image(p); out[p] = 'decoded'\n"
        "    except MediaError as exc:\n"
        "        out[p] = type(exc).__name__\n"
        "    out[p + ':peak_mb'] = (_rss() - before) / 1024\n"
        "print(json.dumps(out))\n"
    )
    for path in (jpeg, png):
        assert result[str(path)] == "MediaTooLargeError", result
        assert result[f"{path}:peak_mb"] < 1024, result


def test_video_declaring_too_many_frames_is_refused(tmp_path, seed_files):
    """``frame_limit`` refuses from the stream's metadata (probe) and while decoding."""
    from detectors.errors import MediaTooLargeError
    from detectors.video_io import probe, read_frames

    path = tmp_path / "clip.mp4"
    path.write_bytes(seed_files["mp4"])
    with pytest.raises(MediaTooLargeError, match="4 frames"):
        probe(path, frame_limit=3)
    with pytest.raises(MediaTooLargeError):
        list(read_frames(path, frame_limit=3))
    assert probe(path, frame_limit=4).frame_count == 4
    with pytest.raises(MediaTooLargeError, match="96x96"):
        probe(path, max_pixels=96 * 95)


# -- the flows and the CLI -------------------------------------------------------------------

@pytest.fixture(scope="module")
def flow_ctx(tmp_path_factory):
    from governance.core.settings import get_settings
    from governance.flows import FlowContext

    settings = get_settings(home=tmp_path_factory.mktemp("fuzz-home"))
    settings.ensure_dirs()
    return FlowContext(settings, semantic_policy=False)


def sample(mutants, per_group: int) -> list[tuple[str, str, bytes]]:
    """Up to ``per_group`` mutants of every (format, mutation kind), spread over the group: the
    slow entries (whole flows, the CLI, the API) see every kind while the corpus stays large."""
    groups: dict[tuple[str, str], list] = {}
    for m in mutants:
        groups.setdefault((m[0], m[1].split("#")[0]), []).append(m)
    out = []
    for members in groups.values():
        stride = max(1, len(members) // per_group)
        out += members[::stride][:per_group]
    return out


def test_verify_flow_answers_a_report_or_a_reelguard_error(tmp_path, flow_ctx, mutants):
    """``verify`` (all stages, and C2PA only) on a sample of the corpus: a report or an error of
    the ReelGuard tree."""
    from governance.core.errors import ANY_ERROR
    from governance.flows import VerifyOptions, verify

    c2pa_only = VerifyOptions(stages=frozenset({"c2pa"}))
    reports = errors = 0
    for i, (fmt, label, data) in enumerate(sample(mutants, 3)):
        path = _write(tmp_path, i, fmt, data)
        for options in (None, c2pa_only):
            try:
                verify(flow_ctx, path, options=options)
                reports += 1
            except ANY_ERROR:
                errors += 1
        path.unlink()
    assert reports and errors


def test_registry_add_answers_a_work_or_a_media_error(tmp_path, flow_ctx, mutants):
    """``ProtectedRegistry.add_path`` (what ``registry add`` runs) on a sample of the corpus and
    on the bombs: a registered work, or MediaError (no registrable media)."""
    from governance.core.errors import ANY_ERROR

    registry = flow_ctx.registry
    picked = [m for m in sample(mutants, 4) if m[0] != "wav"]
    picked += [("jpeg", "bomb", jpeg_bomb()), ("png", "bomb", png_bomb())]
    for i, (fmt, label, data) in enumerate(picked):
        path = _write(tmp_path, i, fmt, data)
        try:
            registry.add_path(path, owner="fuzz", title=f"{fmt} {label}")
        except ANY_ERROR as exc:
            assert isinstance(exc, MediaError), (fmt, label, exc)
        path.unlink()


# Exit codes the CLI documents (governance.core.errors): 0, usage (2), and the error tree's
# 10-26 (media 21, too large 22, watermark 23, provenance 25, registry 19); never 1.
_DOCUMENTED = {0, 2, *range(10, 27)}


def test_cli_verify_and_registry_add_never_trace(tmp_path, home, mutants):
    """``reelguard verify FILE --json`` and ``reelguard registry add`` in-process (CliRunner):
    exit 0 or a documented ReelGuard code, never 1, and no traceback on stderr. The file names
    carry rich markup (``[/x]``), which once crashed the error printer."""
    from typer.testing import CliRunner

    from governance.service.cli.main import app

    runner = CliRunner()
    picked = sample(mutants, 1) + [("jpeg", "bomb", jpeg_bomb()), ("png", "bomb", png_bomb())]
    folder = tmp_path / "in[" / "x]"  # a path containing "[/x]"
    folder.mkdir(parents=True)
    for i, (fmt, label, data) in enumerate(picked):
        path = _write(folder, i, fmt, data)
        for args in (["verify", str(path), "--json"],
                     ["registry", "add", str(path), "--owner", "o", "--title", "[/bold]t"]):
            if args[0] == "registry" and fmt == "wav":
                continue
            result = runner.invoke(app, args)
            where = f"{args[:2]} {fmt} {label}: exit {result.exit_code}\n{result.output[-2000:]}"
            assert result.exit_code in _DOCUMENTED, where
            assert "Traceback" not in result.output, where
            assert result.exception is None or isinstance(result.exception, SystemExit), where
        path.unlink()


# -- properties ------------------------------------------------------------------------------

def test_image_header_property_never_raises_anything_but_media_error():
    """``image_header`` on arbitrary bytes behind every magic number: a header, None or MediaError."""
    from hypothesis import given, settings, strategies as st

    from detectors.media_limits import image_header

    magics = st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                              b"RIFF\x00\x00\x00\x00WEBPVP8L", b"RIFF\x00\x00\x00\x00WEBPVP8X", b"GIF89a",
                              b"BM", b"II*\x00", b"MM\x00*", b""])

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(magic=magics, tail=st.binary(max_size=64))
    def check(magic, tail):
        try:
            header = image_header(magic + tail)
        except MediaError:
            return
        assert header is None or (header.width > 0 and header.height > 0)

    check()
