"""Tampering with the stored log, on SQLite and PostgreSQL: verify catches it and names the row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from governance.records.audit import AuditLog, merkle, sign_checkpoint
from governance.records.audit.checkpoint import NoteSigner, NoteVerifier
from governance.records.audit.events import ConsentEvent
from governance.records.audit.models import AuditEntry, AuditHead
from governance.records.storage.db import get_engine, session_scope
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

E = AuditEntry.__table__
N = 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path}/audit.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return get_engine(url)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner("reelguard.audit/test", Ed25519PrivateKey.generate())


@pytest.fixture
def log(engine: Engine, signer: NoteSigner) -> AuditLog:
    log = AuditLog(engine, verifier=signer.verifier)
    with session_scope(engine) as session:
        log.append_many(session, [ConsentEvent(action="use", license_id=f"L{i}", person="ada") for i in range(N)])
    assert log.verify().ok
    return log


def _rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(E).order_by(E.c.leaf_index)).mappings()]


def _set(engine: Engine, index: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(E).where(E.c.leaf_index == index).values(**values))


def _rewrite_chain(engine: Engine, rows: list[dict]) -> None:
    """What a careful attacker does: recompute every hash, subtree and root after an edit."""
    tree = merkle.MemoryTree()
    with engine.begin() as conn:
        conn.execute(E.delete())
        for i, row in enumerate(rows):
            lh = merkle.leaf_hash(bytes(row["payload"]))
            tree.append_hash(lh)
            closed, idx, level = b"", i, 0
            while idx & 1:
                level, idx = level + 1, idx >> 1
                closed += tree.node((level, idx))
            conn.execute(E.insert().values(**{**row, "leaf_index": i, "leaf_hash": lh.hex(), "nodes": closed,
                                              "root_hash": tree.root().hex()}))
        conn.execute(update(AuditHead.__table__).values(size=len(rows)))


def test_edited_payload_is_named(log: AuditLog, engine: Engine) -> None:
    row = _rows(engine)[5]
    _set(engine, 5, payload=bytes(row["payload"]).replace(b"L5", b"L9"))
    result = log.verify()
    assert (result.ok, result.first_bad_index, result.first_bad_event_id) == (False, 5, row["event_id"])
    assert "edited" in result.reason


def test_edited_column_is_named(log: AuditLog, engine: Engine) -> None:
    _set(engine, 3, kind="generation.generated")
    assert log.verify().first_bad_index == 3


@pytest.mark.parametrize("index", [4, 5])
def test_edit_with_recomputed_leaf_hash_is_named(log: AuditLog, engine: Engine, index: int) -> None:
    payload = bytes(_rows(engine)[index]["payload"]).replace(b"\"person\":\"ada\"", b"\"person\":\"eve\"")
    _set(engine, index, payload=payload, leaf_hash=merkle.leaf_hash(payload).hex())
    assert log.verify().first_bad_index == index


def test_deleted_event_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == 6))
    result = log.verify()
    assert (result.ok, result.first_bad_index) == (False, 6)
    assert rows[5]["event_id"] in result.reason


def test_deleted_last_event_is_caught(log: AuditLog, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == N - 1))
    assert log.verify().first_bad_index == N - 1


def test_delete_and_renumber_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == 6))
        for i in range(7, N):
            conn.execute(update(E).where(E.c.leaf_index == i).values(leaf_index=i - 1))
        conn.execute(update(AuditHead.__table__).values(size=N - 1))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (6, rows[7]["event_id"])


def test_reordered_events_are_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(update(E).where(E.c.leaf_index == 3).values(leaf_index=-1))
        conn.execute(update(E).where(E.c.leaf_index == 8).values(leaf_index=3))
        conn.execute(update(E).where(E.c.leaf_index == -1).values(leaf_index=8))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (3, rows[8]["event_id"])


def test_inserted_event_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    forged = {**rows[2], "event_id": "f" * 32}
    with engine.begin() as conn:
        for i in reversed(range(4, N)):
            conn.execute(update(E).where(E.c.leaf_index == i).values(leaf_index=i + 1))
        conn.execute(E.insert().values(**{**forged, "leaf_index": 4}))
        conn.execute(update(AuditHead.__table__).values(size=N + 1))
    result = log.verify()
    assert result.first_bad_index == 4 and not result.ok


def test_appended_row_without_head_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.insert().values(**{**rows[0], "leaf_index": N, "event_id": "e" * 32}))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (N, "e" * 32)


def test_consistent_rewrite_is_caught_by_checkpoints(log: AuditLog, engine: Engine, signer: NoteSigner) -> None:
    """Rows rewritten consistently pass the row checks; the signed checkpoints do not."""
    sign_checkpoint(log, signer)  # size N
    rows = _rows(engine)
    rows[7]["payload"] = bytes(rows[7]["payload"]).replace(b"L7", b"L0")
    _rewrite_chain(engine, rows)
    result = log.verify()
    assert not result.ok and result.first_bad_index == 0 and "rewritten" in result.reason


def test_rewrite_is_localised_between_checkpoints(engine: Engine, signer: NoteSigner) -> None:
    log = AuditLog(engine, verifier=signer.verifier)
    for batch in range(3):
        with session_scope(engine) as session:
            log.append_many(session, [ConsentEvent(action="use", license_id=f"B{batch}-{i}", person="ada") for i in range(4)])
        sign_checkpoint(log, signer)
    rows = _rows(engine)
    # the quoted field, not "ada": those three letters are hex and may also sit in an event id
    rows[9]["payload"] = bytes(rows[9]["payload"]).replace(b"\"person\":\"ada\"", b"\"person\":\"eve\"")
    _rewrite_chain(engine, rows)
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (8, rows[8]["event_id"]), result.reason


def test_forged_checkpoint_is_rejected(log: AuditLog, signer: NoteSigner, tmp_path: Path) -> None:
    good = sign_checkpoint(log, signer)
    assert log.verify(good).ok
    mallory = NoteSigner(signer.name, Ed25519PrivateKey.generate())
    forged = mallory.sign(good.origin, good.size, good.root)
    result = log.verify(forged)
    assert not result.ok and "forged" in result.reason
    path = tmp_path / "edited.checkpoint"
    path.write_text(good.note().replace(f"\n{good.size}\n", f"\n{good.size + 5}\n"))
    assert not log.verify(path).ok


def test_checkpoint_larger_than_log_means_deletion(log: AuditLog, engine: Engine, signer: NoteSigner) -> None:
    checkpoint = sign_checkpoint(log, signer)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index >= N - 2))
        conn.execute(update(AuditHead.__table__).values(size=N - 2))
    result = log.verify(checkpoint)
    assert not result.ok and "deleted" in result.reason


def test_verifier_with_other_key_rejects_stored_checkpoints(log: AuditLog, signer: NoteSigner) -> None:
    sign_checkpoint(log, signer)
    other = NoteVerifier("reelguard.audit/test", Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    assert not log.verify(verifier=other).ok


# --------------------------------------------------------------------------------------------
# The twelve ways to cut the log quietly (issue #20), each caught and named given the install's
# external (witness) checkpoints. The log here is an install's: its key tags every append and
# signs the automatic checkpoints, published to $home/witness.
# --------------------------------------------------------------------------------------------

from governance.core.settings import Settings  # noqa: E402
from governance.records.audit.events import (  # noqa: E402
    GenerationEvent,
    GenerationRecordedEvent,
    ManifestSignedEvent,
    OutputRegistryCheckEvent,
    PolicyDecisionEvent,
    RegistryChangeEvent,
    WatermarkEmbeddedEvent,
)
from governance.records.audit.checkpoint import Checkpoint  # noqa: E402
from governance.records.audit.models import AuditCheckpointRecord  # noqa: E402
from governance.records.registry.models import Work  # noqa: E402
from governance.records.storage.records import GenerationRecord, GenerationRecordCreate, create_record  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402
from sqlalchemy import delete, text  # noqa: E402

GEN = GenerationRecord.__table__
WORKS = Work.__table__
CPS = AuditCheckpointRecord.__table__


def generate(log: AuditLog, session, i: int) -> str:
    """What the generate flow writes in its one transaction: 6 events and the record row."""
    content = f"{i:016x}"
    log.append(session, PolicyDecisionEvent(prompt_sha256="p" * 64, action="allow", pack_digest="d" * 64,
                                            jurisdiction="eu"), actor="cli")
    gen = log.append(session, GenerationEvent(
        content_id=content, prompt_sha256="p" * 64, model_id="m", pipeline_class="WanPipeline", weights_digest="w",
        seed=i, steps=4, width=64, height=64, num_frames=9, fps=8.0, jurisdiction="eu"), actor="cli")
    log.append(session, WatermarkEmbeddedEvent(content_id=content, scheme="dwt", payload_hex=content), actor="cli")
    log.append(session, ManifestSignedEvent(content_id=content, manifest_digest=f"md-{i}", manifest_label=f"urn:{i}",
                                            file_sha256=f"{i:064x}", signer="CN=t", generation_leaf_index=gen.leaf_index),
               actor="cli")
    log.append(session, OutputRegistryCheckEvent(content_id=content, outcome="clear"), actor="cli")
    create_record(session=session, record_in=GenerationRecordCreate(
        content_id=content, payload_hex=content, watermark_scheme="dwt", prompt_sha256="p" * 64, policy_action="allow",
        pack_digest="d" * 64, jurisdiction="eu", model_id="m", pipeline_class="WanPipeline", weights_digest="w",
        seed=i, steps=4, width=64, height=64, num_frames=9, fps=8.0, manifest_digest=f"md-{i}",
        manifest_label=f"urn:{i}", file_sha256=f"{i:064x}", output_name=f"out{i}.mp4", signer="CN=t",
        audit_leaf_index=gen.leaf_index))
    log.append(session, GenerationRecordedEvent(content_id=content, file_sha256=f"{i:064x}", output_name=f"out{i}.mp4"),
               actor="cli")
    return content


@pytest.fixture
def install(request: pytest.FixtureRequest, tmp_path: Path):
    """(settings, log, url) of an install with 3 generations, 1 registered work, 6 consent events:
    24 leaves, automatic checkpoints every 5 events, and a final one (the operator's cron)."""
    backend = getattr(request, "param", "sqlite")
    url = f"sqlite:///{tmp_path}/home/reelguard.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    settings = Settings(home=tmp_path / "home", database_url=url, audit_checkpoint_every_events=5,
                        audit_checkpoint_every_minutes=0)
    settings.ensure_dirs()
    log = AuditLog(get_engine(url), settings=settings)
    for i in range(3):
        with session_scope(log.engine) as session:
            generate(log, session, i)
    with session_scope(log.engine) as session:
        session.add(Work(id="w1", owner="Studio", title="Trailer"))
        session.flush()
        log.append(session, RegistryChangeEvent(action="add", work_id="w1", owner="Studio", title="Trailer", assets=1),
                   actor="registry")
    for i in range(5):
        with session_scope(log.engine) as session:
            log.append(session, ConsentEvent(action="use", license_id=f"L{i}", person="ada"))
    sign_checkpoint(log, log.signer)
    result = log.verify()
    assert result.ok and result.size == 24 and result.witness.status == "consistent", result.reason
    assert result.records_checked == 3 and result.registry_works_checked == 1 and result.authenticated_size == 24
    return settings, log, url


