"""The engines, the timing loop and the small-file breakdown of the verification benchmark.

Every c2pa Context built here is offline (``OFFLINE``): c2pa-rs never fetches a remote manifest
or an OCSP response.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verify.data import BenchFile

OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}
# Column order of every table; the keys of the raw results.
ENGINES = ("rg_e2e", "rg_core", "bare_trust", "bare_plain", "sha256")
ENGINE_NAMES = {
    "rg_e2e": "ReelGuard end-to-end (verify, --only c2pa)",
    "rg_core": "ReelGuard core (read_provenance)",
    "bare_trust": "c2pa-rs bare Reader (same trust)",
    "bare_plain": "c2pa-rs bare Reader (no trust)",
    "sha256": "SHA-256 (hashlib.file_digest)",
}


def offline_context(trust: dict[str, Any] | None = None) -> Any:
    import c2pa

    config: dict[str, Any] = {"verify": dict(OFFLINE), "core": {"allowed_network_hosts": []}}
    if trust:
        config["trust"] = trust
    return c2pa.Context.from_dict(config)


class Engines:
    """The five ways of reading one file, as callables returning a short outcome string."""

    def __init__(self, ctx: Any) -> None:
        from governance.flows.verify import VerifyOptions

        self.ctx = ctx
        self.options = VerifyOptions(stages=frozenset({"c2pa"}))
        # Built once, as a c2pa-python user verifying many files would: ReelGuard's trust table.
        self.trusted = offline_context(ctx.trust.c2pa_settings())
        self.plain = offline_context()
        self.calls: dict[str, Callable[[BenchFile], str]] = {
            "rg_e2e": self.rg_e2e, "rg_core": self.rg_core, "bare_trust": lambda f: self.bare(f, self.trusted),
            "bare_plain": lambda f: self.bare(f, self.plain), "sha256": self.sha256,
        }
        self.outcomes: dict[str, Callable[[BenchFile], str]] = {
            **self.calls, "bare_trust": lambda f: self.bare(f, self.trusted, outcome=True),
            "bare_plain": lambda f: self.bare(f, self.plain, outcome=True),
        }

    def close(self) -> None:
        self.trusted.close()
        self.plain.close()

    def rg_e2e(self, f: BenchFile) -> str:
        from governance.flows.verify import verify

        report = verify(self.ctx, f.path, actor="bench", options=self.options)
        return f"{report.verdict} ({report.provenance.state})"

    def rg_core(self, f: BenchFile) -> str:
        from detectors.provenance import read_provenance

        return read_provenance(f.path, trust=self.ctx.trust).state

    @staticmethod
    def bare(f: BenchFile, context: Any, *, outcome: bool = False) -> str:
        """What a c2pa-python user runs: a Reader over the open file, its JSON report (parsed
        for the outcome only in the untimed first call)."""
        import c2pa

        try:
            with open(f.path, "rb") as stream:
                reader = c2pa.Reader.try_create(f.mime, stream, None, context)
                if reader is None:
                    return "no manifest"
                try:
                    text = reader.json()
                finally:
                    reader.close()
        except c2pa.C2paError as exc:
            return "error: " + _error_name(exc)
        return str(json.loads(text).get("validation_state") or "?").lower() if outcome else ""

    @staticmethod
    def sha256(f: BenchFile) -> str:
        with open(f.path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def _error_name(exc: BaseException) -> str:
    return type(exc).__name__.lstrip("_").removeprefix("C2paError").removeprefix("C2pa") or "C2paError"


def _stats(times: list[float]) -> dict[str, float]:
    return {"best": min(times), "median": statistics.median(times)}


def time_files(engines: Engines, files: list[BenchFile], repeat: int, *,
               log: Callable[[str], None] = print) -> list[dict]:
    """Each file: one untimed call of every engine (its outcome is recorded), then ``repeat``
    rounds in which the engines take turns, the first of each round rotating, so drift in the
    machine's speed reaches every engine alike. Best and median of the rounds."""
    rows = []
    names = list(ENGINES)
    for f in files:
        outcome = {name: engines.outcomes[name](f) for name in names}
        times: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeat):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                call = engines.calls[name]
                start = time.perf_counter()
                call(f)
                times[name].append(time.perf_counter() - start)
        stats = {name: _stats(t) for name, t in times.items()}
        rows.append({"label": f.label, "file": f.path.name, "kind": f.kind, "type": f.type, "mime": f.mime,
                     "bytes": f.bytes, "watermarked": f.watermarked, "outcome": outcome, "times": times,
                     "best": {n: s["best"] for n, s in stats.items()},
                     "median": {n: s["median"] for n, s in stats.items()}})
        best = rows[-1]["best"]
        log(f"  {f.label:<58.58} {f.bytes / 1e6:8.2f} MB  e2e {best['rg_e2e'] * 1e3:8.1f}  core {best['rg_core'] * 1e3:8.1f}"
            f"  bare {best['bare_trust'] * 1e3:8.1f} / {best['bare_plain'] * 1e3:8.1f}  sha {best['sha256'] * 1e3:7.1f} ms"
            f"  e2e/bare {best['rg_e2e'] / best['bare_trust']:5.2f}x  [{outcome['rg_e2e']}; c2pa-rs {outcome['bare_trust']}]")
    return rows


