"""ProtectedRegistry: register protected works, match clips against them.

Registration fingerprints each file outside any transaction (slow), then writes the work, its
assets, their fingerprints and the audit event in ONE transaction, then updates the search
indexes incrementally. Matching syncs the indexes with the database first (cheap: a list of
fingerprint row ids), so a work added by another process is found by the next match, and a
registry with no fingerprints answers ``[]`` without decoding a frame.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from detectors.errors import MediaError
from detectors.fingerprints.extract import QUERY, REFERENCE, ClipFingerprints, extract
from detectors.video_io import is_image_path, probe
from governance.core.errors import ReelGuardError
from governance.core.settings import Settings
from governance.records.registry.fingerprinting import (  # re-exported: callers import them from here
    QUERY_PDQ_FRAMES,
    Skipped,
    content_sha256,
    fingerprint_file,
    fingerprint_query_pdq_first,
    media_files,
    query_config,
)
from governance.records.registry.index_store import has_works, origin_indexes, sync_indexes
from governance.records.registry.matching import MatchConfig, WorkMatch, best_per_work, span_fields
from governance.records.registry.models import ORIGIN_PROTECTED, Asset, Fingerprint, Work, WorkPublic, flushed_id
from governance.records.registry.own import OwnMatch, OwnOutputs, fingerprint_rows
from governance.records.storage.db import session_scope

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.registry.transfer import ImportResult

__all__ = [
    "ProtectedRegistry",
    "RegistryError",
    "WorkNotFound",
    "RegisteredWork",
    "RegistryScan",
    "Skipped",
    "media_files",
    "fingerprint_file",
    "fingerprint_query_pdq_first",
    "query_config",
    "QUERY_PDQ_FRAMES",
]

log = logging.getLogger(__name__)
FINGERPRINT_KINDS = ("pdq", "orb", "layout")
Progress = Callable[[str, int, int], None]  # (file name, files done, files total)


class RegistryError(ReelGuardError):
    exit_code = 19


class WorkNotFound(RegistryError):
    exit_code = 19


@dataclass(frozen=True)
class RegisteredWork:
    """Result of ``add_path``: the work, what was registered, what was a duplicate or junk."""

    work_id: str
    title: str
    owner: str
    license: str | None
    assets: int  # newly registered assets
    frames: int  # reference keyframes fingerprinted (PDQ)
    duplicate: bool  # nothing new: every file was already registered (work_id = existing work)
    duplicates: tuple[Skipped, ...] = ()  # reason holds the existing work id
    skipped: tuple[Skipped, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RegistryScan:
    """What one fingerprinting of a query found: protected works, and our own outputs."""

    matches: tuple[WorkMatch, ...]
    own: tuple[OwnMatch, ...]


class ProtectedRegistry:
    """The protected-material registry over a database ``engine`` (see module docstring)."""

    def __init__(self, engine: Engine, settings: Settings, *, config: MatchConfig | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.config = config or MatchConfig()
        self._indexes = origin_indexes(Path(settings.cache_path), ORIGIN_PROTECTED)
        self.own = OwnOutputs(engine, settings, config=self.config)  # our generated clips, apart

    # -- matching ------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        """No protected work is registered (our own outputs do not count)."""
        return not has_works(self.engine, ORIGIN_PROTECTED)

    def sync(self) -> None:
        """Bring the in-memory indexes in line with the database (done before every match)."""
        sync_indexes(self._indexes, self.engine)

    def match_frames(self, frames: Iterable[np.ndarray] | np.ndarray, *, fps: float = 25.0) -> list[WorkMatch]:
        """Protected works in a clip given as frames (RGB uint8), best first; [] when none."""
        if self.is_empty():
            return []
        config = QUERY
        if isinstance(frames, np.ndarray) and frames.ndim == 4:
            config = query_config(len(frames) / fps)
        elif isinstance(frames, np.ndarray) and frames.ndim == 3:
            frames = frames[None]
        return self.match_fingerprints(extract(frames, fps=fps, config=config))

    def match_path(self, path: str | os.PathLike[str]) -> list[WorkMatch]:
        """Protected works in a video or image file, best first; [] when none."""
        if self.is_empty():
            return []
        path = Path(path)
        config = QUERY
        if not is_image_path(path):
            info = probe(path, max_pixels=self.settings.max_pixels, frame_limit=self.settings.max_frames)
            config = query_config(info.duration_s or 0.0)
        clip, _ = fingerprint_file(
            path, config, max_pixels=self.settings.max_pixels, frame_limit=self.settings.max_frames
        )
        return self.match_fingerprints(clip)

    def scan_path(self, path: str | os.PathLike[str], *, own: bool = True) -> RegistryScan:
        """Protected works and (``own``) our own generated clips in one video file, which is
        fingerprinted once for both; nothing is decoded when neither has anything registered.
        With no protected work registered, the file is read for our own outputs alone: reference
        frames only, PDQ first, keypoints only if PDQ decides nothing."""
        protected = not self.is_empty()
        own = own and not self.own.is_empty()
        if not (protected or own):
            return RegistryScan((), ())
        config = QUERY
        if not is_image_path(path):
            info = probe(path, max_pixels=self.settings.max_pixels, frame_limit=self.settings.max_frames)
            config = query_config(info.duration_s or 0.0)
        max_pixels, frame_limit = self.settings.max_pixels, self.settings.max_frames
        if not protected:  # our own outputs only: PDQ first, keypoints only if PDQ decides nothing
            pending = fingerprint_query_pdq_first(Path(path), config, max_pixels=max_pixels, frame_limit=frame_limit)
            return RegistryScan((), tuple(self.own.match_pending(pending)))
        clip, _ = fingerprint_file(Path(path), config, max_pixels=max_pixels, frame_limit=frame_limit)
        own_found = tuple(self.own.match_fingerprints(clip)) if own else ()
        return RegistryScan(tuple(self.match_fingerprints(clip)), own_found)

    def match_fingerprints(self, clip: ClipFingerprints) -> list[WorkMatch]:
        self.sync()
        best = best_per_work(self._indexes, clip, self.config)
        if not best:
            return []
        with Session(self.engine) as session:
            works = {w.id: w for w in session.exec(select(Work).where(col(Work.id).in_(list(best)))).all()}
        matches = []
        for work_id, (score, ev) in best.items():
            work = works.get(work_id)
            if work is None:  # removed between the index sync and now
                continue
            matches.append(
                WorkMatch(
                    work_id=work_id, title=work.title, owner=work.owner, asset_id=ev.asset_id, **span_fields(score, ev)
                )
            )
        return sorted(matches, key=lambda m: -m.score)

    # -- registration --------------------------------------------------------------------------
    def add_path(
        self,
        path: str | os.PathLike[str],
        *,
        owner: str,
        title: str,
        license: str | None = None,
        progress: Progress | None = None,
    ) -> RegisteredWork:
        """Register a file or folder (recursively) as one work; idempotent on duplicate content."""
        return self.add_paths([path], owner=owner, title=title, license=license, progress=progress)

    def add_paths(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        owner: str,
        title: str,
        license: str | None = None,
        progress: Progress | None = None,
    ) -> RegisteredWork:
        if not owner.strip() or not title.strip():
            raise RegistryError("a work needs a non-empty --owner and --title")
        files, skipped = media_files(paths)
        duplicates: list[Skipped] = []
        prepared: list[tuple[Path, str, ClipFingerprints, str]] = []
        for done, path in enumerate(files):
            if progress:
                progress(path.name, done, len(files))
            try:
                sha = content_sha256(path)
            except OSError as exc:
                skipped.append(Skipped(str(path), f"unreadable: {exc.strerror}"))
                continue
            existing = self._asset_work(sha)
            if existing or any(p[1] == sha for p in prepared):
                duplicates.append(Skipped(str(path), existing or "same content as another file here"))
                continue
            try:
                clip, kind = fingerprint_file(
                    path, REFERENCE, max_pixels=self.settings.max_pixels, frame_limit=self.settings.max_frames
                )
            except MediaError as exc:
                skipped.append(Skipped(str(path), str(exc)))
                continue
            if not len(clip.pdq) and not len(clip.orb) and not len(clip.layout):
                skipped.append(Skipped(str(path), "no usable frames (blank or featureless)"))
                continue
            prepared.append((path, sha, clip, kind))
        if progress:
            progress("", len(files), len(files))
        if not prepared:
            if duplicates:
                first = duplicates[0].reason
                work = self.get_work(first) if len(first) == 32 else None
                return RegisteredWork(
                    first,
                    work.title if work else title,
                    work.owner if work else owner,
                    work.license if work else license,
                    0,
                    0,
                    True,
                    tuple(duplicates),
                    tuple(skipped),
                )
            reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped[:3]) or "nothing given"
            raise MediaError(f"no registrable media ({reasons})")
        try:
            work_id, frames = self._insert(prepared, owner=owner, title=title, license=license)
        except IntegrityError:  # a concurrent add registered the same content first
            return self.add_paths(paths, owner=owner, title=title, license=license)
        self.sync()
        return RegisteredWork(
            work_id, title, owner, license, len(prepared), frames, False, tuple(duplicates), tuple(skipped)
        )

    def _asset_work(self, sha: str) -> str | None:
        with Session(self.engine) as session:
            return session.exec(select(Asset.work_id).where(Asset.sha256 == sha)).first()

    def _insert(self, prepared, *, owner: str, title: str, license: str | None) -> tuple[str, int]:
        frames = 0
        audit_log = _audit_log(self.engine, self.settings)
        with session_scope(self.engine) as session:
            work = Work(owner=owner, title=title, license=license)
            session.add(work)
            session.flush()
            for path, sha, clip, kind in prepared:
                asset = Asset(
                    work_id=work.id,
                    name=path.name,
                    sha256=sha,
                    kind=kind,
                    fps=clip.fps,
                    duration_s=0.0 if kind == "image" else clip.duration,
                    width=clip.width,
                    height=clip.height,
                    frames=clip.frames_seen,
                )
                session.add(asset)
                session.flush()
                for row in fingerprint_rows(flushed_id(asset.id), clip):
                    session.add(row)
                frames += clip.pdq_frames
            _audit(audit_log, session, "add", work, assets=len(prepared))
            work_id = work.id
        return work_id, frames

    # -- listing, removal ----------------------------------------------------------------------
    def list_works(self) -> list[WorkPublic]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Work, func.count(col(Asset.id)), func.coalesce(func.sum(Asset.duration_s), 0.0))
                .join(Asset, col(Asset.work_id) == col(Work.id), isouter=True)
                .where(Work.origin == ORIGIN_PROTECTED)  # our own outputs are not works to list
                .group_by(Work.id)
                .order_by(col(Work.created_at))
            ).all()
            return [WorkPublic(**w.model_dump(), assets=n, duration_s=float(d)) for w, n, d in rows]

    def get_work(self, work_id: str) -> WorkPublic:
        with Session(self.engine) as session:
            work = session.get(Work, work_id)
            if work is None:
                raise WorkNotFound(f"no registered work with id {work_id!r}")
            n = session.exec(select(func.count(col(Asset.id))).where(Asset.work_id == work_id)).one()
            return WorkPublic(**work.model_dump(), assets=n)

    def remove(self, work_id: str) -> WorkPublic:
        """Delete a work with its assets and fingerprints (audited); the indexes follow."""
        audit_log = _audit_log(self.engine, self.settings)
        with session_scope(self.engine) as session:
            work = session.get(Work, work_id)
            if work is None:
                raise WorkNotFound(f"no registered work with id {work_id!r}")
            public = WorkPublic(**work.model_dump())
            asset_ids = session.exec(select(Asset.id).where(Asset.work_id == work_id)).all()
            # Children first, as explicit statements: the ORM knows no relationships to order by.
            session.execute(delete(Fingerprint).where(col(Fingerprint.asset_id).in_(asset_ids)))
            session.execute(delete(Asset).where(col(Asset.work_id) == work_id))
            session.delete(work)
            session.flush()
            _audit(audit_log, session, "remove", work, assets=len(asset_ids))
        self.sync()
        return public.model_copy(update={"assets": len(asset_ids)})

    # -- export / import -----------------------------------------------------------------------
    def export(self, path: str | os.PathLike[str]) -> int:
        """Write the whole registry (works, assets, fingerprints) as JSON; returns works written."""
        from governance.records.registry.transfer import export_registry

        return export_registry(self.engine, path)

    def import_(self, path: str | os.PathLike[str]) -> ImportResult:
        """Merge an export: content already registered is skipped (idempotent), audited per work."""
        from governance.records.registry.transfer import ImportResult, add_exported_work, load_export

        items = load_export(path)
        works = assets = skipped = 0
        audit_log = _audit_log(self.engine, self.settings)
        with session_scope(self.engine) as session:
            for item in items:
                work, added, dup = add_exported_work(session, item)
                assets, skipped = assets + added, skipped + dup
                if work is not None:
                    works += 1
                    _audit(audit_log, session, "import", work, assets=added)
        self.sync()
        return ImportResult(works, assets, skipped)


def _audit_log(engine: Engine, settings: Settings):
    """The AuditLog, built BEFORE a transaction opens: its constructor initialises the log on its
    own connection, which would wait forever on SQLite's write lock held by our session. It gets
    the registry's settings, so its appends carry the install's authentication tags."""
    from governance.records.audit import AuditLog

    return AuditLog(engine, settings=settings)


def _audit(audit_log, session: Session, action: str, work: Work, *, assets: int) -> None:
    """RegistryChangeEvent in the caller's transaction."""
    from governance.records.audit.events import RegistryChangeEvent

    event = RegistryChangeEvent(action=action, work_id=work.id, owner=work.owner, title=work.title, assets=assets)
    audit_log.append(session, event, actor="registry")