def _reopen(settings: Settings, url: str) -> AuditLog:
    get_engine(url).dispose()
    get_engine.cache_clear()
    return AuditLog(get_engine(url), settings=settings)


def _cut_tail(engine: Engine, keep: int, *, checkpoints: bool = False) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index >= keep))
        conn.execute(update(AuditHead.__table__).values(size=keep))
        if checkpoints:
            conn.execute(CPS.delete())


def _drop_everything(url: str) -> None:
    if url.startswith("sqlite"):
        return
    engine = get_engine(url)
    with engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def case_delete_last_and_lower_head(settings, log, url):
    _cut_tail(log.engine, 21)
    return "log-truncated", 21


def case_rewrite_with_recomputed_hashes(settings, log, url):
    rows = _rows(log.engine)
    rows[19]["payload"] = bytes(rows[19]["payload"]).replace(b"L0", b"L9")
    _rewrite_chain(log.engine, rows)
    return "log-rewritten", None


def case_append_forged_event(settings, log, url):
    forger = AuditLog(log.engine, install=False)  # the database, but not the install's key
    with session_scope(log.engine) as session:
        forger.append(session, ConsentEvent(action="grant", license_id="FORGED", person="ada", scope="likeness"))
    return "unauthenticated", 24


def case_blank_payloads_inside_retention(settings, log, url):
    from datetime import datetime, timezone

    _set(log.engine, 20, payload=None, pruned_at=datetime.now(timezone.utc))
    return "pruned-early", 20


