"""Nothing lost, nothing half-written: generations SIGKILLed at random points, then ``doctor``.

The crash test forks generation processes from one harness process (``python -m
tests.governance.flows.test_crash_safety``: imports paid once, each fork starts in milliseconds) and
SIGKILLs them at stratified random delays over the length of one generation, plus at the two
narrowest windows on purpose (manifest saved / not committed; committed / not renamed). The
diffusion model is replaced by a stub that returns fixed frames: the model is pure computation
(nothing on disk) and the embedded one takes ~30 s per clip on two shared cores, which would
allow 3 kills in the time budget instead of 50; the stages after it (journal, watermark, H.264,
C2PA, records, manifest store, rename) are the real ones.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from governance.core.settings import get_settings
from governance.flows import FlowContext, GenerateRequest, generate, verify
from governance.flows.verify import VerifyOptions
from governance.flows.doctor import InflightJournal, doctor, recover_inflight, remove_stored_manifest, temp_paths
from governance.flows.verdict import decide_verdict

REPO = Path(__file__).resolve().parents[3]
PROMPT = "a red circle moving right on a blue background"
KILLS = 50  # stratified random kills (plus the targeted ones below)
TARGETED = ("after-commit", "after-manifest-save")  # the last one is left for doctor to find
# Where the random kills start their clock: round-robin, the stages that write twice as often.
KILL_STAGES = ("fork", "start-up", "keys", "policy", "generate", "registry check", "watermark", "watermark",
               "sign", "sign")


# ----------------------------------------------------------------------------- stub generator

def _stub_frames(seed: int, n: int = 16, size: int = 256) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    frames = []
    for t in range(n):
        base = np.stack([(x + 4 * t) % 256, (y * 0.7 + 60) % 256, (x + y + 8 * t) % 256 // 2], axis=-1)
        frames.append(np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8))
    return np.stack(frames)


class StubGenerator:
    """Stands in for the diffusion model: fixed frames, a real ModelRecord."""

    calls = 0

    def __call__(self, request, progress=False):
        from generator import ModelRecord

        StubGenerator.calls += 1
        record = ModelRecord(pipeline_class="StubPipeline", model_id="stub/crash-test", revision=None,
                             weights_digest="0" * 64, scheduler="none", scheduler_config={}, steps=1,
                             guidance=None, seed=request.seed, width=256, height=256, num_frames=16, fps=8.0,
                             device="cpu", dtype="float32", library_versions={})

        class Result:
            pass

        result = Result()
        result.frames, result.record = _stub_frames(request.seed), record
        return result


def stub_context(home: Path) -> FlowContext:
    ctx = FlowContext(get_settings(home=home, timestamp=False), semantic_policy=False)
    ctx.generator = lambda model=None: StubGenerator()  # type: ignore[method-assign]
    return ctx


# ----------------------------------------------------------------------------- the harness (subprocess)

def _child(home: Path, out: Path, index: int, log: Path, target: str | None) -> None:
    """One generation in a forked process; appends each stage it reaches to ``log``."""
    with open(log, "a", buffering=1) as handle:
        ctx = stub_context(home)
        if _PRELOADED_POLICY is not None:  # built once in the harness (lexical packs, no consents here)
            ctx.__dict__["policy"] = _PRELOADED_POLICY
        handle.write(json.dumps({"stage": "start-up", "t": time.perf_counter(),
                                 "recovered": [f.kind for f in ctx.recovered]}) + "\n")
        if target:
            _arm(target)
        generate(ctx, GenerateRequest(prompt=PROMPT, output=out / f"clip-{index:03d}.mp4", seed=index),
                 on_stage=lambda name: handle.write(json.dumps({"stage": name, "t": time.perf_counter()}) + "\n"))
        handle.write(json.dumps({"stage": "done", "t": time.perf_counter()}) + "\n")


def _arm(target: str) -> None:
    """Kill this process at one of the narrow windows (the random kills rarely land there)."""
    import importlib

    from governance.provenance.manifest_store import ManifestStore

    flow = importlib.import_module("governance.flows.generate")  # the package re-exports a function of that name

    die = lambda: os.kill(os.getpid(), signal.SIGKILL)  # noqa: E731
    if target == "after-manifest-save":
        save = ManifestStore.save

        def save_then_die(self, *args, **kwargs):
            save(self, *args, **kwargs)
            die()

        ManifestStore.save = save_then_die  # type: ignore[method-assign]
    elif target == "after-commit":
        real = flow.os.replace

        class _Os:
            def __getattr__(self, name):
                return getattr(os, name)

            @staticmethod
            def replace(src, dst):
                if ".signed." in str(src):
                    die()
                return real(src, dst)

        flow.os = _Os()  # type: ignore[assignment]


def _state(home: Path, out: Path, index: int) -> str:
    """Where the killed generation got to, read from what it left on disk."""
    output = out / f"clip-{index:03d}.mp4"
    if output.exists():
        return "complete"
    mine = [p for p in (home / "inflight").glob("*.json") if json.loads(p.read_text())["output"] == str(output)]
    if not mine:
        return "before-journal"
    cid = mine[0].stem
    unsigned, signed = temp_paths(output, cid)
    with sqlite3.connect(home / "reelguard.db") as db:
        recorded = db.execute("select 1 from generation_record where content_id = ?", (cid,)).fetchone() is not None
    if recorded:
        return "committed-unplaced"
    if signed.exists():
        manifest = (home / "manifests" / cid[:2] / f"{cid}.json").exists()
        return "signed-manifest-saved" if manifest else "signed-uncommitted"
    return "encoding" if unsigned.exists() else "journaled"


_PRELOADED_POLICY = None


def harness(home: Path, out: Path, kills: int, seed: int) -> dict:
    global _PRELOADED_POLICY
    # Pay the imports and the policy packs once, before any fork.
    import c2pa  # noqa: F401
    import detectors.video_io  # noqa: F401
    import governance.provenance.signing  # noqa: F401
    import governance.records.audit.events  # noqa: F401
    import governance.records.storage.records  # noqa: F401
    from detectors.watermark import get_scheme
    from policies import PolicyEngine

    get_scheme()
    _PRELOADED_POLICY = PolicyEngine.load(semantic=False)

    rng = random.Random(seed)
    logs = out.parent / "logs"
    logs.mkdir()
    results: list[dict] = []

    def read(log: Path) -> list[dict]:
        try:
            return [json.loads(x) for x in log.read_text().splitlines() if x.endswith("}")]
        except FileNotFoundError:
            return []

    def run(index: int, delay: float | None, target: str | None = None, after: str | None = None) -> dict:
        """One forked generation; with ``delay``, SIGKILL it ``delay`` s after it reports stage
        ``after`` (``fork``: after the fork itself)."""
        log = logs / f"{index:03d}.log"
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the harness
            code = 0
            try:
                _child(home, out, index, log, target)
            except BaseException:  # noqa: BLE001
                code = 3
            os._exit(code)
        status = None
        if delay is not None:
            while after not in (None, "fork") and not any(x.get("stage") == after for x in read(log)):
                done, code = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = code
                    break
                time.sleep(0.002)
            if status is None:
                time.sleep(delay)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if status is None:
            _, status = os.waitpid(pid, 0)
        lines = read(log)
        stages = [x["stage"] for x in lines if "stage" in x]
        recovered = next((x["recovered"] for x in lines if "recovered" in x), [])
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        item = {"index": index, "after": after, "delay": delay, "target": target, "killed": killed,
                "exit": os.waitstatus_to_exitcode(status), "last_stage": stages[-1] if stages else "fork",
                "state": _state(home, out, index), "recovered_at_startup": recovered,
                "seconds": round(time.perf_counter() - started, 3)}
        results.append(item)
        return item

    calibration = run(0, None)  # also creates the keys, the database and the identity
    if calibration["state"] != "complete":
        raise RuntimeError(f"calibration generation failed: {calibration}")
    # How long each stage takes here and now (the machine is shared: absolute delays from the
    # fork would pile up in whichever stage happens to be slow today).
    durations: dict[str, float] = {}
    for index in (1, 2):
        run(index, None)
        marks = [(x["stage"], x["t"]) for x in read(logs / f"{index:03d}.log") if "t" in x]
        for (name, t0), (_next, t1) in zip(marks, marks[1:]):
            durations[name] = max(durations.get(name, 0.0), t1 - t0)
    durations["fork"] = 0.1  # fork to start-up: the flow context (and its start-up recovery)
    plan = [(stage, rng.uniform(0, durations.get(stage, 0.05))) for k in range(kills)
            for stage in [KILL_STAGES[k % len(KILL_STAGES)]]]
    rng.shuffle(plan)
    index = 3
    for after, delay in plan:
        run(index, delay, after=after)
        index += 1
    for target in TARGETED:  # the narrow windows, on purpose; left for doctor to find
        run(index, None, target)
        index += 1
    return {"stage_seconds": durations, "results": results}


# ----------------------------------------------------------------------------- tests

def _cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_HOME=str(home), REELGUARD_POLICY_SEMANTIC="false", HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "governance.service.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_generations_killed_at_random_points_leave_nothing_behind(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    report_path = tmp_path / "harness.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_POLICY_SEMANTIC="false", HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "tests.governance.flows.test_crash_safety", str(home), str(out),
                           str(KILLS), "20", str(report_path)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    harness_report = json.loads(report_path.read_text())
    results = harness_report["results"]
    killed = [r for r in results if r["killed"]]
    assert len(killed) >= KILLS * 0.9, results  # a few may finish before their delay
    states = {r["state"] for r in killed}
    # the kills are spread across the stages
    assert {"before-journal", "encoding"} <= states, states
    assert {"signed-manifest-saved", "committed-unplaced"} <= states, states  # the targeted two
    assert len({r["last_stage"] for r in killed}) >= 4, results

    # Keep a copy of each signed temp that never got its record (a clip that "escaped").
    escaped = tmp_path / "escaped"
    escaped.mkdir()
    for path in sorted(out.glob(".*.signed.mp4")):
        cid = path.name.split(".")[2]
        with sqlite3.connect(home / "reelguard.db") as db:
            if not db.execute("select 1 from generation_record where content_id = ?", (cid,)).fetchone():
                (escaped / f"{cid}.mp4").write_bytes(path.read_bytes())
    assert list(escaped.iterdir()), "the targeted kill after the manifest save leaves a signed temp"

    # doctor --fix cleans up what the last kill left.
    fixed = _cli(home, "doctor", "--fix", "--json", "--scan", str(out))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    doctor_report = json.loads(fixed.stdout)
    cleaned = doctor_report["findings"]
    assert {"orphan-temp", "orphan-manifest", "dead-journal-entry"} <= {f["kind"] for f in cleaned}, cleaned
    assert all(f["action"] in ("removed", "renamed", "chmod") for f in cleaned), cleaned
    # the same recovery ran at each child's start-up, for the kill before it
    kinds = {f["kind"] for f in cleaned} | {k for r in results for k in r["recovered_at_startup"]}
    assert "unplaced-output" in kinds, kinds  # committed, not renamed: finished, not lost
    again = _cli(home, "doctor", "--json", "--scan", str(out))
    assert again.returncode == 0 and json.loads(again.stdout)["ok"], again.stdout

    # No orphan temps, no journal, no half-written output.
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    assert list((home / "inflight").glob("*.json")) == []
    ctx = stub_context(home)
    from sqlmodel import select

    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecord

    with session_scope(ctx.engine) as session:
        records = {r.output_name: r for r in session.exec(select(GenerationRecord))}
    events = _recorded_events(home)
    outputs = sorted(out.glob("*.mp4"))
    assert outputs
    for path in outputs:  # every output file verifies authentic and has its record and events
        report = verify(ctx, path, options=VerifyOptions(stages=frozenset({"c2pa", "watermark"})))
        assert report.verdict == "authentic", (path.name, report.reasons)
        assert report.record is not None and records[path.name].content_id == report.record.content_id
        assert report.record.content_id in events
    for name in records:  # every record has its file
        assert (out / name).is_file(), name
    audit = ctx.audit.verify()  # the log, its tags, the witness checkpoints and the record cross-checks
    assert audit.ok, audit.failures
    for path in escaped.iterdir():  # a signed clip with no record never verifies authentic
        report = verify(ctx, path)
        assert report.verdict == "unverifiable" and "unrecorded-release" in report.flags, report.reasons
    summary = {
        "kills": len(killed),
        "states": {s: sum(r["state"] == s for r in killed) for s in sorted(states)},
        "last_stages": sorted({r["last_stage"] for r in killed}),
        "outputs": len(outputs), "records": len(records),
        "recovered_at_startup": sum(len(r["recovered_at_startup"]) for r in results),
        "doctor": sorted(kinds),
    }
    print("crash-test summary:", json.dumps(summary))


def _recorded_events(home: Path) -> set[str]:
    with sqlite3.connect(home / "reelguard.db") as db:
        rows = db.execute("select payload from audit_entries where kind = 'generation.recorded'").fetchall()
    return {json.loads(row[0])["event"]["content_id"] for row in rows}


def _distinct_clip(path: Path, seed: int) -> Path:
    """Blocky random frames: every seed is a different work to the fingerprints."""
    from detectors.video_io import write_video

    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    write_video(path, np.kron(blocks, np.ones((1, 16, 16, 1), dtype=np.uint8)), fps=8.0)
    return path


def test_registry_add_killed_at_random_points(tmp_path):
    """`registry add` is one transaction: a kill leaves the whole work or none of it, and the
    same clip can be added again afterwards (nothing half-registered blocks it as a duplicate)."""
    home = tmp_path / "home"
    clips = [_distinct_clip(tmp_path / f"work-{i}.mp4", i) for i in range(5)]
    started = time.perf_counter()
    first = _cli(home, "registry", "add", str(clips[0]), "--owner", "o", "--title", "w0", "--json")
    assert first.returncode == 0, first.stderr
    length = time.perf_counter() - started
    rng = random.Random(7)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_HOME=str(home), REELGUARD_POLICY_SEMANTIC="false")
    for k, clip in enumerate(clips[1:]):  # stratified over one run, the tail (the commit) included
        delay = length * (0.4 + 0.6 * (k + rng.random()) / (len(clips) - 1))
        proc = subprocess.Popen([sys.executable, "-m", "governance.service.cli", "registry", "add", str(clip),
                                 "--owner", "o", "--title", f"w{k + 1}", "--json"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ctx = FlowContext(get_settings(home=home), semantic_policy=False)
    report = doctor(ctx, fix=True)
    assert report.ok, report.findings
    audit = ctx.audit.verify()  # registry changes are in the log and cross-checked against the works
    assert audit.ok, audit.failures
    listed = {w.title for w in ctx.registry.list_works()}
    assert "w0" in listed
    for k, clip in enumerate(clips[1:]):  # re-adding works: registered once, never half
        again = ctx.registry.add_paths([clip], owner="o", title=f"w{k + 1}")
        assert again.duplicate == (f"w{k + 1}" in listed), (k, listed)


# ----------------------------------------------------------------------------- unit tests

def test_journal_entry_round_trip_and_permissions(tmp_path):
    settings = get_settings(home=tmp_path / "home")
    settings.ensure_dirs()
    journal = InflightJournal(settings)
    entry = journal.begin(content_id="0123456789abcdef", output=tmp_path / "a.mp4",
                          temps=temp_paths(tmp_path / "a.mp4", "0123456789abcdef"))
    assert entry.pid == os.getpid() and entry.alive
    (read,) = journal.entries()
    assert read.content_id == entry.content_id and read.temps == entry.temps and read.output == entry.output
    assert oct(journal.folder.stat().st_mode & 0o777) == "0o700"
    assert oct(read.path.stat().st_mode & 0o777) == "0o600"
    assert not journal.has_dead_entries()
    journal.end("0123456789abcdef")
    assert journal.entries() == []
    with pytest.raises(ValueError):
        journal.begin(content_id="../../etc", output=tmp_path / "a.mp4", temps=())


def _dead_entry(journal: InflightJournal, cid: str, output: Path) -> list[Path]:
    temps = list(temp_paths(output, cid))
    journal.begin(content_id=cid, output=output, temps=temps)
    path = journal.folder / f"{cid}.json"
    data = json.loads(path.read_text())
    data["pid"] = _dead_pid()
    path.write_text(json.dumps(data))
    for temp in temps:
        temp.write_bytes(b"half")
    return temps


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_startup_recovery_removes_temps_of_a_dead_generation(tmp_path):
    ctx = stub_context(tmp_path / "home")
    journal = InflightJournal(ctx.settings)
    temps = _dead_entry(journal, "00000000000000aa", tmp_path / "clip.mp4")
    live = list(temp_paths(tmp_path / "live.mp4", "00000000000000bb"))
    journal.begin(content_id="00000000000000bb", output=tmp_path / "live.mp4", temps=live)  # this process: alive
    fresh = stub_context(tmp_path / "home")  # start-up recovery
    assert {f.kind for f in fresh.recovered} == {"orphan-temp", "dead-journal-entry"}
    assert not any(p.exists() for p in temps)
    assert [e.content_id for e in journal.entries()] == ["00000000000000bb"]  # a live one is left alone
    assert recover_inflight(fresh) == []


def test_doctor_reports_then_fixes(tmp_path):
    ctx = stub_context(tmp_path / "home")
    journal = InflightJournal(ctx.settings)
    out = tmp_path / "out"
    out.mkdir()
    temps = _dead_entry(journal, "00000000000000cc", out / "clip.mp4")
    stray = out / ".other.00000000000000dd.signed.mp4"
    stray.write_bytes(b"x")
    from governance.provenance.manifest_store import ManifestStore

    store = ManifestStore(ctx.settings)
    store.save("00000000000000ee", json.dumps({"active_manifest": "urn:c2pa:orphan", "manifests": {}}), b"m")
    os.chmod(ctx.settings.keys_path, 0o755)

    dry = doctor(ctx, scan=[out])
    kinds = {f.kind: f.action for f in dry.findings}
    assert kinds == {"orphan-temp": "would-fix", "dead-journal-entry": "would-fix", "orphan-manifest": "would-fix",
                     "loose-permissions": "would-fix"}, dry.findings
    assert not dry.ok and all(p.exists() for p in temps) and stray.exists()  # a dry run changes nothing
    fixed = doctor(ctx, fix=True, scan=[out])
    assert fixed.ok and {f.action for f in fixed.findings} <= {"removed", "chmod"}
    assert not stray.exists() and not any(p.exists() for p in temps)
    assert store.get("00000000000000ee") is None and store.find_by_label("urn:c2pa:orphan") is None
    assert doctor(ctx, scan=[out]).findings == ()
    assert json.loads(json.dumps(fixed.to_dict()))["ok"] is True


def test_remove_stored_manifest_keeps_other_entries(tmp_path):
    from governance.provenance.manifest_store import ManifestStore

    store = ManifestStore(tmp_path / "m")
    store.save("00000000000000aa", json.dumps({"active_manifest": "urn:c2pa:a", "manifests": {}}), b"a")
    store.save("00000000000000bb", json.dumps({"active_manifest": "urn:c2pa:b", "manifests": {}}), b"b")
    assert remove_stored_manifest(store, "00000000000000aa")
    assert store.get("00000000000000aa") is None and store.find_by_label("urn:c2pa:a") is None
    assert store.find_by_label("urn:c2pa:b").content_id == "00000000000000bb"
    assert not remove_stored_manifest(store, "00000000000000aa")


def test_unrecorded_release_is_never_authentic():
    """The verdict rule alone: this install's credentials with no record -> unverifiable."""
    from detectors.provenance import ProvenanceReport

    report = ProvenanceReport(state="trusted", manifest_label="urn:c2pa:x", signer="Org C2PA Signer 1234abcd",
                              issuer="Org", content_id="0123456789abcdef", generation={"content_id": "0123456789abcdef"})
    assert decide_verdict(report, None, record_found=False)[0] == "authentic"
    verdict, reasons = decide_verdict(report, None, record_found=False, unrecorded_own_release=True)
    assert verdict == "unverifiable"
    assert "no generation record" in reasons[0] and "0123456789abcdef" in reasons[0]


