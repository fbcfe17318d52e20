"""Hostile Content Credentials: a clear error or an ``unverifiable`` verdict, never a traceback,
a hang, an aborted process or gigabytes of memory.

c2pa-rs is Rust behind ctypes: an allocation it cannot make aborts the interpreter. So every
hostile input runs in a child process under a 2 GiB address-space limit and a per-input timeout;
the child prints one JSON line per input and the parent checks that it got them all and that the
child exited cleanly. Every input is built here from scratch: JUMBF boxes (ISO 19566-5), CBOR,
a minimal JPEG / PNG / WAV, and ReelGuard's own signed clip and manifest store as the real layout.

What c2pa-python 0.38.1 did with these inputs before ``detectors/provenance/guard.py`` existed:
the size lies, truncations, malformed CBOR, absurd declared lengths and counts, and deep nesting
gave clean errors in milliseconds; honest multi-million-item CBOR/JSON, millions of JUMBF boxes or
JPEG segments, and many BMFF boxes / PNG or RIFF chunks aborted the process or took minutes (the
guard's docstring has the numbers). For those, ``INPUTS`` names what the guard must answer; for
the others any clean error will do (c2pa-rs's, or the guard's for box sizes that lie).
"""

from __future__ import annotations

import io
import json
import queue
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

try:
    from tests.c2pa_ts.support import make_clip, make_spec, new_settings
except ModuleNotFoundError:  # tests/detectors has no package parent on the path: add the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.c2pa_ts.support import make_clip, make_spec, new_settings

from detectors.errors import MediaError, ProvenanceError
from detectors.provenance import ProvenanceReport, read_manifest_store, read_provenance
from detectors.provenance import guard as guarding
from detectors.provenance.formats import sniff_format
from governance.flows.verdict import decide_verdict
from tests.conftest import C2PA_SAMPLES, require_shared

ROOT = Path(__file__).resolve().parents[2]
PER_INPUT_SECONDS = 5.0  # each hostile input, read and judged (the slowest takes ~0.4 s)
HANG_SECONDS = 30.0  # the child is killed and the input reported hung beyond this
MAX_CHILD_RSS_MB = 1024  # peak RSS of the child over every input (~190 MB measured; 1.3 GB unguarded)

# ---------------------------------------------------------------- JUMBF, CBOR and containers

STORE, MANIFEST, ASSERTIONS = "6332706100110010800000aa00389b71", "63326d6100110010800000aa00389b71", "6332617300110010800000aa00389b71"
CBOR_TYPE, JSON_TYPE = "63626f7200110010800000aa00389b71", "6a736f6e00110010800000aa00389b71"
C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def jumd(type_hex: str, label: str) -> bytes:
    return box(b"jumd", bytes.fromhex(type_hex) + b"\x03" + label.encode() + b"\0")


def superbox(type_hex: str, label: str, *children: bytes) -> bytes:
    return box(b"jumb", jumd(type_hex, label) + b"".join(children))


def head(major: int, n: int) -> bytes:
    """A CBOR initial byte and argument."""
    if n < 24:
        return bytes([major << 5 | n])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | info]) + n.to_bytes(width, "big")
    raise ValueError(n)


def text(s: str) -> bytes:
    return head(3, len(s.encode())) + s.encode()


def cmap(*pairs: tuple[bytes, bytes]) -> bytes:
    return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


def nested(depth: int, *, labelled: bool = True) -> bytes:
    """``depth`` jumb boxes each inside the last, a CBOR box at the bottom (sizes honest)."""
    leaf = box(b"cbor", b"\xa0")
    desc = jumd(CBOR_TYPE, "n") if labelled else b""
    unit = 8 + len(desc)
    return b"".join(struct.pack(">I4s", (depth - level) * unit + len(leaf), b"jumb") + desc
                    for level in range(depth)) + leaf


@dataclass
class Node:
    offset: int
    kind: bytes
    payload: bytes | list[Node]


def parse(data: bytes, start: int = 0, end: int | None = None) -> list[Node]:
    """An honest JUMBF tree (ReelGuard's own store), with offsets."""
    end = len(data) if end is None else end
    nodes, pos = [], start
    while pos < end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        inside = parse(data, pos + 8, pos + size) if kind == b"jumb" else data[pos + 8 : pos + size]
        nodes.append(Node(pos, kind, inside))
        pos += size
    return nodes


