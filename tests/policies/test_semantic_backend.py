"""The semantic model in ONNX Runtime: the same embeddings as PyTorch, a bad cache never answers."""

from __future__ import annotations

import numpy as np
import pytest

from policies import PolicyError
from policies.semantic import Embedder

from .conftest import read_csv


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


def test_the_engine_runs_the_exported_graph(semantic, model_cache):
    embed = semantic.semantic._embed
    assert embed.backend == "onnx" and embed.onnx_path.parent == model_cache and embed.onnx_path.is_file()


def test_onnx_and_torch_embeddings_agree(semantic, torch_embedder):
    prompts = [r["prompt"] for r in read_csv("descriptions_heldout.csv")][:20] + ["", "史努比", "x " * 300]
    onnx = semantic.semantic._embed(prompts)
    want = torch_embedder(prompts)
    assert onnx.shape == want.shape == (len(prompts), 384)
    assert float(np.abs(onnx - want).max()) < 1e-4
    one = semantic.semantic._embed([prompts[0]])  # a single prompt, no padding: the hot path
    assert float(np.abs(one[0] - want[0]).max()) < 1e-4


def test_a_corrupt_cached_graph_is_rebuilt_not_used(semantic, tmp_path):
    name = semantic.semantic._embed.onnx_path.name
    (tmp_path / name).write_bytes(b"\x08\x07 not an onnx graph")
    embed = Embedder(cache_dir=tmp_path, backend="onnx")
    assert embed.backend == "onnx" and embed.onnx_path == tmp_path / name
    assert (tmp_path / name).stat().st_size > 1_000_000
    assert not list(tmp_path.glob("*.tmp"))  # the export's temporary file is gone


def test_backend_choices_are_checked(tmp_path):
    with pytest.raises(PolicyError, match="unknown semantic backend"):
        Embedder(backend="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="needs a cache folder"):
        Embedder(backend="onnx")


def test_torch_backend_never_exports(tmp_path):
    embed = Embedder(cache_dir=tmp_path, backend="torch")
    assert embed.backend == "torch" and not list(tmp_path.iterdir())