def test_signed_temp_of_a_killed_generation_verifies_unrecorded(tmp_path):
    """End to end: a signed file whose record never committed is `unverifiable` +
    `unrecorded-release`; the same file once recorded is `authentic`; another install's
    signer is not subject to the rule."""
    from governance.records.storage.db import session_scope

    ctx = stub_context(tmp_path / "home")
    outcome = generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "clip.mp4", seed=3))
    assert verify(ctx, outcome.output).verdict == "authentic"
    with session_scope(ctx.engine) as session:  # as if the commit had never happened
        from sqlmodel import delete

        from governance.records.storage.records import GenerationRecord

        session.exec(delete(GenerationRecord))
    report = verify(ctx, outcome.output)
    assert report.verdict == "unverifiable" and "unrecorded-release" in report.flags
    assert any("no generation record" in r for r in report.reasons)
    other = stub_context(tmp_path / "other")  # another install trusting this one's CA
    from governance.provenance.trust import TrustStore

    TrustStore(other.settings).add(ctx.trust_anchors_pem.encode(), kind="anchor", source="test")
    foreign = verify(other, outcome.output)
    assert "unrecorded-release" not in foreign.flags


def test_wrong_passphrase_fails_before_any_model_loads(tmp_path, monkeypatch):
    from governance.core.errors import PassphraseError
    from governance.provenance.keys import create_identity

    home = tmp_path / "home"
    create_identity(get_settings(home=home, key_passphrase="right-one"))
    ctx = FlowContext(get_settings(home=home, key_passphrase="wrong-one"), semantic_policy=True)
    loaded: list[str] = []
    monkeypatch.setattr(FlowContext, "generator", lambda self, model=None: loaded.append("diffusion"))
    import policies

    monkeypatch.setattr(policies.PolicyEngine, "load", classmethod(lambda cls, *a, **k: loaded.append("policy")))
    with pytest.raises(PassphraseError):
        generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "clip.mp4"))
    assert loaded == []  # neither the policy model nor the diffusion model was loaded


