"""Architecture rules that keep the data flow readable, checked on the source itself."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEAF_PACKAGES = ("detectors", "policies", "generator")
PUBLIC_MODULES = (
    "governance",
    "governance.core.errors",
    "governance.flows",
    "policies",
    "generator",
    "detectors.watermark",
    "detectors.fingerprints",
    "detectors.video_io",
    "detectors.provenance",
    "detectors.errors",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", LEAF_PACKAGES)
def test_leaf_packages_never_import_governance(package):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path)
        if name == "governance" or name.startswith("governance.")
    ]
    assert offenders == []


# governance's layers, lowest first: a module imports only its own layer and those below it.
# provenance and records are siblings: neither imports the other.
LAYERS = {"core": 0, "provenance": 1, "records": 1, "flows": 2, "service": 3}


def test_governance_is_only_layers():
    loose = sorted(p.name for p in (ROOT / "governance").iterdir() if p.suffix == ".py" and p.name != "__init__.py")
    folders = sorted(p.name for p in (ROOT / "governance").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert loose == [] and folders == sorted(LAYERS)


def test_governance_layers_import_only_downwards():
    offenders = []
    for path in sorted((ROOT / "governance").rglob("*.py")):
        parts = path.relative_to(ROOT / "governance").parts
        if len(parts) == 1:
            continue  # governance/__init__.py: the public facade over flows
        layer = parts[0]
        for name in _imports(path):
            bits = name.split(".")
            if bits[0] != "governance" or len(bits) < 2 or bits[1] == layer:
                continue
            if bits[1] not in LAYERS or LAYERS[bits[1]] >= LAYERS[layer]:
                offenders.append(f"{path.relative_to(ROOT)} ({layer}) imports {name}")
    assert offenders == []


def test_only_flows_import_across_leaf_packages():
    """Outside governance/flows (and the service layer over it) governance modules use at most
    one leaf package each: orchestration stays in one layer."""
    offenders = []
    for path in sorted((ROOT / "governance").rglob("*.py")):
        parts = path.relative_to(ROOT / "governance").parts
        if parts[0] in {"flows", "service"} or parts in {("__init__.py",), ("core", "errors.py")}:
            continue
        leaves = {name.split(".")[0] for name in _imports(path)} & set(LEAF_PACKAGES)
        if len(leaves) > 1:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(leaves)}")
    assert offenders == []


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_exports_resolve(module_name):
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{module_name} has no __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    assert len(set(exported)) == len(exported)


def test_no_assert_for_validation_in_library_code():
    offenders = []
    for package in (*LEAF_PACKAGES, "governance"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    assert offenders == []


def test_every_error_has_an_exit_code_and_one_root():
    from detectors.errors import DetectorError
    from generator.errors import GeneratorError
    from governance.core.errors import ANY_ERROR, ReelGuardError
    from policies.errors import PolicyError

    for root in (DetectorError, GeneratorError, PolicyError):
        assert issubclass(root, ReelGuardError)
        assert root in ANY_ERROR
    seen = {}
    for root in ANY_ERROR:
        stack = [root]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            assert isinstance(cls.exit_code, int)
            seen.setdefault(cls.exit_code, []).append(cls.__name__)
    assert all(code not in (0, 2) for code in seen)


def test_product_packages_hold_no_fixtures():
    """Fixtures, clip makers and attacks live in tests/ and benchmarks/: no product module imports
    them, nor scikit-image (a test extra whose stills the fixtures use)."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in (*LEAF_PACKAGES, "governance")
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in ("tests", "benchmarks", "skimage")
    ]
    assert offenders == []
