"""Load C2PA asset rubrics (multi-document YAML) into typed, parsed, immutable objects.

Format (``C2PA Asset Rubrics.md``): the first YAML document is the information block
(``rubric_metadata``, ``variables`` with ``$names``, ``expressions`` with ``_names``,
``include`` and custom mappings); every later document is a list of statements and data
blocks. ``include`` paths are resolved relative to the including file: an included file's
information block is merged under the includer's (the includer wins; among includes the
last wins, entry by entry for ``variables`` and ``expressions``) and its statements are
appended after the includer's, in include order.

Bundled rubrics are read with importlib.resources from ``rubrics_data`` and may only
include files inside that folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from detectors.errors import ProvenanceError
from detectors.provenance.formula import Formula, FormulaError, parse_formula

__all__ = ["Rubric", "Statement", "DataBlock", "RubricError", "load_rubric", "load_rubric_file", "bundled_rubrics"]

DATA_PACKAGE = "detectors.provenance.rubrics_data"
MAX_RUBRIC_BYTES = 2 * 1024 * 1024  # the largest official rubric is 30 kB
MAX_INCLUDE_DEPTH = 8  # the official composables nest 2 deep
MAX_INCLUDED_FILES = 64  # the largest official rubric is built from 7 files
MAX_DATA_NODES = 200_000  # YAML aliases can make a small file a huge tree (a "billion laughs")
MAX_DATA_DEPTH = 64
_SPEC_VERSION = re.compile(r"spec(\d+\.\d+)")


class RubricError(ProvenanceError):
    """A rubric file is missing, not YAML, or not shaped like an asset rubric."""


@dataclass(frozen=True)
class Statement:
    """An expression statement (``expression`` set) or an information statement (None)."""

    id: str
    description: str | None
    expression: Formula | None
    report_text: Any  # str, {lang: str}, or {"true"/"false"/"warn": str | {lang: str}}
    fail_if_matched: bool = False
    warn_if_matched: bool = False
    spec_section: str | None = None
    title: Any = None


@dataclass(frozen=True)
class DataBlock:
    name: str
    value: Any  # YAML value whose strings may hold {{ templates }}


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    issuer: str
    date: str
    language: str
    info: Mapping[str, Any]  # the merged information block, for templates
    variables: Mapping[str, Any]
    expressions: Mapping[str, Formula]
    statements: tuple[Statement, ...]
    blocks: tuple[DataBlock, ...]
    source: str


def bundled_rubrics() -> tuple[str, ...]:
    """File names of the compiled rubrics shipped in ``rubrics_data``."""
    root = resources.files(DATA_PACKAGE)
    return tuple(sorted(item.name for item in root.iterdir() if item.name.endswith(".yml")))


def load_rubric(name: str, *, spec_version: str | None = None) -> Rubric:
    """A bundled rubric, e.g. ``"asset-rubric-integrity.yml"`` or ``"composables/x.yml"``.

    ``spec_version`` sets ``$expected_spec_version`` (the program 0.2 rules gate on it); by
    default it is taken from ``specX.Y`` in the name, as the conformance program's tool does.
    """
    return _load_bundled(name, spec_version)


@lru_cache(maxsize=64)
def _load_bundled(name: str, spec_version: str | None) -> Rubric:
    # Bundled files never change at run time and a Rubric is immutable: parse each once.
    parts = _safe_parts(name, ())
    raw = _load(_BundledFile(parts), depth=0, budget=[MAX_INCLUDED_FILES])
    return _build(raw, name, spec_version)


def load_rubric_file(path: str | Path, *, spec_version: str | None = None) -> Rubric:
    """A rubric from the file system; its includes are resolved next to it."""
    raw = _load(_DiskFile(Path(path)), depth=0, budget=[MAX_INCLUDED_FILES])
    return _build(raw, str(path), spec_version)


# -- files --------------------------------------------------------------------------------
class _BundledFile:
    def __init__(self, parts: tuple[str, ...]) -> None:
        self.parts = parts

    def read(self) -> str:
        item: Traversable = resources.files(DATA_PACKAGE).joinpath(*self.parts)
        if not item.is_file():
            raise RubricError(f"no bundled rubric {'/'.join(self.parts)!r}")
        return _checked_text(item.read_bytes(), "/".join(self.parts))

    def include(self, relative: str) -> _BundledFile:
        return _BundledFile(_safe_parts(relative, self.parts[:-1]))

    def __str__(self) -> str:
        return "/".join(self.parts)


class _DiskFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        try:
            size = self.path.stat().st_size
            if size > MAX_RUBRIC_BYTES:  # checked before reading: the path may be anything
                raise RubricError(f"{self.path}: rubric of {size} bytes exceeds {MAX_RUBRIC_BYTES}")
            return _checked_text(self.path.read_bytes(), str(self.path))
        except OSError as exc:
            raise RubricError(f"{self.path}: cannot read rubric ({exc.strerror})") from None

    def include(self, relative: str) -> _DiskFile:
        return _DiskFile(self.path.parent / relative)

    def __str__(self) -> str:
        return str(self.path)


def _checked_text(data: bytes, where: str) -> str:
    if len(data) > MAX_RUBRIC_BYTES:
        raise RubricError(f"{where}: rubric of {len(data)} bytes exceeds {MAX_RUBRIC_BYTES}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RubricError(f"{where}: rubric is not UTF-8") from None


def _safe_parts(relative: str, base: tuple[str, ...]) -> tuple[str, ...]:
    # Bundled rubrics may only reach files inside rubrics_data: no absolute paths, no escape.
    if relative.startswith(("/", "\\")) or ":" in relative:
        raise RubricError(f"include {relative!r} must be a relative path inside the rubric folder")
    parts = list(base)
    for part in relative.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise RubricError(f"include {relative!r} leaves the rubric folder")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise RubricError(f"empty rubric path {relative!r}")
    return tuple(parts)


# -- assembling ---------------------------------------------------------------------------
def _load(source: _BundledFile | _DiskFile, depth: int, budget: list[int]) -> tuple[dict[str, Any], list[Any]]:
    """(information block, section items) of ``source`` with its includes merged in.

    ``budget`` (one mutable count shared by the whole tree) bounds the files read, so a
    file including another twice per level cannot fan out exponentially."""
    if depth > MAX_INCLUDE_DEPTH:
        raise RubricError(f"{source}: includes nest deeper than {MAX_INCLUDE_DEPTH} (a cycle?)")
    budget[0] -= 1
    if budget[0] < 0:
        raise RubricError(f"{source}: more than {MAX_INCLUDED_FILES} rubric files included")
    try:
        documents = [doc for doc in yaml.safe_load_all(source.read()) if doc is not None]
    except yaml.YAMLError as exc:
        raise RubricError(f"{source}: not valid YAML: {exc}") from None
    info: dict[str, Any] = {}
    if documents and isinstance(documents[0], dict):
        info = dict(documents.pop(0))
    items: list[Any] = []
    for document in documents:
        items.extend(document if isinstance(document, list) else [document])
    includes = info.pop("include", None) or []
    if not isinstance(includes, list) or not all(isinstance(path, str) for path in includes):
        raise RubricError(f"{source}: include must be a list of paths")
    merged: dict[str, Any] = {}
    for path in includes:
        included_info, included_items = _load(source.include(path), depth + 1, budget)
        _merge_into(merged, included_info)
        items.extend(included_items)
    _merge_into(merged, info)
    return merged, items


def _merge_into(target: dict[str, Any], info: Mapping[str, Any]) -> None:
    for key, value in info.items():
        if key in ("variables", "expressions") and isinstance(value, Mapping):
            target[key] = {**(target.get(key) or {}), **value}
        else:
            target[key] = value


def _build(raw: tuple[dict[str, Any], list[Any]], source: str, spec_version: str | None) -> Rubric:
    info, items = raw
    metadata = info.get("rubric_metadata") or {}
    for key in ("rubric_metadata", "variables", "expressions"):
        if not isinstance(info.get(key) or {}, Mapping):
            raise RubricError(f"{source}: {key} must be a mapping")
    variables = dict(info.get("variables") or {})
    if any(not isinstance(name, str) or not name.startswith("$") for name in variables):
        raise RubricError(f"{source}: variable names must start with '$'")
    match = _SPEC_VERSION.search(Path(source).name)
    version = spec_version or (match.group(1) if match else None)
    if version is not None and "$expected_spec_version" not in variables:
        variables["$expected_spec_version"] = version
    expressions: dict[str, Formula] = {}
    for name, text in (info.get("expressions") or {}).items():
        if not isinstance(name, str) or not name.startswith("_"):
            raise RubricError(f"{source}: expression names must start with '_' ({name!r})")
        expressions[name] = _parse(text, source, f"expression {name}")
    statements: list[Statement] = []
    blocks: list[DataBlock] = []
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("block"), Mapping):
            block = item["block"]
            blocks.append(DataBlock(str(block.get("name", "")), _Freezer(source).freeze(block.get("value"))))
        elif isinstance(item, Mapping) and isinstance(item.get("id"), str):
            statements.append(_statement(item, source))
        else:
            raise RubricError(f"{source}: a section item is neither a statement nor a data block: {item!r:.80}")
    ids = [statement.id for statement in statements]
    if len(set(ids)) != len(ids):
        raise RubricError(f"{source}: statement ids are not unique")
    return Rubric(
        name=str(metadata.get("name", Path(source).stem)),
        version=str(metadata.get("version", "")),
        issuer=str(metadata.get("issuer", "")),
        date=str(metadata.get("date", "")),
        language=str(metadata.get("language", "en")),
        info=_Freezer(source).freeze(info),
        variables=_Freezer(source).freeze(variables),
        expressions=MappingProxyType(expressions),
        statements=tuple(statements),
        blocks=tuple(blocks),
        source=source,
    )


class _Freezer:
    """Deep, read-only copies of YAML data (tuples, mapping proxies), so that a cached Rubric
    cannot be changed by one caller under another; bounded against alias bombs."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = 0

    def freeze(self, value: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_DATA_NODES or depth > MAX_DATA_DEPTH:
            raise RubricError(f"{self.source}: rubric data is too large or too deep")
        if isinstance(value, (list, tuple)):
            return tuple(self.freeze(item, depth + 1) for item in value)
        if isinstance(value, Mapping):
            return MappingProxyType({key: self.freeze(item, depth + 1) for key, item in value.items()})
        return value


def _statement(item: Mapping[str, Any], source: str) -> Statement:
    text = item.get("expression")
    expression = None if text is None else _parse(text, source, f"statement {item['id']}")
    description = item.get("description")
    return Statement(
        id=item["id"],
        description=None if description is None else str(description),
        expression=expression,
        report_text=_Freezer(source).freeze(item.get("reportText")),
        fail_if_matched=bool(item.get("failIfMatched", False)),
        warn_if_matched=bool(item.get("warnIfMatched", False)),
        spec_section=item.get("specSection"),
        title=_Freezer(source).freeze(item.get("title")),
    )


def _parse(text: Any, source: str, what: str) -> Formula:
    if not isinstance(text, str):
        raise RubricError(f"{source}: {what} is not a string")
    try:
        return parse_formula(text.strip())
    except FormulaError as exc:
        raise RubricError(f"{source}: {what}: {exc}") from exc