def full_verification(ctx: Any, files: list[BenchFile], repeat: int, *,
                      log: Callable[[str], None] = print) -> list[dict]:
    """``verify(ctx, path)`` with the default options: credentials, watermark, registry."""
    from governance.flows.verify import verify

    rows = []
    for f in files:
        times, report = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            report = verify(ctx, f.path, actor="bench")
            times.append(time.perf_counter() - start)
        assert report is not None
        rows.append({"label": f.label, "file": f.path.name, "kind": f.kind, "bytes": f.bytes,
                     "watermarked": f.watermarked, "times": times, **_stats(times), "frames": report.frames_read,
                     "verdict": report.verdict, "stages": list(report.stages),
                     "watermark_detected": bool(report.watermark is not None and report.watermark.detected)})
        log(f"  {f.label:<58.58} {f.bytes / 1e6:8.2f} MB  full verify {min(times):6.2f} s (median {statistics.median(times):6.2f})"
            f"  {report.frames_read} frames  {report.verdict}")
    return rows


def _median_of(fn: Callable[[], Any], reps: int) -> dict[str, float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return _stats(times)


Task = tuple[Callable[..., Any], Callable[[], Any] | None]  # fn, and an untimed setup whose result fn takes


def _interleaved(tasks: dict[str, Task], reps: int) -> dict[str, dict[str, float]]:
    """Best and median of ``reps`` timed calls of each task, the tasks taking turns (the first
    of each round rotating), as the engines do in the main loop."""
    names = list(tasks)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            fn, setup = tasks[name]
            arg = setup() if setup is not None else None
            start = time.perf_counter()
            fn(arg) if setup is not None else fn()
            times[name].append(time.perf_counter() - start)
    return {n: _stats(t) for n, t in times.items()}


def breakdown(ctx: Any, engines: Engines, f: BenchFile, reps: int) -> dict[str, Any]:
    """Where ReelGuard's time goes for one file: each step of ``verify(--only c2pa)`` run alone,
    the way the flow runs it, beside the whole and beside the bare Reader."""
    import c2pa

    from detectors.memory import HugePageReads
    from detectors.provenance import interpret, read_provenance, sniff_format
    from detectors.provenance import reader as reader_mod
    from detectors.provenance.guard import precheck
    from detectors.provenance.rubrics import signals
    from governance.flows.verdict import decide_verdict
    from governance.provenance.signing.sign import sha256_file
    from governance.provenance.trust import TrustStore

    verify_mod = importlib.import_module("governance.flows.verify")  # the module (the package re-exports the function)
    path = f.path
    trust = ctx.trust
    context = reader_mod._cached_context(trust)  # the flow's own, built on the first read
    fmt = sniff_format(path)
    assert fmt is not None

    def open_reader() -> Any:
        raw = open(path, "rb")
        try:
            return c2pa.Reader.try_create(fmt.mime, HugePageReads(raw), None, context)
        finally:
            raw.close()

    def checks() -> None:  # what read_provenance does before c2pa-rs
        p = Path(path)
        p.is_file()
        p.stat().st_size
        sniff_format(p)
        reader_mod._sidecar_bytes(p, None)
        with open(p, "rb") as raw:  # the hostile-input pre-check (guard.py) before c2pa-rs
            precheck(fmt.mime, raw, None, max_manifest_bytes=reader_mod.MAX_MANIFEST_BOX_BYTES)

    probe = open_reader()
    if probe is None:
        raise SystemExit(f"{path}: no manifest; pick a signed file for the breakdown")
    store, crjson = json.loads(probe.json()), json.loads(probe.crjson())
    probe.close()
    report = interpret(store, crjson=crjson, media_kind=fmt.kind, format=fmt.mime)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    def closing(fn: Callable[[Any], Any]) -> Callable[[Any], None]:
        def run(reader: Any) -> None:
            try:
                fn(reader)
            finally:
                reader.close()
        return run

    def read_only() -> None:
        reader = open_reader()
        if reader is not None:
            reader.close()

    def verdict_flags() -> None:
        _, reasons = decide_verdict(report, None, record_found=False)
        verify_mod._flags(report, (), reasons)

    def audit() -> None:
        verdict, reasons = decide_verdict(report, None, record_found=False)
        verify_mod._audit(ctx, actor="bench", file_sha256=digest, verdict=verdict, reasons=reasons, flags=[],
                          provenance=report, detection=None, record=None)

    def core_beside_sha() -> None:  # what verify does: the SHA-256 in its thread while c2pa-rs reads
        future = verify_mod._HASHER.submit(sha256_file, path)
        try:
            read_provenance(path, trust=trust)
        finally:
            future.result()

    tasks: dict[str, Task] = {
        "checks": (checks, None),
        "trust": (lambda: reader_mod._cached_context(trust), None),
        "c2pa_read": (read_only, None),
        "json": (closing(lambda r: json.loads(r.json())), open_reader),
        "crjson": (closing(lambda r: json.loads(r.crjson())), open_reader),
        "rubric": (lambda: signals(crjson), None),
        "interpret_all": (lambda: interpret(store, crjson=crjson, media_kind=fmt.kind, format=fmt.mime), None),
        "verdict": (verdict_flags, None),
        "audit": (audit, None),
        "thread": (lambda: verify_mod._HASHER.submit(int).result(), None),
        "sha256": (lambda: engines.sha256(f), None),
        "core": (lambda: read_provenance(path, trust=trust), None),
        "core_beside_sha": (core_beside_sha, None),
        "e2e": (lambda: engines.rg_e2e(f), None),
        "bare_trust": (lambda: engines.bare(f, engines.trusted), None),
        "bare_plain": (lambda: engines.bare(f, engines.plain), None),
        "bare_read_only": (lambda: _bare_read_only(f, engines.trusted), None),
    }
    m = _interleaved(tasks, reps)
    keys = ("best", "median")

    def diff(a: str, b: str) -> dict[str, float]:
        return {k: m[a][k] - m[b][k] for k in keys}

    steps = [
        ("checks", "is_file, stat, sniff the format, look for a .c2pa sidecar, the hostile-input pre-check", m["checks"]),
        ("trust", "trust context: the cached c2pa Context for ctx.trust (a dict lookup)", m["trust"]),
        ("c2pa_read", "c2pa-rs: Reader.try_create (parse, hash the asset, check signature, chain and trust)", m["c2pa_read"]),
        ("json", "Reader.json() + json.loads", m["json"]),
        ("crjson", "Reader.crjson() + json.loads (what the signals rubric reads)", m["crjson"]),
        ("interpret", "interpret(): the typed report and the disclosure, with its signals rubric", m["interpret_all"]),
        ("verdict", "decide_verdict + flags", m["verdict"]),
        ("audit", "audit append: a VerificationEvent into the hash-chained SQLite log (one transaction)", m["audit"]),
        ("thread", "hand-off to the SHA-256 thread and back (an empty task)", m["thread"]),
        ("sha_overlap", "SHA-256 beside the read: wall time it adds to read_provenance (both threads, measured)",
         diff("core_beside_sha", "core")),
    ]
    explained = {k: sum(s[2][k] for s in steps) for k in keys}
    steps.insert(6, ("rubric", "of which the C2PA signals rubric over the crJSON (rubrics.signals), alone", m["rubric"]))
    steps.append(("rest", "the rest: the flow's own Python (options, report objects, futures), by difference",
                  {k: m["e2e"][k] - explained[k] for k in keys}))
    once = [
        ("trust_store", "trust store: the bundled lists and the own CA parsed (TrustStore(settings).config())",
         _median_of(lambda: TrustStore(ctx.settings).config(), max(3, reps // 5))),
        ("trust_context", "c2pa Context built from that trust table (c2pa.Context.from_dict)",
         _median_of(lambda: offline_context(trust.c2pa_settings()).close(), max(3, reps // 5))),
    ]
    return {
        "file": f.label, "bytes": f.bytes, "reps": reps,
        "anchors": trust.c2pa_settings().get("trust_anchors", "").count("BEGIN CERTIFICATE"),
        "once": [{"key": k, "what": w, **s} for k, w, s in once],
        "steps": [{"key": k, "what": w, **s} for k, w, s in steps],
        "measured": m,
    }


def _bare_read_only(f: BenchFile, context: Any) -> None:
    import c2pa

    with open(f.path, "rb") as stream:
        reader = c2pa.Reader.try_create(f.mime, stream, None, context)
        if reader is not None:
            reader.close()
