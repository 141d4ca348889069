"""The transformer of a sentence-transformers model compiled by OpenVINO.

Only the first module (the Hugging Face transformer, nearly all of the compute) runs here; the
model's own tokenizer and its later modules (pooling, dense, normalisation) still come from the
sentence-transformers directory, so tokenization, pooling mode and max length are the model's.

The transformer is converted once with ``ov.convert_model`` and saved as OpenVINO IR
(``model.xml`` + ``model.bin``; no pickle) in a folder keyed by the model's path, a hash of its
config and weights, and the OpenVINO version: beside the model when that directory is writable,
else under ``~/.cache/litrag/openvino/``. Measured 2026-11-22 on 2 cores with AVX512-BF16 (issue
14): bf16 OpenVINO embedded 384 PubMedQA abstracts 1.64x faster than sentence-transformers bf16,
cosine to it >= 0.998.

Ingest may embed passages through an int8 copy of that IR (:func:`quantize_int8`, NNCF
post-training quantization calibrated on the first passages of the first ingest large enough),
saved the same way in a folder of its own (``KEY-int8``) with ``calibration.json`` beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import torch
from torch.jit._trace import TracerWarning

log = logging.getLogger(__name__)

IR_NAME = "model.xml"
INT8_SUFFIX = "-int8"
CALIBRATION_NOTE = "calibration.json"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def cache_key(model_dir: Path) -> str:
    """A hash of the model's path, its config and weights files, and the OpenVINO version."""
    digest = hashlib.sha256()
    digest.update(str(model_dir.resolve()).encode())
    digest.update(ov.get_version().encode())
    files = [model_dir / "config.json"]
    files += sorted(p for p in model_dir.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


def user_cache() -> Path:
    """``$XDG_CACHE_HOME/litrag/openvino`` (``~/.cache/litrag/openvino`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litrag" / "openvino"


def cache_folders(model_dir: Path, key: str) -> list[Path]:
    """Where the IR may lie, in order: beside the model, then the user cache."""
    return [model_dir / "litrag-openvino" / key, user_cache() / key]


def find_int8(model_dir: Path) -> tuple[Path | None, dict[str, Any]]:
    """The int8 IR of the model in ``model_dir`` and its calibration note, if one was made.

    A note without an IR is a rejected quantization (its vectors did not agree): (None, note).
    """
    key = cache_key(model_dir) + INT8_SUFFIX
    for folder in cache_folders(model_dir, key):
        if (folder / CALIBRATION_NOTE).is_file():
            note = json.loads((folder / CALIBRATION_NOTE).read_text())
            ir = folder / IR_NAME
            return (ir if ir.is_file() else None), note
    return None, {}


def quantize_int8(ir: Path, dataset: list[dict[str, np.ndarray]]) -> ov.Model:
    """The model at ``ir`` with int8 weights and activations (NNCF post-training quantization,
    transformer preset), its activation ranges calibrated on ``dataset`` (model inputs)."""
    import nncf

    model = ov.Core().read_model(str(ir))
    return nncf.quantize(
        model,
        nncf.Dataset(dataset),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(dataset),
    )


def save_int8(model_dir: Path, model: ov.Model | None, note: dict[str, Any]) -> Path | None:
    """Save a quantized model (None: only the note of a rejected one) in the first writable
    cache folder; returns the IR the folder then holds (another process's, if it won a race)."""
    key = cache_key(model_dir) + INT8_SUFFIX
    problems = []
    for folder in cache_folders(model_dir, key):
        try:
            _save_atomic(model, folder, note)
            return folder / IR_NAME if (folder / IR_NAME).is_file() else None
        except OSError as exc:
            problems.append(f"{folder}: {exc}")
    raise OSError(f"cannot write the int8 IR anywhere ({'; '.join(problems)})")


def find_or_convert(
    model_dir: Path, transformer: torch.nn.Module, example: dict[str, torch.Tensor]
) -> Path:
    """The IR of ``transformer`` (loaded from ``model_dir``), converting it on first use."""
    folders = cache_folders(model_dir, cache_key(model_dir))
    for folder in folders:
        if (folder / IR_NAME).is_file():
            return folder / IR_NAME
    log.info("converting %s to OpenVINO IR (once)", model_dir)
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns that two branches in transformers 5.23's masking and SDPA code become
        # constants; both depend only on an attention mask being given, which it always is here.
        warnings.simplefilter("ignore", TracerWarning)
        warnings.simplefilter("ignore", FutureWarning)
        converted = ov.convert_model(transformer, example_input=example)
    problems = []
    for folder in folders:
        try:
            _save_atomic(converted, folder)
            return folder / IR_NAME
        except OSError as exc:  # a read-only model directory: try the user cache
            problems.append(f"{folder}: {exc}")
    raise OSError(f"cannot write the OpenVINO IR anywhere ({'; '.join(problems)})")


def _save_atomic(model: ov.Model | None, folder: Path, note: dict[str, Any] | None = None) -> None:
    """Save ``model`` (and ``note``) into ``folder`` so that readers see a whole IR or none."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    done = CALIBRATION_NOTE if note is not None else IR_NAME  # written last
    try:
        if model is not None:
            # Weights kept in fp32: the precision is chosen when compiling (bf16 or f32).
            ov.save_model(model, str(tmp / IR_NAME), compress_to_fp16=False)
        if note is not None:
            (tmp / CALIBRATION_NOTE).write_text(json.dumps(note, indent=2))
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / done).is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compile_transformer(
    model_dir: Path,
    transformer: torch.nn.Module,
    example: dict[str, torch.Tensor],
    bf16: bool,
    threads: int,
    setting: str,
) -> Compiled | None:
    """``transformer`` compiled (converted on first use), or None with the reason logged under
    the name of the ``setting`` that asked for OpenVINO: the caller stays on torch."""
    try:
        if not (model_dir / "config.json").is_file():
            raise OSError(f"{model_dir} is not a local model directory")
        ir = find_or_convert(model_dir, transformer, example)
        return Compiled(ir, "bf16" if bf16 else "f32", threads)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        log.warning("%s openvino unavailable, using torch: %s", setting, exc)
        return None


class Compiled:
    """A transformer IR compiled for the CPU: token ids in, token embeddings out."""

    def __init__(self, ir: Path | ov.Model, precision: str, threads: int) -> None:
        config = {
            "INFERENCE_PRECISION_HINT": precision,
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        self.ir = ir
        self.precision = precision
        self.model = ov.Core().compile_model(ir if isinstance(ir, ov.Model) else str(ir), "CPU",
                                             config)  # fmt: skip
        self.inputs = [port.get_any_name() for port in self.model.inputs]
        self.request = self.model.create_infer_request()

    def token_embeddings(self, features: dict[str, Any]) -> torch.Tensor:
        """The last hidden state for a padded batch of tokenizer output (callers serialise)."""
        return torch.from_numpy(self.token_array(features))

    def token_array(self, features: dict[str, Any]) -> np.ndarray:
        """:meth:`token_embeddings` as a float32 array of its own (callers serialise)."""
        feed = {name: features[name].numpy() for name in self.inputs}
        self.request.infer(feed)
        return np.array(self.request.get_output_tensor(0).data, dtype=np.float32)
