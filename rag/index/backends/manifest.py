"""What an index's contents depend on, whichever backend holds it: the manifest, and the check
that refuses to mix an index with settings that would fill it differently."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from base.errors import IndexProblem
from base.settings import Settings
from rag.index.embed.embedder import DEFAULT_MODEL_NAME, cpu_has_bf16
from rag.index.embed.llamacpp import RUNTIME as LLAMA_CPP
from rag.index.embed.llamacpp import effective_runtime, gguf_precision, identity

FORMAT_VERSION = 1
# Bump when the documents read or the passages cut from the same files change, so that an old
# index is rebuilt rather than mixed with new. 2 (2026-12): identical files merge into one
# document (corpus.dedup); every document has a passage (rag.index.chunking.stand_in). 3: PDFs
# are read through PDFium (corpus.pdf): other text, titles, DOIs and years.
READER_VERSION = 3
# Fields that say how the vectors were computed, not what they mean: outside the fingerprint,
# checked by vector agreement instead. Manifests written before they existed lack them (torch).
_RUNTIME_FIELDS = ("embedding_runtime", "embedding_precision")
# Fields of a GGUF embedder's index only (llama.cpp): left out of the contents when empty, so the
# fingerprint of every other index stays what it was.
_GGUF_FIELDS = ("embedding_sha256", "embedding_prefixes")


@dataclass(frozen=True)
class Manifest:
    """What an index's contents depend on; two indexes with equal manifests can be mixed."""

    format_version: int
    embedding_model: str
    dimension: int
    normalized: bool
    chunk_max_tokens: int
    chunk_overlap_tokens: int
    reader_version: int
    embedding_runtime: str = "torch"
    embedding_precision: str = ""  # "" = not recorded
    embedding_sha256: str = ""  # the GGUF file's (llama.cpp runtime)
    embedding_prefixes: str = ""  # "DOCUMENT|QUERY" prefixes the runtime put before texts

    @property
    def contents(self) -> dict[str, object]:
        """The fields that change what the index holds (all but the runtime fields)."""
        return {
            k: v
            for k, v in asdict(self).items()
            if k not in _RUNTIME_FIELDS and not (k in _GGUF_FIELDS and v == "")
        }

    @property
    def fingerprint(self) -> str:
        """A short hash of the manifest's contents fields."""
        return hashlib.sha256(json.dumps(self.contents, sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def for_settings(
        cls, settings: Settings, dimension: int, runtime: str = "", precision: str = ""
    ) -> Manifest:
        """The manifest an index built with ``settings`` (by that runtime) has."""
        sha256, prefixes = "", ""
        if effective_runtime(settings.embedding) == LLAMA_CPP:
            sha256, prefixes = identity(settings.embedding)
        return cls(
            format_version=FORMAT_VERSION,
            embedding_model=settings.embedding.model or DEFAULT_MODEL_NAME,
            dimension=settings.embedding.dimensions or dimension,
            normalized=True,
            chunk_max_tokens=settings.chunking.max_tokens,
            chunk_overlap_tokens=settings.chunking.overlap_tokens,
            reader_version=READER_VERSION,
            embedding_runtime=runtime or effective_runtime(settings.embedding),
            embedding_precision=precision or expected_precision(settings),
            embedding_sha256=sha256,
            embedding_prefixes=prefixes,
        )


def expected_precision(settings: Settings) -> str:
    """The precision the embedder loaded for ``settings`` embeds passages for an index in, once
    its int8 copy is made (without loading it)."""
    if effective_runtime(settings.embedding) == LLAMA_CPP:
        return gguf_precision(settings.embedding)
    if settings.embedding.runtime == "openvino" and settings.embedding.ingest_precision == "int8":
        return "int8"
    dtype = settings.embedding.dtype
    return "bfloat16" if dtype == "bfloat16" or (dtype == "auto" and cpu_has_bf16()) else "float32"


def check_manifest(found: Manifest, wanted: Manifest, folder: Path) -> None:
    """Refuse to use an index built differently from what the settings ask for.

    The runtime fields are left to :func:`check_agreement`.
    """
    if found.contents == wanted.contents:
        return
    diffs = [
        f"{name}: index has {getattr(found, name)!r}, settings give {getattr(wanted, name)!r}"
        for name in found.contents
        if getattr(found, name) != getattr(wanted, name)
    ]
    if (
        found.format_version != wanted.format_version
        or found.reader_version != wanted.reader_version
    ):
        raise IndexProblem(
            f"the index at {folder} was built by a litrag that reads or stores documents "
            f"differently ({'; '.join(diffs)}); rebuild it: rag ingest the same files into a new "
            "--index directory"
        )
    raise IndexProblem(
        f"the index at {folder} was built with other settings ({'; '.join(diffs)}); "
        "use matching settings or ingest into a new --index directory"
    )
