"""Find, check and load a diffusers pipeline folder (local path, hub id from the local cache, or
the embedded model), and fingerprint its weights.

The pipeline class comes from ``model_index.json``: a diffusers class, or one of ReelGuard's own
(``PIPELINES``), so the embedded folder loads with no ``trust_remote_code`` and no hub access.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from generator.errors import ModelLoadError, ModelNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from diffusers import DiffusionPipeline  # Any to mypy: diffusers is not analysed (pyproject)

__all__ = [
    "default_model_path",
    "resolve_folder",
    "pipeline_class_for",
    "load_pipeline",
    "weights_digest",
    "folder_digest",
    "LoadedModel",
    "ModelInfo",
    "describe_model",
    "list_models",
]

EMBEDDED_MODEL = "shapes_t2v"
# diffusers renamed `torch_dtype` to `dtype` in 0.42 (the old name warns).
_DTYPE_KW = "dtype" if tuple(int(x) for x in metadata.version("diffusers").split(".")[:2]) >= (0, 42) else "torch_dtype"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".json", ".txt", ".model")


def default_model_path() -> Path:
    """The embedded model folder shipped inside the package."""
    folder = resources.files("generator.embedded").joinpath(EMBEDDED_MODEL)
    if not isinstance(folder, Path):  # zipped installs: diffusers needs real files
        raise ModelNotFoundError(f"the embedded model must be installed as files, not inside {folder}")
    return folder


def _pipelines() -> dict[str, type[DiffusionPipeline]]:
    from generator.embedded.pipeline import ShapesVideoPipeline

    return {"ShapesVideoPipeline": ShapesVideoPipeline}


def _looks_local(path_or_id: str) -> bool:
    return (
        os.path.isabs(path_or_id)
        or path_or_id.startswith((".", "~"))
        or os.path.exists(path_or_id)
        or path_or_id.count("/") > 1
        or os.sep != "/"
        and os.sep in path_or_id
    )


def resolve_folder(
    path_or_id: str | os.PathLike | None, *, revision: str | None = None, local_files_only: bool = True
) -> tuple[Path, str]:
    """(pipeline folder, model id as recorded). Hub ids resolve through the Hugging Face cache."""
    if path_or_id is None:
        folder = default_model_path()
        model_id = f"reelguard/embedded/{EMBEDDED_MODEL}"
    elif isinstance(path_or_id, os.PathLike) or _looks_local(str(path_or_id)):
        folder = Path(path_or_id).expanduser()
        model_id = str(folder)
    else:
        model_id = str(path_or_id)
        from diffusers import DiffusionPipeline

        try:
            folder = Path(DiffusionPipeline.download(model_id, revision=revision, local_files_only=local_files_only))
        except Exception as exc:  # hub errors are many classes; all mean "not available here"
            hint = " and downloads are off (local_files_only=True)" if local_files_only else ""
            raise ModelNotFoundError(
                f"model {model_id!r} is not in the local Hugging Face cache{hint}: {type(exc).__name__}"
            ) from exc
    if not folder.is_dir():
        raise ModelNotFoundError(f"model folder {folder} does not exist")
    if not (folder / "model_index.json").is_file():
        raise ModelNotFoundError(f"{folder} has no model_index.json, so it is not a diffusers pipeline folder")
    return folder, model_id


def pipeline_class_for(folder: Path) -> type[DiffusionPipeline]:
    """The pipeline class that ``model_index.json`` names, or ModelLoadError."""
    index_path = folder / "model_index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        name = index["_class_name"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{index_path} is corrupt: {type(exc).__name__}: {exc}") from exc
    own = _pipelines()
    if name in own:
        return own[name]
    import diffusers
    from diffusers import DiffusionPipeline

    cls = getattr(diffusers, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, DiffusionPipeline)):
        raise ModelLoadError(f"unknown pipeline class {name!r} in {index_path} (diffusers {diffusers.__version__})")
    return cls


def weights_digest(files: list[Path], root: Path) -> str:
    """sha256 over (relative name, content) of each file, in name order."""
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: str(p)):
        name = str(path.relative_to(root)) if path.is_relative_to(root) else f"external/{path.name}"
        h.update(name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class LoadedModel:
    pipeline: DiffusionPipeline
    folder: Path
    model_id: str
    revision: str | None
    weights_digest: str


def load_pipeline(
    path_or_id: str | os.PathLike | None,
    *,
    device: str = "cpu",
    dtype: torch.dtype | None = None,
    local_files_only: bool = True,
    revision: str | None = None,
) -> LoadedModel:
    folder, model_id = resolve_folder(path_or_id, revision=revision, local_files_only=local_files_only)
    cls = pipeline_class_for(folder)
    try:
        pipe = cls.from_pretrained(folder, **{_DTYPE_KW: dtype}, local_files_only=True)
    except Exception as exc:  # missing/corrupt weights or configs surface as many exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelLoadError(f"cannot load {cls.__name__} from {folder}: {type(exc).__name__}: {first}") from exc
    try:
        pipe = pipe.to(device)
    except (RuntimeError, AssertionError) as exc:  # e.g. "cuda" on a CPU-only torch
        raise ModelLoadError(f"cannot move the pipeline to device {device!r}: {exc}") from exc
    return LoadedModel(pipe, folder, model_id, revision, folder_digest(folder, cls))


def _model_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES]


def folder_digest(folder: Path, cls: type) -> str:
    """The digest a ModelRecord cites: the folder's weights and configs, plus weights the
    pipeline class loads from elsewhere (the embedded model's text encoder)."""
    external = getattr(cls, "external_weight_files", None)
    return weights_digest(_model_files(folder) + (list(external()) if external else []), folder)


@dataclass(frozen=True)
class ModelInfo:
    """What ``reelguard models info`` shows, read from the folder without loading weights."""

    model_id: str
    folder: Path
    pipeline_class: str
    components: dict[str, list]
    size_bytes: int
    weights_digest: str | None
    training: dict | None

    def to_dict(self) -> dict:
        return {**asdict(self), "folder": str(self.folder)}


def describe_model(
    path_or_id: str | os.PathLike | None = None, *, digest: bool = True, local_files_only: bool = True
) -> ModelInfo:
    folder, model_id = resolve_folder(path_or_id, local_files_only=local_files_only)
    cls = pipeline_class_for(folder)
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    components = {k: v for k, v in index.items() if not k.startswith("_") and isinstance(v, list)}
    training = folder / "training.json"
    try:
        train_info = json.loads(training.read_text(encoding="utf-8")) if training.is_file() else None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{training} is corrupt: {exc}") from exc
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return ModelInfo(
        model_id, folder, cls.__name__, components, size, folder_digest(folder, cls) if digest else None, train_info
    )


def list_models() -> list[ModelInfo]:
    """The embedded model, then diffusers pipelines in the local Hugging Face cache."""
    found = [describe_model(None, digest=False)]
    try:
        from huggingface_hub import scan_cache_dir

        repos = scan_cache_dir().repos
    except Exception:  # no cache folder yet, or an unreadable one: nothing cached to list
        repos = frozenset()
    for repo in sorted(repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)[:1]:
            if (Path(rev.snapshot_path) / "model_index.json").is_file():
                try:
                    found.append(describe_model(repo.repo_id, digest=False))
                except (ModelNotFoundError, ModelLoadError):
                    continue
    return found