def case_delete_events_and_stored_checkpoints(settings, log, url):
    _cut_tail(log.engine, 12, checkpoints=True)
    return "log-truncated", 12


def case_truncate_database(settings, log, url):
    if url.startswith("sqlite"):
        log.engine.dispose()
        db = Path(url.removeprefix("sqlite:///"))
        with open(db, "r+b") as handle:
            handle.truncate(0)
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        with log.engine.begin() as conn:
            for table in ("audit_entries", "audit_checkpoints", "generation_record", "registry_work"):
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(update(AuditHead.__table__).values(size=0))
    return "log-truncated", 0


def case_delete_database(settings, log, url):
    if url.startswith("sqlite"):
        log.engine.dispose()
        db = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        _drop_everything(url)
    return "log-truncated", 0


def case_edit_generation_record(settings, log, url):
    with log.engine.begin() as conn:
        conn.execute(update(GEN).where(GEN.c.content_id == f"{1:016x}").values(file_sha256="0" * 64))
    return "record-mismatch", None


def case_delete_middle_event(settings, log, url):
    with log.engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == 9))
    return "leaf-missing", 9


def case_reorder_events(settings, log, url):
    with log.engine.begin() as conn:
        conn.execute(update(E).where(E.c.leaf_index == 19).values(leaf_index=-1))
        conn.execute(update(E).where(E.c.leaf_index == 22).values(leaf_index=19))
        conn.execute(update(E).where(E.c.leaf_index == -1).values(leaf_index=22))
    return "leaf-moved", 19


