"""The public names are exactly what `generator.__all__` says, and generator never imports governance."""

from __future__ import annotations

import ast
from pathlib import Path

import generator


def test_all_names_exist():
    missing = [name for name in generator.__all__ if not hasattr(generator, name)]
    assert missing == []
    assert {"load_generator", "GenerationRequest", "GenerationResult", "ModelRecord", "default_model_path"} <= set(
        generator.__all__
    )


def test_generator_does_not_import_governance():
    root = Path(generator.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "governance"]
    assert offenders == []