def serialise(nodes: list[Node]) -> bytes:
    return b"".join(box(n.kind, serialise(n.payload) if isinstance(n.payload, list) else n.payload) for n in nodes)


def walk(nodes: list[Node]):
    for node in nodes:
        yield node
        if isinstance(node.payload, list):
            yield from walk(node.payload)


def label(node: Node) -> str | None:
    if isinstance(node.payload, list) and node.payload and node.payload[0].kind == b"jumd":
        return node.payload[0].payload[17:].split(b"\0")[0].decode()
    return None


def superbox_of(store: bytes, name: str) -> Node:
    return next(n for n in walk(parse(store)) if label(n) == name)


def replace(store: bytes, name: str, content: bytes, *, as_json: bool = False) -> bytes:
    """``store`` with the content box of the superbox labelled ``name`` replaced."""
    tree = parse(store)
    target = next(n for n in walk(tree) if label(n) == name)
    assert isinstance(target.payload, list)
    if as_json:
        desc = target.payload[0]
        desc.payload = bytes.fromhex(JSON_TYPE) + bytes(desc.payload)[16:]
    target.payload[-1] = Node(0, b"json" if as_json else target.payload[-1].kind, content)
    return serialise(tree)


def resize(data: bytes, at: int, declared: int) -> bytes:
    """The box at ``at`` declaring ``declared`` bytes (with an XLBox when it needs 64 bits)."""
    if declared >= 2**32:
        return data[:at] + struct.pack(">I4sQ", 1, data[at + 4 : at + 8], declared) + data[at + 8 :]
    return data[:at] + struct.pack(">I", declared) + data[at + 4 :]


def app11(store: bytes, instance: bytes = b"\x02\x11") -> bytes:
    """``store`` in APP11 JUMBF segments as c2pa-rs writes them (CI "JP", box instance, sequence
    number; every continuation repeats LBox and TBox)."""
    segments, data = [], store[8:]
    for seq, at in enumerate(range(0, max(len(data), 1), 65_000), start=1):
        body = b"JP" + instance + struct.pack(">I", seq) + store[:8] + data[at : at + 65_000]
        segments.append(b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body)
    return b"".join(segments)


def jpeg(store: bytes | None = None, *, segments: bytes = b"") -> bytes:
    """A minimal baseline JPEG (1x1 grey) carrying ``store``, then ``segments``, before its scan."""
    app11_segments = [app11(store)] if store is not None else []
    tables = (b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)  # DQT
              + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"  # SOF0, 1x1 grey
              + b"\xff\xc4\x00\x14\x00" + bytes([1] + [0] * 15) + b"\x00"  # DHT DC
              + b"\xff\xc4\x00\x14\x10" + bytes([1] + [0] * 15) + b"\x00")  # DHT AC
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00"
    return b"\xff\xd8" + b"".join(app11_segments) + segments + tables + scan + b"\xff\xd9"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(store: bytes, *, chunks: bytes = b"") -> bytes:
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    return (b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"caBX", store) + chunks
            + png_chunk(b"IDAT", zlib.compress(b"\0\0")) + png_chunk(b"IEND", b""))


def riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def wav(store: bytes, *, chunks: bytes = b"") -> bytes:
    """A 0.1 s silent WAV carrying ``store`` in a top-level ``C2PA`` chunk."""
    body = (b"WAVE" + riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))
            + riff_chunk(b"data", bytes(1600)) + chunks + riff_chunk(b"C2PA", store))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp4(clip: bytes, store: bytes) -> bytes:
    """``clip`` with a top-level C2PA uuid box (purpose "manifest") holding ``store`` after ftyp."""
    ftyp = struct.unpack(">I", clip[:4])[0]
    return clip[:ftyp] + box(b"uuid", C2PA_BMFF_UUID + b"\0\0\0\0" + b"manifest\0" + bytes(8) + store) + clip[ftyp:]


# ---------------------------------------------------------------- the hostile inputs


@dataclass
class Real:
    store: bytes  # ReelGuard's signed manifest store (~15 kB)
    clip: bytes  # an unsigned MP4 to embed stores in


def zeros_array(n: int) -> bytes:
    """One assertion map holding an honest array of ``n`` zeros (n bytes: a billion-entry list
    in miniature that c2pa-rs decodes at ~200 bytes an entry)."""
    return b"\xa1" + text("x") + head(4, n) + bytes(n)