def case_edit_registry_change(settings, log, url):
    with log.engine.begin() as conn:
        conn.execute(update(WORKS).where(WORKS.c.id == "w1").values(owner="Mallory Films"))
    return "registry-mismatch", 18


def case_replay_old_checkpoint(settings, log, url):
    witness = settings.home / "witness"
    old = sorted((witness / "checkpoints").iterdir())[0]  # the first checkpoint published
    size = Checkpoint.parse(old.read_bytes()).size
    _cut_tail(log.engine, size)
    with log.engine.begin() as conn:
        conn.execute(CPS.delete().where(CPS.c.size > size))
    (witness / "checkpoint").write_bytes(old.read_bytes())
    return "checkpoint-rollback", None


def case_checkpoint_signed_by_another_key(settings, log, url):
    witness = settings.home / "witness" / "checkpoint"
    good = Checkpoint.parse(witness.read_bytes())
    mallory = NoteSigner(log.signer.name, Ed25519PrivateKey.generate())
    witness.write_text(mallory.sign(good.origin, good.size + 1, good.root).note())
    return "checkpoint-invalid", None


CASES = [
    case_delete_last_and_lower_head,
    case_rewrite_with_recomputed_hashes,
    case_append_forged_event,
    case_blank_payloads_inside_retention,
    case_delete_events_and_stored_checkpoints,
    case_truncate_database,
    case_delete_database,
    case_edit_generation_record,
    case_delete_middle_event,
    case_reorder_events,
    case_edit_registry_change,
    case_replay_old_checkpoint,
    case_checkpoint_signed_by_another_key,
]


