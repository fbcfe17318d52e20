"""ONNX Runtime plumbing for the MiniLM embedder (``policies.semantic``): the model wrapped for
export, session options, atomic writes into the model cache (a half-written graph must never be
found there), and the int8 quantiser.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["positional_model", "session_options", "atomic_output", "quantize_int8"]


def positional_model(torch: Any, model: Any) -> Any:
    """``model`` with positional inputs and one output: the graph ORT runs."""

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return Hidden().eval()


def session_options(ort, threads: int):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads > 1:
        # The workers spin between the ops of one run (measured on 2 cores: 64 tokens 5.5 -> 4.3 ms;
        # without spinning, waking them cost more than the second thread saved) and stop spinning
        # when the run ends, so an idle engine burns no CPU.
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


@contextlib.contextmanager
def atomic_output(path: Path, *quiet_loggers: str):
    """A temporary file beside ``path`` that replaces it only when the block succeeds (a crash
    leaves no half-written graph under the real name); ``quiet_loggers`` are silenced meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    loggers = [logging.getLogger(name) for name in quiet_loggers]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if os.path.exists(tmp):
            os.unlink(tmp)


def quantize_int8(source: Path, path: Path) -> None:
    """Dynamic int8 weights for the MatMuls and fused Attention ops, per output channel (ORT's
    quantiser). The fused graph's contrib ops defeat ONNX shape inference, hence the default type."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with atomic_output(path, "") as tmp:  # "": the quantiser logs advice on the root logger
        quantize_dynamic(
            source,
            tmp,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": 1},
        )  # onnx.TensorProto.FLOAT