def claim_listing(assertions: bytes) -> bytes:
    """A claim v2 whose ``created_assertions`` is ``assertions`` (the list c2pa-rs walks)."""
    return cmap((text("instanceID"), text("xmp:iid:1")), (text("claim_generator_info"), cmap((text("name"), text("x")))),
                (text("signature"), text("self#jumbf=c2pa.signature")), (text("created_assertions"), assertions),
                (text("alg"), text("sha256")))


def cose_with_protected(n: int) -> bytes:
    """A COSE_Sign1 whose protected header (a CBOR byte string) holds ``n`` zeros."""
    protected = cmap((head(0, 1), head(1, 6)), (text("x"), head(4, n) + bytes(n)))
    return b"\xd2\x84" + head(2, len(protected)) + protected + b"\xa0\xf6" + head(2, 64) + bytes(64)


def siblings(n: int) -> Callable[[Real], bytes]:
    return lambda r: superbox(STORE, "c2pa", superbox(MANIFEST, "urn:c2pa:x", superbox(ASSERTIONS, "c2pa.assertions",
                                                                                        b"\0\0\0\x08free" * n)))


def deep(depth: int, *, labelled: bool = True) -> Callable[[Real], bytes]:
    return lambda r: superbox(STORE, "c2pa", superbox(MANIFEST, "urn:c2pa:x", superbox(ASSERTIONS, "c2pa.assertions",
                                                                                      nested(depth, labelled=labelled))))


def in_assertion(content: Callable[[], bytes], *, as_json: bool = False) -> Callable[[Real], bytes]:
    """The real store with ``content()`` (built when the input is) as one assertion's CBOR or JSON."""
    return lambda r: replace(r.store, "org.reelguard.generation", content(), as_json=as_json)


CBOR_BOMBS = {
    "malformed": b"\xff\xff\xff",
    "truncated-map": b"\xa5\x61a",
    "array-2^30": head(4, 2**30) + bytes(16),
    "array-2^60": head(4, 2**60) + bytes(16),
    "map-2^30": head(5, 2**30) + bytes(16),
    "map-2^60": head(5, 2**60) + bytes(16),
    "bytes-2^40": head(2, 2**40) + b"x" * 16,
    "text-2^40": head(3, 2**40) + b"x" * 16,
    "nested-arrays-100k": b"\x81" * 100_000 + b"\0",
    "nested-maps-100k": b"\xa1\x00" * 100_000 + b"\0",
    "nested-tags-100k": b"\xc6" * 100_000 + b"\0",
    "nested-indefinite-100k": b"\x9f" * 100_000 + b"\0",
}
_REF = cmap((text("url"), text("self#jumbf=c2pa.assertions/c2pa.x")), (text("hash"), head(2, 32) + bytes(32)))
ITEMS, BOXES = "CBOR/JSON data items", "JUMBF boxes"

# name: (how it is read, builder, what the guard must say, or None where c2pa-rs's error will do)
INPUTS: dict[str, tuple[str, Callable[[Real], bytes], str | None]] = {}


def _add(name: str, mode: str, build: Callable[[Real], bytes], guard: str | None = None) -> None:
    INPUTS[name] = (mode, build, guard)


def _at(name: str | None, *, content: bool = False) -> Callable[[bytes], int]:
    """Where a box of the real store starts: the store (None), a superbox, or its content box."""
    def find(store: bytes) -> int:
        if name is None:
            return 0
        node = superbox_of(store, name)
        return node.payload[-1].offset if content else node.offset  # type: ignore[index]
    return find


for _where, _find in (("store", _at(None)), ("manifest", lambda s: parse(s)[0].payload[1].offset),  # type: ignore[index]
                      ("jumd", lambda s: 8), ("claim-cbor", _at("c2pa.claim.v2", content=True))):
    for _declared in (2**40, 2**63, 0, 4, 2**32 - 1, None):
        _tag = "parent+1000" if _declared is None else {2**40: "2^40", 2**63: "2^63", 2**32 - 1: "2^32-1"}.get(_declared, str(_declared))
        _add(f"store/size-{_where}-{_tag}", "store", lambda r, f=_find, d=_declared: resize(
            r.store, f(r.store), d if d is not None else struct.unpack(">I", r.store[f(r.store) : f(r.store) + 4])[0] + 1000))
