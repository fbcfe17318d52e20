"""Policy packs as data: the YAML schema, and loading with errors that name file, line and field.

A pack declares categories (default action and severity), named lexicons, and rules. A rule hits
when any of its ``terms`` or ``entities`` names appear (exact, leetspeak, spacing, or fuzzy),
when one of its regex ``patterns`` matches the canonical text, when every lexicon in ``all_of``
has a term in the prompt, or when the prompt is semantically close to one of its ``exemplars``
(or an entity's ``descriptions``). ``examples`` are the pack's own tests (``policy test PACK``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.base import Action
from policies.errors import PolicyPackError

__all__ = [
    "PackSource",
    "PackSpec",
    "RuleSpec",
    "CategorySpec",
    "EntitySpec",
    "LoadedPack",
    "load_pack",
    "bundled_sources",
    "sources_from_paths",
    "packs_digest",
]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
Severity = Literal["low", "medium", "high", "critical"]
_ID = r"^[a-z0-9][a-z0-9._\-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategorySpec(_Model):
    id: str = Field(pattern=_ID)
    description: str
    action: Action
    severity: Severity = "high"


LANGUAGES = frozenset({"en", "zh", "zh-hant", "ja", "ko", "es", "fr", "de", "pt", "ru", "ar", "hi"})


class EntitySpec(_Model):
    """A named thing (person, character, brand): its names, and name-free descriptions.

    ``i18n`` holds the names as written in other languages (``{ja: [ミッキーマウス], ko: [...]}``),
    matched like ``names``; ``aliases`` are indirect references that mean this one entity (an
    office, a role, a famous work, a relation: "the 45th us president", "the iron man actor"),
    matched as exact phrases (never fuzzily: "46th" is another president) in any language.
    ``works`` are what the person is known for (titles, tours, teams, catchphrases: "Eras Tour",
    "Bad Romance", "Al-Nassr"), matched as exact phrases: two of one person's works name that
    person, and so does one beside a word for a person (the rule's ``works_need`` lexicon:
    "singer", "歌手"), since a title alone is often also a film, a song or a place.
    """

    id: str = Field(pattern=_ID)
    names: list[str] = Field(min_length=1)
    i18n: dict[str, list[str]] = {}
    aliases: list[str] = []
    works: list[str] = []
    descriptions: list[str] = []

    @field_validator("i18n")
    @classmethod
    def _languages(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - LANGUAGES)
        if unknown:
            raise ValueError(f"unknown language code(s) {unknown}: use {sorted(LANGUAGES)}")
        return value

    @property
    def all_names(self) -> list[str]:
        return [*self.names, *(name for names in self.i18n.values() for name in names)]


class ExamplesSpec(_Model):
    hit: list[str] = []
    miss: list[str] = []


class RuleSpec(_Model):
    id: str = Field(pattern=_ID)
    category: str
    description: str = ""
    action: Action | None = None
    severity: Severity | None = None
    terms: list[str] = []
    fuzzy: bool = False
    entities: list[EntitySpec] = []
    # The lexicon whose words ("singer", "actor", "歌手") let one of an entity's ``works`` name it.
    works_need: str | None = None
    patterns: list[str] = []
    all_of: list[str] = []
    exemplars: list[str] = []
    threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    # The same threshold for the multilingual model (another model, another similarity scale).
    threshold_multilingual: float | None = Field(default=None, gt=0.0, le=1.0)
    # How far the multilingual model's score must beat the nearest benign anchor for this rule
    # (default: ``policies.semantic_index.MULTILINGUAL_MARGIN``).
    margin_multilingual: float | None = Field(default=None, ge=0.0, le=1.0)
    # The multilingual model also scores this rule's exemplars against each clause of the prompt
    # (``policies.clauses``): for harm told in one clause of a long prompt.
    clauses: bool = False
    # Context may defuse this rule: its hits are dropped when negated ("no gore") and, for its
    # semantic hits, under a documentary, historical, medical or safety framing (``defusing``).
    defusable: bool = False
    # ... and, with ``defusable``, its word hits too under such a framing: for words that name an
    # event a documentary is about ("a documentary about the Srebrenica massacre"), never for the
    # words of what is seen on screen ("beheading").
    framing_defuses_terms: bool = False
    examples: ExamplesSpec = ExamplesSpec()

    @field_validator("entities", mode="before")
    @classmethod
    def _entity_shorthand(cls, value: Any) -> Any:
        # "Taylor Swift | T-Swift" is shorthand for {id: taylor-swift, names: [...]}.
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, str):
                names = [n.strip() for n in item.split("|") if n.strip()]
                out.append({"id": _slug(names[0]) if names else "", "names": names})
            else:
                out.append(item)
        return out

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return value


class PackSpec(_Model):
    pack: str = Field(pattern=_ID)
    version: str = Field(min_length=1)
    description: str = ""
    categories: list[CategorySpec] = []
    lexicons: dict[str, list[str]] = {}
    rules: list[RuleSpec] = []
    benign_anchors: list[str] = []
    # Words that negate what follows ("no", "without") or precedes ("なし", "없는"), and framings
    # under which a defusable rule's scene words depict no harm ("documentary", "reenactment").
    negations: list[str] = []
    negations_after: list[str] = []
    defusing: list[str] = []
    # ... unless the prompt also shows harm outright ("bleeding", "corpses"), not negated.
    graphic: list[str] = []
    # Words that say a figure is the writer's own ("original superhero", "my own character",
    # "no logos", "原创"): a character found only by description is then not taken for it.
    originals: list[str] = []


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "x"


@dataclass(frozen=True, slots=True)
class PackSource:
    """Pack text with the name errors should cite (a path, or ``bundled:NAME.yaml``)."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class LoadedPack:
    source: PackSource
    spec: PackSpec
    lines: dict[tuple[Any, ...], int]
    sha256: str

    def line_of(self, *path: Any) -> int:
        """Line of the deepest known node on ``path`` (1-based)."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return 1


_SENTENCE_LISTS = frozenset({"descriptions", "exemplars", "benign_anchors"})


def _line_map(node: yaml.Node, source: str) -> dict[tuple[Any, ...], int]:
    """Line of every node by path; refuses duplicate mapping keys (YAML would keep the last)."""
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in seen:
                    raise PolicyPackError(
                        f"{source}:{key_node.start_mark.line + 1}: {_dotted(path + (key,))}: "
                        f"duplicate key (first at line {seen[key]})"
                    )
                seen[key] = key_node.start_mark.line + 1
                walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            if node.flow_style and path and path[-1] in _SENTENCE_LISTS:
                # In [a red hat, blue shoes] every comma starts a new item: a description would be
                # cut into fragments silently (it happened), so sentences go one per line.
                raise PolicyPackError(
                    f"{source}:{node.start_mark.line + 1}: {_dotted(path)}: write one sentence per line "
                    f"('- ...'), not a [flow, list]: YAML splits a flow list at every comma"
                )
            for index, item in enumerate(node.value):
                walk(item, path + (index,))

    walk(node, ())
    return lines


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<pack>"


def load_pack(source: PackSource) -> LoadedPack:
    """Parse and validate one pack; ``PolicyPackError`` names the file, line and field."""
    try:
        loader = _Loader(source.text)  # compose once: the node tree gives lines, then the data
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise PolicyPackError(f"{source.name}:{line}: YAML syntax error: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise PolicyPackError(f"{source.name}:1: YAML error: {exc}") from None
    if node is None or not isinstance(data, dict):
        raise PolicyPackError(f"{source.name}:1: <pack>: a pack must be a YAML mapping")
    lines = _line_map(node, source.name)
    try:
        spec = PackSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = LoadedPack(source, None, lines, "").line_of(*loc)  # type: ignore[arg-type]
        found = (
            f" (got {first['input']!r})" if first.get("type") not in ("missing",) and _short(first.get("input")) else ""
        )
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PolicyPackError(f"{source.name}:{line}: {_dotted(loc)}: {first['msg']}{found}{more}") from None
    digest = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    return LoadedPack(source, spec, lines, digest)


def _short(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and len(str(value)) <= 60


def bundled_sources() -> list[PackSource]:
    """The packs shipped in ``policies/packs`` (importlib.resources, never the working directory)."""
    folder = resources.files("policies.packs")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))), key=lambda e: e.name)
    return [PackSource(f"bundled:{e.name}", e.read_text(encoding="utf-8")) for e in entries]


def sources_from_paths(paths: Any) -> list[PackSource]:
    """Pack files or folders of packs (``*.yaml``), or ready ``PackSource`` values."""
    out: list[PackSource] = []
    for item in paths:
        if isinstance(item, PackSource):
            out.append(item)
            continue
        path = Path(item).expanduser()
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                out.append(PackSource(str(file), file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyPackError(f"{file}:1: <pack>: cannot read pack: {exc}") from None
    return out


def packs_digest(packs: list[LoadedPack]) -> str:
    """sha256 over (pack name, version, content hash) in pack-name order."""
    h = hashlib.sha256(b"reelguard-policy-packs/v1\n")
    for pack in sorted(packs, key=lambda p: p.spec.pack):
        h.update(f"{pack.spec.pack}\0{pack.spec.version}\0{pack.sha256}\n".encode())
    return h.hexdigest()
