"""A realistic synthetic month of audit events, for the sample report, tests and benchmarks.

The events follow the shapes the generation and verification flows append (one transaction per
generation: decision, generation, watermark, signature, registry check, record) with a weekday
rhythm, denials by real pack categories and rules, reviews resolved a day later, protected
material blocked by the output check, consent grants/uses/revocations, verifications by verdict,
one key rotation and a retention run. ``defects`` injects the realistic lapses a report must
surface (a Chinese output shipped without its visible label).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from governance.records.audit.events import (
    AuditEvent,
    ConsentEvent,
    GenerationEvent,
    GenerationRecordedEvent,
    KeyRotationEvent,
    ManifestSignedEvent,
    OutputRegistryCheckEvent,
    PolicyDecisionEvent,
    RegistryChangeEvent,
    RetentionEvent,
    ReviewDecisionEvent,
    VerificationEvent,
    WatermarkEmbeddedEvent,
)
from governance.records.audit.log import AuditLog
from governance.records.storage.db import session_scope

__all__ = ["SyntheticMonth", "synthetic_events", "write_synthetic_month"]

PACK = hashlib.sha256(b"reelguard bundled packs 2026.11").hexdigest()
DENIALS = [  # (category, rule id, weight)
    ("protected-character", "characters.marvel", 9), ("protected-character", "characters.disney", 7),
    ("likeness-public-figure", "likeness.politics", 6), ("likeness-public-figure", "likeness.music", 3),
    ("deepfake", "deepfake.deceptive", 5), ("sexual", "nudity.terms", 4), ("violence", "hate.violence", 2),
    ("disinformation", "disinformation.election", 3), ("sexual-minors", "illegal.depiction", 1),
    ("self-harm", "self-harm.semantic", 1),
]
HOLDERS = [("Marvel Characters Inc.", "w-marvel-0042", "Spider-Verse trailer"),
           ("Studio Ghibli", "w-ghibli-0007", "Forest spirit sequence"),
           ("Warner Bros. Discovery", "w-wbd-0113", "Gotham night flight"),
           ("Sony Music Entertainment", "w-sme-0020", "Concert stage footage")]
VERDICTS = [("authentic", 52), ("recovered", 14), ("unknown", 22), ("untrusted", 6), ("tampered", 6)]
JURISDICTIONS = [("eu", 5), ("us-ca", 3), ("cn", 2)]
LABELS = {"eu": [], "us-ca": ["sb942-latent"], "cn": ["visible-label", "gb45438-implicit"]}
OBLIGATIONS = {"eu": ["c2pa", "watermark"], "us-ca": ["c2pa", "watermark", "sb942-latent"],
               "cn": ["c2pa", "watermark", "visible-label", "gb45438-implicit"]}


@dataclass(frozen=True)
class SyntheticMonth:
    start: datetime
    days: int
    events: int
    generations: int


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _pick(rng: random.Random, weighted: list) -> tuple:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def synthetic_events(
    start: datetime, *, days: int = 30, per_day: int = 60, seed: int = 7, defects: bool = True
) -> Iterator[tuple[datetime, list[AuditEvent]]]:
    """Yields (time, events of one transaction) in time order."""
    rng = random.Random(seed)
    batches: list[tuple[datetime, list[AuditEvent]]] = []
    licences = [f"lic-{i:03d}" for i in range(6)]
    for i, lic in enumerate(licences):
        batches.append((start + timedelta(hours=2, minutes=i), [ConsentEvent(
            action="grant", license_id=lic, person=f"talent-{i:02d}", scope="likeness",
            expires_at=(start + timedelta(days=365)).strftime("%Y-%m-%dT00:00:00Z"))]))
    for j, (owner, work, title) in enumerate(HOLDERS):
        batches.append((start + timedelta(hours=3, minutes=j), [RegistryChangeEvent(
            action="add", work_id=work, owner=owner, title=title, assets=rng.randint(1, 12))]))
    skipped_label = False
    for day in range(days):
        base = start + timedelta(days=day)
        weekday = base.weekday() < 5
        n = int(per_day * (1.0 if weekday else 0.45) * rng.uniform(0.8, 1.25))
        for k in range(n):
            t = base + timedelta(seconds=rng.randint(7 * 3600, 22 * 3600))
            juris = _pick(rng, JURISDICTIONS)[0]
            prompt = _h("prompt", day, k, seed)
            roll = rng.random()
            if roll < 0.075:  # refused outright
                cat, rule, _ = _pick(rng, DENIALS)
                batches.append((t, [PolicyDecisionEvent(
                    prompt_sha256=prompt, action="deny", category=cat, rule_id=rule, rule_ids=[rule],
                    reason=f"matched {rule}", pack_digest=PACK, jurisdiction=juris)]))
                continue
            if roll < 0.10:  # held for a human; resolved within a day
                cat, rule = ("likeness-public-figure", "likeness.sport") if rng.random() < .6 else ("violence-mild", "violence")
                batches.append((t, [PolicyDecisionEvent(
                    prompt_sha256=prompt, action="review", category=cat, rule_id=rule, rule_ids=[rule],
                    reason="held for review", pack_digest=PACK, jurisdiction=juris)]))
                outcome = rng.choices(["approved", "rejected", "expired"], [6, 3, 1])[0]
                batches.append((t + timedelta(hours=rng.randint(1, 20)), [ReviewDecisionEvent(
                    prompt_sha256=prompt, outcome=outcome, reviewer=rng.choice(["m.okafor", "l.chen", "s.novak"]),
                    category=cat, rule_id=rule)]))
                continue
            consent = rng.choice(licences) if rng.random() < 0.06 else None
            disclosure = juris == "eu" and rng.random() < 0.04
            obligations = OBLIGATIONS[juris] + (["deepfake-disclosure"] if disclosure else [])
            decision = PolicyDecisionEvent(
                prompt_sha256=prompt, action="add-disclosure" if disclosure else "allow", pack_digest=PACK,
                jurisdiction=juris, consent_license_id=consent, obligations=obligations,
                reason="allowed with disclosure" if disclosure else "no rule matched")
            content = _h("content", day, k, seed)[:16]
            if rng.random() < 0.012:  # the output check caught protected material
                owner, work, title = rng.choice(HOLDERS)
                batches.append((t, [decision, OutputRegistryCheckEvent(content_id=content, outcome="blocked", matches=[
                    {"work_id": work, "owner": owner, "title": title, "score": round(rng.uniform(0.82, 0.99), 3)}])]))
                continue
            labels = list(LABELS[juris]) + (["deepfake-disclosure"] if disclosure else [])
            if defects and juris == "cn" and day >= 17 and not skipped_label:
                labels.remove("visible-label")  # a one-frame clip skipped the label stage
                skipped_label = True
            file_sha = _h("file", content)
            events: list[AuditEvent] = [decision]
            if consent:
                events.append(ConsentEvent(action="use", license_id=consent, person="", scope="likeness"))
            events += [
                GenerationEvent(content_id=content, prompt_sha256=prompt, model_id="reelguard/tiny-t2v",
                                pipeline_class="ReelGuardTinyPipeline", weights_digest=_h("weights"),
                                seed=rng.randint(0, 2**31), steps=20, width=512, height=288,
                                num_frames=49, fps=16.0, jurisdiction=juris, labels_applied=labels),
                WatermarkEmbeddedEvent(content_id=content, scheme="dwt-dct-bch64", payload_hex=content,
                                       psnr_db=round(rng.uniform(41, 45), 2)),
                ManifestSignedEvent(content_id=content, manifest_digest=_h("manifest", content),
                                    manifest_label=f"urn:c2pa:{content}", file_sha256=file_sha,
                                    signer="CN=ReelGuard Signer", generation_leaf_index=0),
                OutputRegistryCheckEvent(content_id=content, outcome="clear"),
                GenerationRecordedEvent(content_id=content, file_sha256=file_sha, output_name=f"{content}.mp4"),
            ]
            batches.append((t, events))
        for v in range(int(rng.uniform(8, 16) * (1.0 if weekday else 0.5))):
            verdict = _pick(rng, VERDICTS)[0]
            own = verdict in ("authentic", "recovered")
            batches.append((base + timedelta(seconds=rng.randint(8 * 3600, 20 * 3600)), [VerificationEvent(
                file_sha256=_h("upload", day, v), verdict=verdict, reasons=[f"synthetic {verdict}"],
                c2pa_state={"authentic": "trusted", "recovered": "absent", "unknown": "absent",
                            "untrusted": "valid", "tampered": "invalid"}[verdict],
                watermark_detected=own or verdict == "tampered",
                payload_hex=_h("payload", day, v)[:16] if own else None,
                record_content_id=_h("content", day, v)[:16] if own else None)]))
        if day == 11:
            batches.append((base + timedelta(hours=9), [ConsentEvent(action="revoke", license_id=licences[2],
                                                                     person="talent-02")]))
        if day == 20:
            batches.append((base + timedelta(hours=6), [KeyRotationEvent(
                old_fingerprint=_h("key-2025")[:40], new_fingerprint=_h("key-2026")[:40], algorithm="ES256")]))
    end = start + timedelta(days=days)
    batches.append((end - timedelta(minutes=5), [RetentionEvent(
        retention_days=3 * 365, cutoff=(end - timedelta(days=3 * 365)).strftime("%Y-%m-%dT%H:%M:%SZ"), pruned=0)]))
    batches.sort(key=lambda b: b[0])
    yield from batches


def _record_generation(session, events, entries) -> None:
    """The generation_record row a real generation writes beside its events (verify cross-checks them)."""
    from governance.records.registry.models import Work
    from governance.records.storage.records import GenerationRecordCreate, create_record

    for event in events:  # the registry rows a registry change writes
        if event.kind == "registry.change":
            work = session.get(Work, event.work_id)
            if event.action in ("add", "import") and work is None:
                session.add(Work(id=event.work_id, owner=event.owner, title=event.title))
            elif event.action == "remove" and work is not None:
                session.delete(work)
            session.flush()
    by_kind = {e.kind: (e, entry) for e, entry in zip(events, entries)}
    if "generation.generated" not in by_kind or "generation.recorded" not in by_kind:
        return
    gen, gen_entry = by_kind["generation.generated"]
    mark = by_kind.get("generation.watermarked", (None, None))[0]
    signed = by_kind.get("generation.signed", (None, None))[0]
    recorded = by_kind["generation.recorded"][0]
    decision = by_kind.get("policy.decision", (None, None))[0]
    create_record(session=session, record_in=GenerationRecordCreate(
        content_id=gen.content_id, payload_hex=mark.payload_hex if mark else gen.content_id,
        watermark_scheme=mark.scheme if mark else "", prompt_sha256=gen.prompt_sha256,
        policy_action=decision.action if decision else "allow", pack_digest=decision.pack_digest if decision else "",
        jurisdiction=gen.jurisdiction, obligations=list(decision.obligations) if decision else [],
        labels_applied=list(gen.labels_applied), model_id=gen.model_id, pipeline_class=gen.pipeline_class,
        weights_digest=gen.weights_digest, seed=gen.seed, steps=gen.steps, width=gen.width, height=gen.height,
        num_frames=gen.num_frames, fps=gen.fps, manifest_digest=signed.manifest_digest if signed else "",
        manifest_label=signed.manifest_label if signed else "", file_sha256=recorded.file_sha256,
        output_name=recorded.output_name, signer=signed.signer if signed else "",
        audit_leaf_index=gen_entry.leaf_index,
    ))


def write_synthetic_month(
    engine: Engine, start: datetime, *, days: int = 30, per_day: int = 60, seed: int = 7, defects: bool = True,
    log: AuditLog | None = None,
) -> SyntheticMonth:
    """Appends the synthetic month to the log at ``engine`` (one transaction per day)."""
    start = start.astimezone(UTC)
    log = log or AuditLog(engine)
    count = generations = 0
    batches = list(synthetic_events(start, days=days, per_day=per_day, seed=seed, defects=defects))
    with session_scope(engine) as session:
        for when, events in batches:
            entries = [log.append(session, event, actor="synthetic", at=when) for event in events]
            _record_generation(session, events, entries)
            count += len(events)
            generations += sum(isinstance(e, GenerationEvent) for e in events)
    return SyntheticMonth(start, days, count, generations)
