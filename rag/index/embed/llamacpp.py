"""Text -> unit vectors with a GGUF embedding model under llama.cpp (``embedding.runtime =
"llama.cpp"``, chosen by itself for a ``.gguf`` file or a packaged model's name).

Many passages go into one llama.cpp batch, one sequence each (the bindings' own loop, in
``Llama.embed``, tokenizes one text per call and returns Python lists); each sequence's vector
is pooled by llama.cpp the way the GGUF says (mean pooling for nomic-bert; mean where the file
says none), L2-normalised here. The model's prefixes (``search_document: `` / ``search_query: ``
for nomic-embed) are put before every passage and question by this runtime, so callers never
see them. With ``embedding.dimensions`` the vectors keep their first N dimensions, as a
Matryoshka-trained model allows: layer-normalised, cut, then normalised again (nomic's recipe).

:class:`LlamaEmbedder` stands in for :class:`rag.index.embed.embedder.Embedder` everywhere an
embedder is used; what it cannot do (token vectors for the citation verifier) raises
:class:`ConfigError` and the verifier keeps a sentence-transformers embedder of its own.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from base.errors import ConfigError
from base.settings import EmbeddingSettings
from rag.index.embed.embedder import Embedder
from rag.index.embed.packaged import PACKAGED, file_sha256, install, model_cache

log = logging.getLogger(__name__)

RUNTIME = "llama.cpp"
# Tokens one llama.cpp batch holds. The encoder attends within each sequence but the work of a
# batch grows with its square, so a few hundred passages' worth is enough to keep cores busy.
BATCH_TOKENS = 2048
_FILE_TYPES = {0: "f32", 1: "f16", 7: "q8_0", 2: "q4_0", 3: "q4_1", 32: "bf16"}


def is_gguf(settings: EmbeddingSettings) -> bool:
    """True when ``settings`` name a GGUF embedder: a packaged name or a ``.gguf`` file."""
    return settings.model in PACKAGED or settings.model.lower().endswith(".gguf")


def effective_runtime(settings: EmbeddingSettings) -> str:
    """The runtime that embeds for ``settings``: llama.cpp for a GGUF model, else as set."""
    if settings.runtime == RUNTIME or is_gguf(settings):
        return RUNTIME
    return settings.runtime


def model_file(settings: EmbeddingSettings) -> Path:
    """The GGUF file ``embedding.model`` names (a packaged model is installed on first use)."""
    packaged = PACKAGED.get(settings.model)
    if packaged is not None:
        return install(packaged)
    path = Path(settings.model).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"embedding.model {settings.model!r} is not a GGUF file nor a packaged model "
            f"(packaged: {', '.join(sorted(PACKAGED))})"
        )
    return path


def prefixes(settings: EmbeddingSettings) -> tuple[str, str]:
    """(document, query) prefixes: the settings' own, else the packaged model's (by name, or a
    file named after it such as ``nomic-embed-text-v1.5.q8_0.gguf``), else none."""
    name = Path(settings.model).name
    packaged = PACKAGED.get(settings.model) or next(
        (p for p in PACKAGED.values() if name.startswith(p.name + ".")), None
    )
    document, query = packaged.prefixes if packaged else ("", "")
    return settings.document_prefix or document, settings.query_prefix or query


def identity(settings: EmbeddingSettings) -> tuple[str, str]:
    """(sha256 of the GGUF file, the prefixes as one string) for an index's manifest; a
    packaged model's hash is known without reading the file."""
    packaged = PACKAGED.get(settings.model)
    digest = packaged.sha256 if packaged else _cached_sha256(*_file_key(settings.model))
    return digest, "|".join(prefixes(settings))


def _file_key(model: str) -> tuple[str, int, int]:
    path = Path(model).expanduser()
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"embedding.model {model!r}: {exc}") from exc
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


