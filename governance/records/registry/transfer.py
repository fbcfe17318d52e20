"""Export / import of the registry as one JSON document (fingerprints base64-encoded).

Import is idempotent like ``add``: assets whose content hash is already registered are skipped,
so the same export can be imported twice or merged into a registry that shares works. Source
media never travel; only what matching needs does.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from governance.core.errors import OutputError
from governance.records.registry.models import ORIGIN_PROTECTED, Asset, Fingerprint, Work, flushed_id

__all__ = ["FORMAT", "ImportResult", "export_registry", "load_export", "add_exported_work"]

FORMAT = "reelguard-registry/1"
_BLOBS = ("codes", "frames", "times", "points")


@dataclass(frozen=True)
class ImportResult:
    works: int
    assets: int
    skipped_assets: int

    def to_dict(self) -> dict:
        return {"works": self.works, "assets": self.assets, "skipped_assets": self.skipped_assets}


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def export_registry(engine: Engine, path: str | os.PathLike[str]) -> int:
    """Write every work to ``path`` atomically; returns the number of works."""
    works_out = []
    with Session(engine) as session:
        # Protected works only: our own outputs' fingerprints belong with their generation records.
        for work in session.exec(
            select(Work).where(Work.origin == ORIGIN_PROTECTED).order_by(col(Work.created_at))
        ).all():
            assets_out = []
            for asset in session.exec(select(Asset).where(Asset.work_id == work.id)).all():
                fps = session.exec(select(Fingerprint).where(Fingerprint.asset_id == asset.id)).all()
                assets_out.append(
                    {
                        **asset.model_dump(mode="json", exclude={"id", "work_id", "created_at"}),
                        "fingerprints": [
                            {
                                "kind": f.kind,
                                "version": f.version,
                                "count": f.count,
                                "keyframes": f.keyframes,
                                **{b: _b64(getattr(f, b)) for b in _BLOBS},
                            }
                            for f in fps
                        ],
                    }
                )
            works_out.append({**work.model_dump(mode="json"), "assets": assets_out})
    doc = {"format": FORMAT, "works": works_out}
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write export ({exc.strerror})") from exc
    return len(works_out)


def load_export(path: str | os.PathLike[str]) -> list[dict]:
    from governance.records.registry.service import RegistryError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path}: not a readable registry export ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RegistryError(f"{path}: not a {FORMAT} export")
    return doc["works"]


def _unb64(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def _blob(value: str | None, what: str) -> bytes:
    """A fingerprint row's required blob; RegistryError when the export lacks it."""
    from governance.records.registry.service import RegistryError

    if value is None:
        raise RegistryError(f"malformed registry export: a fingerprint row has no {what}")
    return base64.b64decode(value)


def add_exported_work(session: Session, item: dict) -> tuple[Work | None, int, int]:
    """Insert one exported work (new assets only); returns (work or None, added, skipped)."""
    added = skipped = 0
    work = None
    for asset in item["assets"]:
        if session.exec(select(Asset.id).where(Asset.sha256 == asset["sha256"])).first():
            skipped += 1
            continue
        if work is None:
            work = session.get(Work, item["id"]) or Work(
                id=item["id"], owner=item["owner"], title=item["title"], license=item.get("license")
            )
            session.add(work)
            session.flush()
        fields = {k: v for k, v in asset.items() if k != "fingerprints"}
        row = Asset(work_id=work.id, **fields)
        session.add(row)
        session.flush()
        for f in asset["fingerprints"]:
            session.add(
                Fingerprint(
                    asset_id=flushed_id(row.id),
                    kind=f["kind"],
                    version=f["version"],
                    count=f["count"],
                    keyframes=f["keyframes"],
                    codes=_blob(f["codes"], "codes"),
                    frames=_blob(f["frames"], "frames"),
                    times=_blob(f["times"], "times"),
                    points=_unb64(f["points"]),
                )
            )
        added += 1
    return work, added, skipped
