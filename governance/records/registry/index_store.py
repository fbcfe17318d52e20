"""The registry's search indexes: built from the database, persisted, updated incrementally.

One Hamming index per fingerprint kind, saved as ``<cache>/registry/<kind>.npz`` with the
fingerprint-row ids it holds. ``sync`` compares those ids with the database and adds or drops
only the difference, so adding a work costs its own rows, not a rebuild. A missing, truncated or
checksum-failing file is rebuilt from the database: the file is a cache, never the truth, and a
stale file can at worst cost time, not a wrong answer. Row ids in an index are
``fingerprint_id << 24 | row``. Layout thumbnails (``LayoutStore``) are compared by correlation,
not searched by Hamming distance; they exist only for flat reference keyframes, so they are
simply held in memory and reloaded from the database.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from detectors.errors import FingerprintError
from detectors.fingerprints.index import FlatIndex, HammingIndex, MultiIndexHashing, load_index
from detectors.fingerprints.layout import THUMB_BYTES, Reference, Thumbnail, prepare_reference
from detectors.fingerprints.match import ROW_BITS, SetInfo
from governance.records.registry.models import ORIGIN_PROTECTED, Asset, Fingerprint, Work

__all__ = ["KindIndex", "LayoutStore", "SetInfo", "ROW_BITS", "origin_indexes", "sync_indexes", "has_works"]

log = logging.getLogger(__name__)
_MIH_ABOVE = 2_000_000  # rows; below this exact flat search is fast enough and builds instantly


class KindIndex:
    """The index for one fingerprint kind plus the per-set metadata to interpret hits."""

    def __init__(self, kind: str, cache_dir: Path, *, allow_mih: bool = False, origin: str = ORIGIN_PROTECTED) -> None:
        self.kind = kind
        self.origin = origin  # protected works and our own outputs never share an index
        self.allow_mih = allow_mih  # MIH is exact only up to radius 31: PDQ yes, ORB no
        prefix = "" if origin == ORIGIN_PROTECTED else "own-"
        self.path = cache_dir / "registry" / f"{prefix}{kind}.npz"
        self._state: tuple[int, ...] | None = None  # (rows, max id, sum of ids) at the last sync
        self.index: HammingIndex = FlatIndex(256)
        self.sets: dict[int, SetInfo] = {}
        self.loaded = False
        self.lock = threading.RLock()

    # -- loading / syncing ---------------------------------------------------------------------
    def _load_file(self) -> None:
        try:
            index, meta = load_index(self.path)
            self.index = _as_mih(index) if self.allow_mih and len(index) >= _MIH_ABOVE else index
            self._file_sets = set(int(s) for s in meta.get("sets", []))
        except FileNotFoundError:
            self.index, self._file_sets = FlatIndex(256), set()
        except FingerprintError as exc:
            log.warning("registry index %s unusable (%s); rebuilding from the database", self.path, exc)
            self.index, self._file_sets = FlatIndex(256), set()
        # Drop rows of sets the header does not vouch for (defence against partial writes).
        present = set(np.unique(self.index.ids >> ROW_BITS).tolist()) if len(self.index) else set()
        stray = present - self._file_sets
        if stray:
            self.index.remove(_row_ids_of(self.index, stray))

    def sync(self, engine: Engine) -> bool:
        """Bring the index in line with the database; True when it changed."""
        with self.lock:
            first = not self.loaded
            if first:
                self._load_file()
                self.loaded = True
            with Session(engine) as session:
                # A cheap look first: with a million own outputs, re-reading every row's metadata
                # before each query would cost seconds for nothing.
                state = tuple(
                    int(v or 0)
                    for v in session.exec(
                        select(
                            func.count(col(Fingerprint.id)),
                            func.max(col(Fingerprint.id)),
                            func.sum(col(Fingerprint.id)),
                        )
                        .join(Asset, col(Asset.id) == col(Fingerprint.asset_id))
                        .join(Work, col(Work.id) == col(Asset.work_id))
                        .where(Fingerprint.kind == self.kind, Work.origin == self.origin)
                    ).one()
                )
                if not first and state == self._state:
                    return False
                rows = session.exec(
                    select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
                        Fingerprint.id,
                        Fingerprint.asset_id,
                        Fingerprint.frames,
                        Fingerprint.times,
                        Fingerprint.points,
                        Asset.work_id,
                        Asset.kind,
                    )
                    .join(Asset, col(Asset.id) == col(Fingerprint.asset_id))
                    .join(Work, col(Work.id) == col(Asset.work_id))
                    .where(Fingerprint.kind == self.kind, Work.origin == self.origin)
                ).all()
                db_ids = {r[0] for r in rows}
                indexed = self._file_sets if first else set(self.sets)
                gone = indexed - db_ids
                missing = db_ids - indexed
                # Metadata first: adding codes may need it (layout thumbnails read their aspect).
                self.sets = {
                    r[0]: SetInfo(
                        r[0],
                        r[1],
                        r[5],
                        r[6],
                        np.frombuffer(r[2], np.int32),
                        np.frombuffer(r[3], np.float32).reshape(-1, 2),
                        None if r[4] is None else np.frombuffer(r[4], np.float32).reshape(-1, 2),
                    )
                    for r in rows
                }
                if gone:
                    self._drop(gone)
                if missing:
                    for fid, codes in session.exec(
                        select(Fingerprint.id, Fingerprint.codes).where(col(Fingerprint.id).in_(sorted(missing)))
                    ).all():
                        if fid is not None:  # a stored row always has its id
                            self._add(fid, codes)
            self._state = state  # only once the index holds what the state describes
            changed = bool(gone or missing)
            self._synced(changed, first)
            return changed

    def _drop(self, set_ids: set[int]) -> None:
        self.index.remove(_row_ids_of(self.index, set_ids))

    def _add(self, fid: int, codes: bytes) -> None:
        block = np.frombuffer(codes, np.uint8).reshape(-1, 32)
        self.index.add(block, (np.int64(fid) << ROW_BITS) + np.arange(len(block), dtype=np.int64))

    def _synced(self, changed: bool, first: bool) -> None:
        big = self.allow_mih and len(self.index) >= _MIH_ABOVE
        if changed and big and not isinstance(self.index, MultiIndexHashing):
            self.index = _as_mih(self.index)
        self.index.build()  # pay for derived structures here, not inside the first search
        if changed or (first and not self.path.exists() and self.sets):
            self.save()

    def save(self) -> None:
        try:
            self.index.save(self.path, meta={"kind": self.kind, "sets": sorted(self.sets)})
        except OSError as exc:  # a read-only cache costs a rebuild next time, not a failure now
            log.warning("cannot write registry index %s: %s", self.path, exc)


def _as_mih(index: HammingIndex) -> MultiIndexHashing:
    mih = MultiIndexHashing(index.bits)
    mih.add(index.codes, index.ids)
    return mih


def _row_ids_of(index: HammingIndex, set_ids: set[int]) -> np.ndarray:
    owners = index.ids >> ROW_BITS
    return index.ids[np.isin(owners, np.fromiter(set_ids, np.int64))]


class LayoutStore(KindIndex):
    """Layout thumbnails of flat reference keyframes, per fingerprint set, in memory only."""

    def __init__(self, cache_dir: Path, *, origin: str = ORIGIN_PROTECTED) -> None:
        super().__init__("layout", cache_dir, origin=origin)
        self.references: dict[int, list[Reference]] = {}

    def _load_file(self) -> None:
        self._file_sets = set()

    def _drop(self, set_ids: set[int]) -> None:
        for fid in set_ids:
            self.references.pop(fid, None)

    def _add(self, fid: int, codes: bytes) -> None:
        points = self.sets[fid].points  # layout rows keep (aspect, 0) in ``points``
        if points is None:
            log.warning("layout fingerprint row %s has no aspects; left out of the index", fid)
            return
        aspects = points[:, 0]
        self.references[fid] = [
            prepare_reference(Thumbnail.from_code(row, float(a)))
            for row, a in zip(np.frombuffer(codes, np.uint8).reshape(-1, THUMB_BYTES), aspects, strict=True)
        ]

    def _synced(self, changed: bool, first: bool) -> None:
        """Nothing derived to build and nothing persisted: the thumbnails are the index."""


def origin_indexes(cache_dir: Path, origin: str) -> dict[str, KindIndex]:
    """The in-memory indexes over one origin's works: PDQ (multi-index hashing allowed), ORB,
    layout. Protected works and our own outputs each keep a set of their own."""
    return {
        "pdq": KindIndex("pdq", cache_dir, allow_mih=True, origin=origin),
        "orb": KindIndex("orb", cache_dir, origin=origin),
        "layout": LayoutStore(cache_dir, origin=origin),
    }


def sync_indexes(indexes: dict[str, KindIndex], engine: Engine) -> None:
    """Bring every index of a set in line with the database (done before every match)."""
    for store in indexes.values():
        store.sync(engine)


def has_works(engine: Engine, origin: str) -> bool:
    """Whether any work of ``origin`` is registered."""
    with Session(engine) as session:
        return bool(session.exec(select(func.count(col(Work.id))).where(Work.origin == origin)).one())