class LlamaEmbedder(Embedder):
    """A GGUF embedding model loaded by llama.cpp; build it with
    :func:`rag.index.embed.embedder.load_embedder`."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        # Embedder.__init__ is not called: it loads a sentence-transformers model.
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.path = model_file(settings)
        self.name = settings.model
        self.runtime = RUNTIME
        self.lock = threading.RLock()
        self.batch_size = settings.batch_size
        self.compiled = None
        self._threads = settings.threads or len(os.sched_getaffinity(0))
        self.document_prefix, self.query_prefix = prefixes(settings)
        self.llm: Any = self._load(llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED)
        if self.llm.pooling_type() == llama_cpp.LLAMA_POOLING_TYPE_NONE:
            self.llm.close()  # the file asks for token vectors: pooled by their mean instead
            self.llm = self._load(llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        full = int(self.llm.n_embd())
        if settings.dimensions > full:
            raise ConfigError(
                f"embedding.dimensions {settings.dimensions} exceeds the model's {full}"
            )
        self.full_dimension = full
        self.dimension = settings.dimensions or full
        self.max_tokens = min(int(self.llm._model.n_ctx_train()), BATCH_TOKENS)
        self.dtype = _FILE_TYPES.get(int(self.llm.metadata.get("general.file_type", -1)), "gguf")
        self._seq_max = int(self.llm.context_params.n_seq_max)

    def _load(self, pooling: int) -> Any:
        """The model in embedding mode with ``pooling`` (UNSPECIFIED: the GGUF's own)."""
        try:
            return self._llama_cpp.Llama(
                model_path=str(self.path),
                embedding=True,
                n_ctx=BATCH_TOKENS,
                n_batch=BATCH_TOKENS,
                n_ubatch=BATCH_TOKENS,  # an encoder sees each batch whole
                n_threads=self._threads,
                n_threads_batch=self._threads,
                pooling_type=pooling,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ConfigError(
                f"embedding.model {self.path}: llama.cpp cannot load it ({exc})"
            ) from exc

    @property
    def precision(self) -> str:
        """The GGUF file's weight type (``f16``, ``q8_0``, ...)."""
        return self.dtype

    @property
    def index_precision(self) -> str:
        """Passages are embedded as questions are: :attr:`precision`."""
        return self.dtype

    def embed_for_index(self, texts: Sequence[str]) -> np.ndarray:
        """Passages for an index: :meth:`embed_documents`."""
        return self.embed_documents(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per passage (the document prefix put before each)."""
        return self._embed_prefixed([self.document_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per question (the query prefix put before each)."""
        return self._embed_prefixed([self.query_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question (a 1-row batch)."""
        return self.embed_queries([text])

    def embed_tokens(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Not available: llama.cpp pools inside the model (see the module's note)."""
        raise ConfigError(
            f"embedding.model {self.name}: token vectors (the citation verifier's) need a "
            "sentence-transformers embedder"
        )

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the model's tokens, without special tokens."""
        return len(self._tokenize(text, special=False))

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        """:meth:`count_tokens` of each text (llama.cpp's tokenizer only reads the vocabulary,
        so the chunker's thread calls it without :attr:`lock`)."""
        return [len(self._tokenize(t, special=False)) for t in texts]

    def token_offsets_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Not available: the chunker counts pieces instead (see :attr:`splits_at_whitespace`)."""
        raise NotImplementedError("llama.cpp gives no token offsets")

    @property
    def splits_at_whitespace(self) -> bool:
        """False: the chunker counts each piece rather than reading token offsets."""
        return False

    def _tokenize(self, text: str, special: bool) -> list[int]:
        ids: list[int] = self.llm.tokenize(text.encode("utf-8"), add_bos=special, special=False)
        return ids

    def _embed_prefixed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for ``texts`` (prefixed already), longest first in batches of at most
        ``batch_size`` sequences and BATCH_TOKENS tokens."""
        tokens = [self._truncate(self._tokenize(t, special=True)) for t in texts]
        order = np.argsort([-len(t) for t in tokens], kind="stable")
        out = np.zeros((len(texts), self.full_dimension), dtype=np.float32)
        batch: list[int] = []
        used = 0
        with self.lock:
            for i in order:
                n = len(tokens[i])
                if batch and (used + n > BATCH_TOKENS or len(batch) >= self._batch_rows):
                    out[batch] = self._decode([tokens[j] for j in batch])
                    batch, used = [], 0
                batch.append(int(i))
                used += n
            if batch:
                out[batch] = self._decode([tokens[j] for j in batch])
        return self._finish(out)

    @property
    def _batch_rows(self) -> int:
        return max(1, min(self.batch_size, self._seq_max))

    def _truncate(self, ids: list[int]) -> list[int]:
        """At most max_tokens ids, the last (the separator) kept."""
        if len(ids) <= self.max_tokens:
            return ids
        return ids[: self.max_tokens - 1] + ids[-1:]

    def _decode(self, sequences: list[list[int]]) -> np.ndarray:
        """One llama.cpp batch, a sequence per text; its pooled vectors (callers hold lock)."""
        batch, ctx = self.llm._batch, self.llm._ctx
        batch.reset()
        for seq, ids in enumerate(sequences):
            batch.add_sequence(ids, seq, True)
        ctx.kv_cache_clear()
        ctx.decode(batch)
        rows = np.empty((len(sequences), self.full_dimension), dtype=np.float32)
        for seq in range(len(sequences)):
            pointer = self._llama_cpp.llama_get_embeddings_seq(ctx.ctx, seq)
            if not pointer:
                raise RuntimeError(f"llama.cpp returned no embedding for sequence {seq}")
            rows[seq] = np.ctypeslib.as_array(
                ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (self.full_dimension,)
            )
        batch.reset()
        return rows

    def _finish(self, vectors: np.ndarray) -> np.ndarray:
        """Unit rows, cut to ``dimension`` first where asked (layer norm, cut, normalise)."""
        if self.dimension < self.full_dimension:
            mean = vectors.mean(axis=1, keepdims=True)
            std = np.sqrt(vectors.var(axis=1, keepdims=True) + 1e-5)
            vectors = ((vectors - mean) / std)[:, : self.dimension]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def gguf_precision(settings: EmbeddingSettings) -> str:
    """The weight type a packaged GGUF model computes in, without loading it ("" for a file
    of the user's: the loaded model says)."""
    packaged = PACKAGED.get(settings.model)
    return packaged.precision if packaged else ""


def quantized_copy(path: Path, kind: str = "q8_0") -> Path:
    """A copy of the GGUF at ``path`` with ``kind`` weights (llama.cpp's quantizer), made once
    beside the packaged models; the copy keeps the original's name stem, so its prefixes."""
    import ctypes as c

    import llama_cpp

    types = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}
    if kind not in types:
        raise ConfigError(f"quantized_copy: {kind!r} is not one of {', '.join(types)}")
    target = model_cache() / f"{path.name.split('.f16')[0].removesuffix('.gguf')}.{kind}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = types[kind]
    tmp = target.with_name(f".{target.name}.tmp")
    if llama_cpp.llama_model_quantize(str(path).encode(), str(tmp).encode(), c.byref(params)):
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"llama.cpp could not quantize {path} to {kind}")
    os.replace(tmp, target)
    return target
