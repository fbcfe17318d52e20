"""Register protected works from files and folders, and describe matches by file and time.

A folder of films is a folder of works: by default each file becomes its own work (titled by
its file name, or ``"<title>: <file name>"`` when a title is given), so a match names the film
it came from. ``group=True`` keeps the older meaning: every file is one asset of one work (a
film and its trailer, a photo series). Registration itself (fingerprints, duplicates, the audit
event) is the registry's; this flow only decides what a work is and reports progress.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.core.errors import ANY_ERROR, exit_code_for
from governance.records.registry.matching import WorkMatch

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.registry import ProtectedRegistry, RegisteredWork, Skipped

__all__ = ["RegisterOutcome", "FileFailure", "MatchView", "register_paths", "describe_matches"]

# (file name, files done, files in all)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FileFailure:
    path: str
    error: str
    exit_code: int


@dataclass(frozen=True)
class RegisterOutcome:
    """What ``register_paths`` did: one entry per work (or per duplicate), in file order."""

    works: tuple[RegisteredWork, ...]
    grouped: bool
    failed: tuple[FileFailure, ...] = ()
    missing: tuple[Skipped, ...] = ()

    @property
    def added(self) -> int:
        return sum(1 for w in self.works if not w.duplicate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grouped": self.grouped,
            "added": self.added,
            "works": [asdict(w) for w in self.works],
            "failed": [asdict(f) for f in self.failed],
            "missing": [asdict(s) for s in self.missing],
        }


def _title_for(path: Path, title: str | None, many: bool) -> str:
    name = path.stem or path.name
    if not title:
        return name
    return f"{title}: {name}" if many else title


def register_paths(
    registry: ProtectedRegistry,
    paths: Sequence[str | os.PathLike[str]],
    *,
    owner: str,
    title: str | None = None,
    license: str | None = None,
    group: bool = False,
    progress: Progress | None = None,
) -> RegisterOutcome:
    """Register ``paths`` (files and folders, searched recursively). ``group``: all of them as
    one work (``title`` required); otherwise one work per file. A file that cannot be
    registered is reported in ``failed`` and the others still register."""
    from governance.records.registry import RegistryError
    from governance.records.registry.service import media_files

    if not owner.strip():
        raise RegistryError("a work needs a non-empty --owner")
    if group:
        if not (title or "").strip():
            raise RegistryError("--group registers one work: give it a --title")
        work = registry.add_paths(list(paths), owner=owner, title=title or "", license=license, progress=progress)
        return RegisterOutcome(works=(work,), grouped=True)
    files, missing = media_files(paths)
    if not files:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in missing[:3]) or "nothing given"
        raise RegistryError(f"no files to register ({reasons})")
    works, failed = [], []
    many = len(files) > 1
    for index, path in enumerate(files):
        if progress:
            progress(path.name, index, len(files))
        try:
            works.append(registry.add_paths([path], owner=owner, title=_title_for(path, title, many), license=license))
        except ANY_ERROR as exc:  # one unreadable file must not cost the rest of the folder
            failed.append(FileFailure(str(path), str(exc), exit_code_for(exc)))
    if progress:
        progress("", len(files), len(files))
    return RegisterOutcome(works=tuple(works), grouped=False, failed=tuple(failed), missing=tuple(missing))


@dataclass(frozen=True)
class MatchView(WorkMatch):
    """A match as an operator reads it: which work, which of its files, which seconds."""

    file: str | None = None  # the registered file the match aligned to (its name, never a path)


def describe_matches(registry: ProtectedRegistry, matches: Sequence[WorkMatch]) -> list[MatchView]:
    """``matches`` with the name of the registered file each aligned to (one query)."""
    from sqlmodel import Session, select

    from governance.records.registry.models import Asset

    ids = sorted({m.asset_id for m in matches if m.asset_id is not None})
    names: dict[int, str] = {}
    if ids:
        with Session(registry.engine) as session:
            rows = session.exec(select(Asset).where(Asset.id.in_(ids)))  # type: ignore[union-attr]
            names = {a.id: a.name for a in rows if a.id is not None}
    return [MatchView(**asdict(m), file=names.get(m.asset_id) if m.asset_id is not None else None) for m in matches]
