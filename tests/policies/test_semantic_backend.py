"""The semantic model in ONNX Runtime: float32 equals PyTorch, int8 stays within cosine 0.98, a bad
cached graph is rebuilt and never answers."""

from __future__ import annotations

import numpy as np
import pytest

from policies import PolicyError
from policies.semantic import Embedder

from .conftest import read_csv


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


PROMPTS = [r["prompt"] for r in read_csv("descriptions_heldout.csv")][:20] + ["", "史努比", "x " * 300]


def test_the_engine_runs_the_int8_graph_by_default(minilm, model_cache):
    embed = minilm.semantic.embedder
    assert embed.backend == "onnx-int8" and embed.onnx_path.parent == model_cache
    assert embed.onnx_path.name.endswith("-int8.onnx") and embed.onnx_path.is_file()


def test_float32_onnx_equals_torch(minilm, model_cache, torch_embedder):
    onnx = Embedder(cache_dir=model_cache, backend="onnx")  # the engine's load already exported it
    assert onnx.backend == "onnx" and not onnx.onnx_path.name.endswith("-int8.onnx")
    got, want = onnx(PROMPTS), torch_embedder(PROMPTS)
    assert got.shape == want.shape == (len(PROMPTS), 384)
    assert float(np.abs(got - want).max()) < 1e-4
    one = onnx([PROMPTS[0]])  # a single prompt, no padding: the hot path
    assert float(np.abs(one[0] - want[0]).max()) < 1e-4


def test_int8_embeddings_stay_close_to_torch(minilm, torch_embedder):
    prompts = [p for p in PROMPTS if p]  # the engine refuses empty prompts before any model runs
    got, want = minilm.semantic.embedder(prompts), torch_embedder(prompts)
    cosine = (got * want).sum(1)
    assert float(cosine.min()) > 0.98 and float(np.median(cosine)) > 0.99


def test_a_corrupt_cached_graph_is_rebuilt_not_used(minilm, tmp_path):
    name = minilm.semantic.embedder.onnx_path.name
    (tmp_path / name).write_bytes(b"\x08\x07 not an onnx graph")
    embed = Embedder(cache_dir=tmp_path, backend="onnx-int8")
    assert embed.backend == "onnx-int8" and embed.onnx_path == tmp_path / name
    assert (tmp_path / name).stat().st_size > 1_000_000
    assert not list(tmp_path.glob("*.tmp"))  # the export's temporary file is gone


def test_backend_choices_are_checked(tmp_path):
    with pytest.raises(PolicyError, match="unknown semantic backend"):
        Embedder(backend="tensorrt")  # type: ignore[arg-type]
    for backend in ("onnx", "onnx-int8"):
        with pytest.raises(PolicyError, match="needs a cache folder"):
            Embedder(backend=backend)


def test_torch_backend_never_exports(tmp_path):
    embed = Embedder(cache_dir=tmp_path, backend="torch")
    assert embed.backend == "torch" and not list(tmp_path.iterdir())


def test_one_prompt_uses_two_threads_and_gets_the_same_embedding(minilm):
    embed = minilm.semantic.embedder
    long = " ".join(["a red fox jumping over a lazy dog in the snow"] * 8)
    calls = []
    real = embed._single_session.run
    embed._single_session.run = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        two = embed([long])
    finally:
        embed._single_session.run = real
    one = embed._encode([long], 8, session=embed._session)
    assert calls == [1] and float(np.abs(two - one).max()) < 1e-5


def _op_counts(path) -> dict[str, int]:
    import onnx

    counts: dict[str, int] = {}
    for node in onnx.load(str(path), load_external_data=False).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def test_the_exported_graph_has_bert_fused(minilm):
    int8 = minilm.semantic.embedder.onnx_path
    fp32 = int8.with_name(int8.name.replace("-int8", ""))
    ops = _op_counts(fp32)
    assert ops.get("Attention") == 6 and ops.get("EmbedLayerNormalization") == 1
    assert sum(ops.values()) < 60  # ~250 ops unfused
    assert _op_counts(int8).get("QAttention") == 6  # the attention projections are int8 too


def _plain_graph_runs(tmp_path, torch_embedder) -> None:
    with pytest.warns(RuntimeWarning, match="no fused ONNX graph"):
        embed = Embedder(cache_dir=tmp_path, backend="onnx")
    assert embed.backend == "onnx" and "Attention" not in _op_counts(embed.onnx_path)
    assert float(np.abs(embed(PROMPTS[:5]) - torch_embedder(PROMPTS[:5])).max()) < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == [embed.onnx_path.name]  # no temporary file or folder left


def test_when_fusion_fails_the_plain_graph_runs_and_still_equals_torch(tmp_path, monkeypatch, torch_embedder):
    from onnxruntime.transformers import optimizer

    def unfused(path, **kwargs):
        raise RuntimeError("no pattern matched")

    monkeypatch.setattr(optimizer, "optimize_model", unfused)
    _plain_graph_runs(tmp_path, torch_embedder)


def test_a_fused_graph_that_runs_but_disagrees_is_replaced_by_the_plain_one(tmp_path, monkeypatch, torch_embedder):
    import onnx
    from onnx import numpy_helper

    real = Embedder._export_fused

    def skewed(self, tmp, example):  # a graph that loads and runs, with one weight off by 50 %
        real(self, tmp, example)
        model = onnx.load(tmp)
        weight = max(model.graph.initializer, key=lambda t: numpy_helper.to_array(t).size)
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 1.5, weight.name))
        onnx.save(model, tmp)

    monkeypatch.setattr(Embedder, "_export_fused", skewed)
    _plain_graph_runs(tmp_path, torch_embedder)