for _k in range(1, 16):
    _add(f"store/truncated-{_k}of16", "store", lambda r, k=_k: r.store[: len(r.store) * k // 16])
for _depth in (100, 10_000, 100_000):
    _add(f"store/nested-{_depth}", "store", deep(_depth), BOXES if _depth > guarding.MAX_JUMBF_BOXES // 2 else None)
_add("store/nested-bare-jumb-100000", "store", deep(100_000, labelled=False), BOXES)
_add("store/siblings-1M", "store", siblings(1_000_000), BOXES)
for _where, _label in (("claim", "c2pa.claim.v2"), ("assertion", "c2pa.actions.v2"), ("signature", "c2pa.signature")):
    for _bomb, _cbor in CBOR_BOMBS.items():
        _add(f"store/cbor-{_where}-{_bomb}", "store", lambda r, lb=_label, c=_cbor: replace(r.store, lb, c))
for _power in (30, 60):  # "a billion-entry ingredient list": the claim's assertion list declares 2^30 / 2^60
    _add(f"store/claim-list-2^{_power}", "store",
         lambda r, p=_power: replace(r.store, "c2pa.claim.v2", claim_listing(head(4, 2**p) + bytes(16))))
# Honest, huge item counts: what aborted c2pa-rs (Rust allocation failure) or took gigabytes
_add("store/items-15M-array", "store", in_assertion(lambda: zeros_array(15_000_000)), ITEMS)
_add("store/items-2M-nested-arrays", "store",
     in_assertion(lambda: b"\xa1" + text("x") + head(4, 2_000_000) + b"\x81\x00" * 2_000_000), ITEMS)
_add("store/items-1M-map", "store",
     in_assertion(lambda: head(5, 1_000_000) + b"".join(head(0, i) + b"\0" for i in range(1_000_000))), ITEMS)
_add("store/json-4M-array", "store", in_assertion(lambda: b'{"x":[' + b"0," * 3_999_999 + b"0]}", as_json=True), ITEMS)
_add("store/cose-protected-4M", "store", lambda r: replace(r.store, "c2pa.signature", cose_with_protected(4_000_000)), ITEMS)
_ALMOST = b"\x80" + bytes(200_000) + b"\x1c"  # 200,000 CBOR items, then a reserved byte: opaque after all
_add("store/almost-cbor-byte-strings", "store",  # bounds the guard's own scan (c2pa-rs reads this fine)
     in_assertion(lambda: b"\x9f" + (head(2, len(_ALMOST)) + _ALMOST) * 6 + b"\xff"), "steps to scan")
_add("store/claim-100k-assertion-refs", "store",
     lambda r: replace(r.store, "c2pa.claim.v2", claim_listing(head(4, 100_000) + _REF * 100_000)), ITEMS)

_EMBEDDED: dict[str, tuple[Callable[[Real], bytes], str | None]] = {
    "nested-100000": (deep(100_000), BOXES),
    "siblings-1M": (siblings(1_000_000), BOXES),
    "claim-list-2^60": (lambda r: replace(r.store, "c2pa.claim.v2", claim_listing(head(4, 2**60) + bytes(16))), None),
    "claim-bytes-2^40": (lambda r: replace(r.store, "c2pa.claim.v2", CBOR_BOMBS["bytes-2^40"]), None),
    "claim-nested-tags-100k": (lambda r: replace(r.store, "c2pa.claim.v2", CBOR_BOMBS["nested-tags-100k"]), None),
    "store-truncated-half": (lambda r: r.store[: len(r.store) // 2], "malformed JUMBF"),
    "manifest-size-2^40": (lambda r: resize(r.store, parse(r.store)[0].payload[1].offset, 2**40), "malformed JUMBF"),  # type: ignore[index]
    "items-16M-array": (in_assertion(lambda: zeros_array(16_000_000)), ITEMS),
}
for _name, (_build, _guard) in _EMBEDDED.items():
    _add(f"jpeg/{_name}", "file.jpg", lambda r, b=_build: jpeg(b(r)), _guard)
    _add(f"mp4/{_name}", "file.mp4", lambda r, b=_build: mp4(r.clip, b(r)), _guard)
_add("png/items-16M-array", "file.png", lambda r: png(zeros_array_store(r, 16_000_000)), ITEMS)
_add("png/chunks-1M", "file.png", lambda r: png(r.store, chunks=png_chunk(b"teXt", b"") * 1_000_000), "PNG of more than")
_add("wav/items-16M-array", "file.wav", lambda r: wav(zeros_array_store(r, 16_000_000)), ITEMS)
_add("wav/chunks-1M", "file.wav", lambda r: wav(r.store, chunks=riff_chunk(b"junk", b"") * 1_000_000), "RIFF file of more than")
_add("jpeg/segments-10M", "file.jpg", lambda r: jpeg(r.store, segments=b"\xff\xfe\x00\x02" * 10_000_000), "JPEG of more than")
_add("jpeg/second-store-then-10M-segments", "file.jpg",
     lambda r: jpeg(r.store, segments=app11(r.store, b"\x02\x12") + b"\xff\xfe\x00\x02" * 10_000_000), "JPEG of more than")
_add("jpeg/manifest-65MiB", "file.jpg",
     lambda r: jpeg(superbox(STORE, "c2pa", superbox(MANIFEST, "urn:c2pa:x", box(b"free", bytes(65 << 20))))),
     "bytes in JPEG APP11 segments")
_add("mp4/cose-protected-16M", "file.mp4",
     lambda r: mp4(r.clip, replace(r.store, "c2pa.signature", cose_with_protected(16_000_000))), ITEMS)
_add("mp4/boxes-100k-top-level", "file.mp4", lambda r: mp4(r.clip, r.store) + b"\0\0\0\x08free" * 100_000, "BMFF file of more than")
_add("mp4/boxes-100k-in-moov", "file.mp4", lambda r: boxes_in_moov(mp4(r.clip, r.store), 100_000), "BMFF file of more than")


def zeros_array_store(r: Real, n: int) -> bytes:
    return replace(r.store, "org.reelguard.generation", zeros_array(n))


def boxes_in_moov(data: bytes, n: int) -> bytes:
    at = data.find(b"moov") - 4
    size = struct.unpack(">I", data[at : at + 4])[0]
    return data[:at] + struct.pack(">I", size + 8 * n) + data[at + 4 : at + size] + b"\0\0\0\x08free" * n + data[at + size :]


# ---------------------------------------------------------------- the contained reader

_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
sys.path.insert(0, sys.argv[1])
from detectors.errors import MediaError, ProvenanceError
from detectors.provenance import read_manifest_store, read_provenance
from governance.flows.verdict import decide_verdict

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM"))

print(json.dumps({"ready": True}), flush=True)
for name, mode, path in json.load(open(sys.argv[2])):
    started = time.perf_counter()
    try:
        if mode == "store":
            with open(path, "rb") as handle:
                report = read_manifest_store(handle.read())
        else:
            report = read_provenance(path)
        out = {"state": report.state, "error": report.error, "codes": list(report.codes),
               "verdict": decide_verdict(report, None, record_found=False)[0]}
    except (MediaError, ProvenanceError) as exc:
        out = {"raised": type(exc).__name__, "error": str(exc)}
    except Exception as exc:  # a traceback is a failure: report it, keep going
        out = {"unexpected": repr(exc)[:500]}
    out.update(name=name, seconds=time.perf_counter() - started, rss_mb=rss_mb())
    print(json.dumps(out), flush=True)
"""


def run_contained(inputs: list[tuple[str, str, str]], workdir: Path) -> tuple[dict[str, dict], list[str]]:
    """Each input read by a child process (2 GiB of address space, HANG_SECONDS per input);
    a child that dies or hangs is reported against its input and a new one takes the rest."""
    results: dict[str, dict] = {}
    incidents: list[str] = []
    pending = list(inputs)
    while pending:
        plan = workdir / f"plan{len(incidents)}.json"
        plan.write_text(json.dumps(pending))
        with open(workdir / f"stderr{len(incidents)}.txt", "w+") as stderr:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(ROOT), str(plan)], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True)
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=lambda: ([lines.put(line) for line in child.stdout], lines.put(None)),  # type: ignore[union-attr]
                             daemon=True).start()
            first = lines.get(timeout=120)
            assert first is not None and json.loads(first) == {"ready": True}, stderr.read()
            done, incident = 0, None
            for name, _, _ in pending:
                try:
                    line = lines.get(timeout=HANG_SECONDS)
                except queue.Empty:
                    child.kill()
                    incident = f"{name}: hung (no answer in {HANG_SECONDS:.0f} s)"
                    break
                if line is None:
                    child.wait()
                    stderr.seek(0)
                    incident = f"{name}: the reader process died (status {child.returncode}): {stderr.read()[-400:]}"
                    break
                results[name] = json.loads(line)
                done += 1
            status = child.wait(timeout=60)
            if incident is None and status != 0:
                stderr.seek(0)
                incident = f"the reader process exited with {status}: {stderr.read()[-400:]}"
        if incident is not None:
            incidents.append(incident)
            pending = pending[done + 1 :]
        else:
            pending = []
    return results, incidents


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    from governance.provenance.keys import load_or_create_identity
    from governance.provenance.signing import sign_video

    base = tmp_path_factory.mktemp("hostile")
    identity = load_or_create_identity(new_settings(base))
    clip = make_clip(base / "clip.mp4", frames=8)
    asset = sign_video(clip, base / "signed.mp4", spec=make_spec(), identity=identity)
    return asset, Real(store=asset.manifest_bytes, clip=clip.read_bytes())


@pytest.fixture(scope="module")
def contained(signed, tmp_path_factory) -> tuple[dict[str, dict], list[str]]:
    _, real = signed
    workdir = tmp_path_factory.mktemp("hostile-inputs")
    plan = []
    for number, (name, (mode, build, _)) in enumerate(INPUTS.items()):
        path = workdir / f"{number:03d}.{mode.partition('.')[2] or 'c2pa'}"
        path.write_bytes(build(real))
        plan.append((name, "store" if mode == "store" else "file", str(path)))
    try:
        return run_contained(plan, workdir)
    finally:
        for _, _, path in plan:
            Path(path).unlink()


# ---------------------------------------------------------------- tests


def test_the_reader_process_never_dies_hangs_or_balloons(contained):
    results, incidents = contained
    assert incidents == []
    assert sorted(results) == sorted(INPUTS)
    assert max(r["rss_mb"] for r in results.values()) < MAX_CHILD_RSS_MB, sorted(
        ((r["rss_mb"], n) for n, r in results.items()), reverse=True)[:3]


@pytest.mark.parametrize("name", list(INPUTS))
def test_hostile_input_is_unverifiable_with_a_reason(contained, name):
    results, _ = contained
    assert name in results, "no answer: see test_the_reader_process_never_dies_hangs_or_balloons"
    result = results[name]
    assert "unexpected" not in result, result
    assert result["seconds"] < PER_INPUT_SECONDS, result
    assert "raised" not in result, result  # every input here is small enough to be read
    assert result["state"] == "invalid" and (result["error"] or result["codes"]), result
    assert result["verdict"] in ("unverifiable", "tampered"), result
    guard = INPUTS[name][2]
    if guard is not None:
        assert guard in result["error"] and not result["codes"], result


class _Counting(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, path: Path) -> None:
        self._handle = open(path, "rb")
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._handle.seek(pos, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._handle.readinto(buffer)
        self.read_bytes += n
        return n

    def close(self) -> None:
        self._handle.close()
        super().close()


def test_guard_reads_the_manifest_not_the_media(signed, tmp_path):
    asset, real = signed
    big = tmp_path / "padded.mp4"  # the signed clip with 100 MB more media (sparse) after it
    with open(big, "wb") as handle:
        handle.write(asset.path.read_bytes())
        handle.write(struct.pack(">I4sQ", 1, b"mdat", 16 + 100_000_000))
        handle.truncate(handle.tell() + 100_000_000)
    for path in (asset.path, big):
        stream = _Counting(path)
        stream.seek(3)
        assert guarding.precheck("video/mp4", stream, None, max_manifest_bytes=64 << 20) is None
        assert stream.tell() == 3  # the position c2pa-rs will read from is restored
        assert stream.read_bytes < len(real.store) + 2_000, stream.read_bytes  # the store and ~30 box headers
        stream.close()
    assert guarding.store_problem(real.store, max_bytes=16 << 20) is None


def test_guard_passes_every_real_sample():
    samples = require_shared(C2PA_SAMPLES)
    for path in sorted(samples.iterdir()):
        with open(path, "rb") as handle:
            assert guarding.precheck(sniff_format(path).mime, handle, None, max_manifest_bytes=64 << 20) is None, path.name


def test_opaque_byte_strings_are_not_counted_as_items(signed):
    """Zero padding, hashes and thumbnails are bytes to c2pa-rs: only a byte string that is CBOR
    itself (a COSE header) counts its items."""
    _, real = signed
    padded = in_assertion(lambda: cmap((text("pad"), head(2, 4_000_000) + bytes(4_000_000))))(real)
    assert guarding.store_problem(padded, max_bytes=16 << 20) is None
    embedded = head(4, 400_000) + bytes(400_000)
    wrapped = in_assertion(lambda: cmap((text("cose"), head(2, len(embedded)) + embedded)))(real)
    assert ITEMS in (guarding.store_problem(wrapped, max_bytes=16 << 20) or "")


def test_sidecar_and_remote_stores_are_checked_too(signed):
    asset, real = signed
    hostile = siblings(1_000_000)(real)  # 8 MB: under the sidecar limit, over the box limit
    report = read_provenance(asset.path, sidecar=hostile)
    assert (report.state, report.source) == ("invalid", "sidecar") and BOXES in report.error
    assert decide_verdict(report, None, record_found=False)[0] == "unverifiable"
    cloud = require_shared(C2PA_SAMPLES) / "c2pa-rs__cloud.jpg"  # its manifest is remote
    report = read_provenance(cloud, remote=lambda url: hostile)
    assert (report.state, report.source) == ("invalid", "remote") and BOXES in report.error
    assert report.remote_url and decide_verdict(report, None, record_found=False)[0] == "unverifiable"


_SIGNATURES = {"image/jpeg": b"\xff\xd8", "video/mp4": b"\0\0\0\x10ftypisom\0\0\0\0", "image/png": b"\x89PNG\r\n\x1a\n",
               "audio/wav": b"RIFF\xff\xff\0\0WAVE", "application/c2pa": b""}


@settings(max_examples=200, deadline=None)
@given(mime=st.sampled_from(sorted(_SIGNATURES)), body=st.binary(max_size=600),
       jumbf=st.booleans())
def test_the_guard_itself_never_raises(mime, body, jumbf):
    """Arbitrary bytes behind each container's signature: a reason or None, never an exception."""
    if jumbf:  # a store-looking start, so the JUMBF walk and the CBOR scan run on garbage
        body = struct.pack(">I", len(body) + 8) + b"jumb" + body
    stream = io.BytesIO(_SIGNATURES[mime] + body)
    for result in (guarding.precheck(mime, stream, None, max_manifest_bytes=1 << 20),
                   guarding.store_problem(body, max_bytes=1 << 20)):
        assert result is None or isinstance(result, str)


def _store_boxes(store: bytes) -> list[int]:
    return [node.offset for node in walk(parse(store))]


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("size"), st.integers(0, 1 << 10),
              st.sampled_from([0, 1, 4, 7, 8, 9, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("cbor"), st.integers(0, 1 << 10), st.integers(0, 255)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_real_stores_give_a_report_or_a_typed_error(signed, mutations):
    _, real = signed
    data = bytearray(real.store)
    offsets = _store_boxes(real.store)
    for kind, where, value in mutations:
        if not data:
            break
        if kind == "flip":
            data[where % len(data)] ^= 1 << value
        elif kind == "cut":
            del data[where % len(data) :]
        else:
            at = offsets[where % len(offsets)]
            if at + 9 > len(data):
                continue
            if kind == "size":
                data[at : at + 4] = value.to_bytes(4, "big")
            else:  # the first byte of a box's body: a CBOR header byte, a JUMBF type byte
                data[at + 8] = value
    try:
        report = read_manifest_store(bytes(data))
    except (MediaError, ProvenanceError):
        event("typed error")
        return
    assert isinstance(report, ProvenanceReport)
    event(f"{report.state}, " + ("refused by the guard" if "not parsed" in (report.error or "") or "malformed JUMBF" in (report.error or "")
                                 else "read by c2pa-rs"))
    verdict, reasons = decide_verdict(report, None, record_found=False)
    assert reasons
    if report.state == "invalid":
        assert report.error or report.codes
        assert verdict in ("unverifiable", "tampered")
