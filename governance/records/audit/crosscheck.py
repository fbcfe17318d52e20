"""The tables the audit log covers, cross-checked against its events (part of ``verify_log``).

Every ``generation_record`` row must match the events that recorded it, and every registry work
its last ``registry.change``; a row without its events, or events without their row, is a failure
with its own case (``record-unlogged``, ``record-missing``, ``registry-*``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from governance.records.storage.tables import table_of

__all__ = ["check_records", "check_registry"]

_GEN_FIELDS = {  # generation_record column -> (event kind, event field)
    "prompt_sha256": ("generation.generated", "prompt_sha256"),
    "model_id": ("generation.generated", "model_id"),
    "pipeline_class": ("generation.generated", "pipeline_class"),
    "weights_digest": ("generation.generated", "weights_digest"),
    "seed": ("generation.generated", "seed"),
    "steps": ("generation.generated", "steps"),
    "width": ("generation.generated", "width"),
    "height": ("generation.generated", "height"),
    "num_frames": ("generation.generated", "num_frames"),
    "fps": ("generation.generated", "fps"),
    "jurisdiction": ("generation.generated", "jurisdiction"),
    "labels_applied": ("generation.generated", "labels_applied"),
    "watermark_scheme": ("generation.watermarked", "scheme"),
    "payload_hex": ("generation.watermarked", "payload_hex"),
    "manifest_digest": ("generation.signed", "manifest_digest"),
    "manifest_label": ("generation.signed", "manifest_label"),
    "file_sha256": ("generation.signed", "file_sha256"),
    "signer": ("generation.signed", "signer"),
    "output_name": ("generation.recorded", "output_name"),
}


def check_records(
    conn: Connection, events: dict[str, dict[str, tuple[int, dict]]], pruned_gen: int, add
) -> tuple[int, int]:
    """Every generation_record row against the events that recorded it; every recorded event against a row."""
    from governance.records.storage.records import GenerationRecord

    table = table_of(GenerationRecord)
    seen: set[str] = set()
    checked = unverifiable = 0
    for rec in conn.execute(select(table).order_by(table.c.id)).mappings():
        content = rec["content_id"]
        seen.add(content)
        name = f"generation_record#{rec['id']} (content {content})"
        found = events.get(content, {})
        if "generation.recorded" not in found or "generation.generated" not in found:
            if pruned_gen:
                unverifiable += 1
                continue
            add(
                "record-unlogged",
                f"{name} has no generation events in the log: the row was inserted outside ReelGuard",
                row=name,
            )
            continue
        checked += 1
        wrong = []
        gen_leaf = found["generation.generated"][0]
        if rec["audit_leaf_index"] != gen_leaf:
            wrong.append(f"audit_leaf_index (row {rec['audit_leaf_index']}, generation.generated at leaf {gen_leaf})")
        for column, (kind, field) in _GEN_FIELDS.items():
            if kind not in found:
                continue
            leaf, event = found[kind]
            value, logged = rec[column], event.get(field)
            if column == "fps" and value is not None and logged is not None:
                same = abs(float(value) - float(logged)) < 1e-9
            elif column == "labels_applied":
                same = list(value or []) == list(logged or [])
            else:
                same = value == logged
            if not same:
                wrong.append(f"{column} (row {value!r}, {kind} at leaf {leaf} {logged!r})")
        if wrong:
            first_leaf = found["generation.generated"][0]
            add("record-mismatch", f"{name} differs from the log: " + "; ".join(wrong), leaf=first_leaf, row=name)
    for content, found in events.items():
        if content not in seen and "generation.recorded" in found:
            leaf = found["generation.recorded"][0]
            add(
                "record-missing",
                f"generation_record for content {content} (generation.recorded at leaf {leaf}) "
                "is missing: the row was deleted",
                leaf=leaf,
                row=f"generation_record (content {content})",
            )
    return checked, unverifiable


def check_registry(conn: Connection, changes: dict[str, tuple[int, dict]], add) -> int:
    """The registry's works against the last registry.change event of each."""
    from governance.records.registry.models import Work

    table = table_of(Work)
    seen: set[str] = set()
    checked = 0
    for work in conn.execute(select(table.c.id, table.c.owner, table.c.title)).mappings():
        seen.add(work["id"])
        name = f"registry_work/{work['id']}"
        last = changes.get(work["id"])
        if last is None or last[1].get("action") == "remove":
            how = "has no registry.change event" if last is None else f"was removed at leaf {last[0]} but is back"
            add(
                "registry-unlogged",
                f"{name} ({work['title']!r}) {how}: the row was written outside ReelGuard",
                leaf=None if last is None else last[0],
                row=name,
            )
            continue
        checked += 1
        leaf, event = last
        wrong = [
            f"{col} (row {work[col]!r}, leaf {leaf} {event.get(col)!r})"
            for col in ("owner", "title")
            if work[col] != event.get(col)
        ]
        if wrong:
            add(
                "registry-mismatch",
                f"{name} differs from its registry.change at leaf {leaf}: " + "; ".join(wrong),
                leaf=leaf,
                row=name,
            )
    for work_id, (leaf, event) in changes.items():
        if work_id not in seen and event.get("action") in ("add", "import"):
            add(
                "registry-missing",
                f"registry_work/{work_id} ({event.get('title')!r}, {event.get('action')} at leaf "
                f"{leaf}) is missing: the row was deleted without a registry.change",
                leaf=leaf,
                row=f"registry_work/{work_id}",
            )
    return checked