def test_first_encrypted_key_from_a_prompt_is_asked_twice(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from governance.service.cli.keys import app

    for name in list(os.environ):
        if name.startswith("REELGUARD_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    mismatch = runner.invoke(app, ["init", "--prompt"], input="first-pass\nfirst-typo\nfirst-pass\nfirst-pass\n")
    assert "do not match" in mismatch.output.lower() or "error" in mismatch.output.lower()
    # an unencrypted identity, then a rotation that encrypts its first key: asked twice as well
    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home2"))
    assert runner.invoke(app, ["init"]).exit_code == 0
    refused = runner.invoke(app, ["rotate", "--prompt"], input="abc\nabd\n")
    assert refused.exit_code != 0
    assert not (tmp_path / "home2" / "keys" / "c2pa" / "retired").exists()  # nothing changed
    accepted = runner.invoke(app, ["rotate", "--prompt"], input="abc\nabc\n")
    assert accepted.exit_code == 0, accepted.output


if __name__ == "__main__":  # the harness: python -m tests.governance.flows.test_crash_safety HOME OUT KILLS SEED REPORT
    home_arg, out_arg, kills_arg, seed_arg, report_arg = sys.argv[1:6]
    summary = harness(Path(home_arg), Path(out_arg), int(kills_arg), int(seed_arg))
    Path(report_arg).write_text(json.dumps(summary))