@pytest.mark.parametrize("install", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("tamper", CASES, ids=lambda f: f.__name__.removeprefix("case_").replace("_", "-"))
def test_each_cut_is_caught_and_named(install, tamper) -> None:
    """Each way of cutting the log fails verify, and the first failure names the case (and leaf)."""
    settings, log, url = install
    case, leaf = tamper(settings, log, url)
    result = _reopen(settings, url).verify()
    assert not result.ok
    assert result.case == case, [f.detail for f in result.failures]
    if leaf is not None:
        assert result.failures[0].leaf == leaf, result.failures[0]


def test_record_and_work_deleted_are_named(install) -> None:
    settings, log, url = install
    with log.engine.begin() as conn:
        conn.execute(delete(GEN).where(GEN.c.content_id == f"{2:016x}"))
        conn.execute(delete(WORKS))
    cases = {(f.case, f.row) for f in log.verify().failures}
    assert cases == {("record-missing", f"generation_record (content {2:016x})"),
                     ("registry-missing", "registry_work/w1")}


def test_no_external_checkpoint_is_said_clearly(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, audit_checkpoint_every_events=0, audit_checkpoint_every_minutes=0)
    log = AuditLog(get_engine(settings.resolved_database_url), settings=settings)
    with session_scope(log.engine) as session:
        log.append(session, ConsentEvent(action="use", license_id="L", person="ada"))
    result = log.verify()
    assert result.ok and result.witness.status == "none" and result.witness.location == str(tmp_path / "witness")


def test_checkpoints_are_made_and_published_automatically(install) -> None:
    settings, log, url = install
    witness = settings.home / "witness"
    sizes = sorted(int(p.name) for p in (witness / "checkpoints").iterdir())
    assert sizes[0] == 6 and sizes[-1] == 24  # the first commit past 5 leaves, then every crossing, then cron
    latest = Checkpoint.parse((witness / "checkpoint").read_bytes())
    assert latest.size == 24 and log.signer.verifier.verify(latest)
    assert not [p for p in witness.iterdir() if p.name.endswith(".tmp")]


def test_retention_refuses_to_prune_inside_the_period(install) -> None:
    from governance.core.errors import AuditError
    from governance.records.audit.retention import prune

    settings, log, url = install
    with pytest.raises(AuditError, match="inside the retention period"), session_scope(log.engine) as session:
        prune(log, session, retention_days=settings.retention_days - 1)


def test_http_witness_on_loopback(tmp_path: Path) -> None:
    """A URL witness: POST publishes, GET returns the latest; verify checks against it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    notes: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            notes.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def do_GET(self):  # noqa: N802
            if not notes:
                self.send_error(404)
                return
            body = max(notes, key=lambda n: Checkpoint.parse(n).size)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(home=tmp_path, audit_witness=f"http://127.0.0.1:{server.server_port}/checkpoint",
                            audit_checkpoint_every_events=4, audit_checkpoint_every_minutes=0)
        log = AuditLog(get_engine(settings.resolved_database_url), settings=settings)
        assert log.verify().witness.status == "none"
        for i in range(9):
            with session_scope(log.engine) as session:
                log.append(session, ConsentEvent(action="use", license_id=f"L{i}", person="ada"))
        assert [Checkpoint.parse(n).size for n in notes] == [4, 8]  # each commit that crossed a multiple of 4
        result = log.verify()
        assert result.ok and result.witness.status == "consistent" and result.witness.size == 8
        _cut_tail(log.engine, 6)
        result = log.verify()
        assert result.case == "log-truncated" and result.witness.status == "failed"
    finally:
        server.shutdown()


def test_stripping_every_tag_does_not_switch_the_tag_check_off(tmp_path):
    """A writer with database access but not the keys rewrites the last event (hashes, nodes and
    root recomputed) and clears every authentication tag: still caught and named."""
    import json as _json

    from sqlalchemy import text as _text

    from governance.core.settings import get_settings
    from governance.flows.context import FlowContext
    from governance.records.audit import merkle
    from governance.records.audit.canonical import canonical_bytes
    from governance.records.audit.events import PolicyDecisionEvent
    from governance.records.audit.frontier import Frontier
    from governance.records.audit.rows import fetch_nodes
    from governance.records.storage.db import session_scope

    ctx = FlowContext(get_settings(home=tmp_path / "home", timestamp=False), semantic_policy=False)
    for action in ("allow", "allow", "deny"):
        with session_scope(ctx.engine) as session:
            ctx.audit.append(session, PolicyDecisionEvent(prompt_sha256="0" * 64, action=action, pack_digest="x",
                                                          jurisdiction="EU"))
    assert ctx.audit.verify().ok
    with ctx.engine.begin() as conn:
        index, payload = conn.execute(_text("select leaf_index, payload from audit_entries "
                                            "order by leaf_index desc limit 1")).first()
        doc = _json.loads(payload)
        doc["event"]["action"] = "allow"
        new = canonical_bytes(doc)
        keys = merkle.compact_range(index)
        nodes = fetch_nodes(conn, keys)
        frontier = Frontier(index, [k[0] for k in keys], [nodes[k] for k in keys])
        closed = frontier.push(merkle.leaf_hash(new))
        conn.execute(_text("update audit_entries set payload=:p, leaf_hash=:h, nodes=:n, root_hash=:r "
                           "where leaf_index=:i"),
                     dict(p=new, h=merkle.leaf_hash(new).hex(), n=closed, r=frontier.root().hex(), i=index))
        conn.execute(_text("update audit_entries set auth_tag=NULL"))
    result = ctx.audit.verify()
    assert not result.ok and "unauthenticated" in {f.case for f in result.failures}
