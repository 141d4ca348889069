"""Integration: the packaged nomic-embed-text-v1.5 GGUF under the llama.cpp runtime (real
packages, real llama.cpp, real index on disk)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from base.errors import ConfigError, IndexProblem
from base.settings import EmbeddingSettings, Settings
from rag.index.backends.local.index import Index, read_manifest
from rag.index.backends.manifest import Manifest
from rag.index.embed.embedder import load_embedder
from rag.index.embed.llamacpp import LlamaEmbedder
from rag.index.embed.packaged import NOMIC_EMBED, file_sha256, install
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import open_retriever

pytestmark = pytest.mark.integration

NOMIC = EmbeddingSettings(model="nomic-embed-text-v1.5")
PASSAGES = [
    "Metformin lowers hepatic glucose production and is the first-line drug for type 2 diabetes.",
    "BRCA1 repairs DNA double-strand breaks by homologous recombination.",
    "The Eiffel Tower was finished in 1889 for the World's Fair in Paris.",
    "Statins inhibit HMG-CoA reductase and lower LDL cholesterol.",
]
QUESTIONS = [
    "Which drug is first-line for type 2 diabetes?",
    "What repairs double strand breaks in DNA?",
    "How do statins lower cholesterol?",
]


def test_packaged_model_is_the_upstream_file() -> None:
    path = install(NOMIC_EMBED)
    assert path.stat().st_size == NOMIC_EMBED.size
    assert file_sha256(path) == NOMIC_EMBED.sha256


def test_a_hash_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    wrong = dataclasses.replace(NOMIC_EMBED, sha256="0" * 64)
    with pytest.raises(ConfigError, match="expected 274,290,560 bytes, sha256 0000"):
        install(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_runtime_embeds_with_prefixes_and_unit_vectors() -> None:
    embedder = load_embedder(NOMIC)
    assert isinstance(embedder, LlamaEmbedder)
    assert (embedder.runtime, embedder.precision, embedder.dimension) == ("llama.cpp", "f16", 768)
    documents = embedder.embed_documents(PASSAGES)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    # The runtime puts the model's prefix before each text: llama.cpp's own loop over the
    # prefixed texts (one call each, mean pooling) gives the same vectors.
    for text, mine in zip(PASSAGES[:2], documents[:2], strict=True):
        theirs = np.array(embedder.llm.embed("search_document: " + text, normalize=True))
        assert float(mine @ theirs) > 0.9999
        bare = np.array(embedder.llm.embed(text, normalize=True))
        assert float(mine @ bare) < 0.99  # the prefix changes the vector
    query = embedder.embed_query(QUESTIONS[0])[0]
    theirs = np.array(embedder.llm.embed("search_query: " + QUESTIONS[0], normalize=True))
    assert float(query @ theirs) > 0.9999


def test_relevant_passage_ranks_first_at_full_and_matryoshka_sizes() -> None:
    for dimensions in (0, 256):
        embedder = load_embedder(NOMIC.model_copy(update={"dimensions": dimensions}))
        documents = embedder.embed_documents(PASSAGES)
        queries = embedder.embed_queries(QUESTIONS)
        assert documents.shape == (4, dimensions or 768)
        np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
        assert list(np.argmax(queries @ documents.T, axis=1)) == [0, 1, 3]


def test_batches_agree_with_one_text_at_a_time() -> None:
    embedder = load_embedder(NOMIC.model_copy(update={"batch_size": 3}))
    texts = [p * (i + 1) for i, p in enumerate(PASSAGES)]  # lengths differ: sorted batches
    together = embedder.embed_documents(texts)
    alone = np.vstack([embedder.embed_documents([t]) for t in texts])
    assert float(np.min((together * alone).sum(axis=1))) > 0.9999


def test_index_records_the_gguf_and_refuses_another_embedder(tmp_path: Path) -> None:
    source = tmp_path / "docs.jsonl"
    source.write_text(
        "".join(
            json.dumps({"_id": str(i), "title": "", "text": t}) + "\n"
            for i, t in enumerate(PASSAGES)
        )
    )
    folder = tmp_path / "index"
    settings = Settings(embedding=NOMIC)
    report = ingest([source], folder, settings)
    assert report.errors == [] and report.chunks == len(PASSAGES)
    manifest = read_manifest(folder)
    assert manifest.embedding_model == "nomic-embed-text-v1.5"
    assert manifest.embedding_runtime == "llama.cpp"
    assert manifest.embedding_sha256 == NOMIC_EMBED.sha256
    assert manifest.embedding_prefixes == "search_document: |search_query: "
    hits = open_retriever(str(folder), settings).search(QUESTIONS[1], k=1, mode="dense")
    assert "BRCA1" in hits[0].chunk.text
    with pytest.raises(IndexProblem, match=r"embedding_model: index has 'nomic-embed-text-v1\.5'"):
        Index.open(folder, Settings())
    other_size = Settings(embedding=NOMIC.model_copy(update={"dimensions": 256}))
    with pytest.raises(IndexProblem, match="dimension: index has 768, settings give 256"):
        Index.open(folder, other_size)


def test_other_manifests_keep_their_fingerprint() -> None:
    manifest = Manifest.for_settings(Settings(), 384, "openvino", "int8")
    assert "embedding_sha256" not in manifest.contents
    old = {k: v for k, v in dataclasses.asdict(manifest).items()
           if k not in ("embedding_runtime", "embedding_precision", "embedding_sha256",
                        "embedding_prefixes")}  # fmt: skip
    assert manifest.contents == old
