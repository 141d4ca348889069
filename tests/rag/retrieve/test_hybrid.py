"""Retriever.retrieve over a small real index: the hits and the question's vector travel together.

The index is built here from three text files with the real embedder.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from base.settings import RetrievalSettings, Settings
from rag.index.ingest.pipeline import ingest
from rag.retrieve.hybrid import Filters, Retriever, open_retriever

DOCS = {
    "mdm2.txt": "PMID: 11111111\nTitle: MDM2 amplification and hyperprogression\n\nPatients with "
    "MDM2 amplification are vulnerable to hyperprogressive disease after immunotherapy.",
    "tme.txt": "PMID: 22222222\nTitle: The tumour microenvironment\n\nThe tumour "
    "microenvironment consists of immune cells, fibroblasts and extracellular matrix.",
    "asthma.txt": "PMID: 33333333\nTitle: Budesonide in asthma\n\nInhaled budesonide reduces "
    "asthma exacerbations in children.",
}
QUESTION = "What does the tumour microenvironment consist of?"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    src = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (src / name).write_text(text)
    folder = tmp_path_factory.mktemp("index")
    ingest([src], folder, Settings())
    retriever = open_retriever(folder, Settings())
    yield retriever
    retriever.index.close()


def test_retrieve_returns_the_hits_of_search(retriever: Retriever) -> None:
    retrieval = retriever.retrieve(QUESTION, k=3)
    assert retrieval.hits[0].chunk.pmid == "22222222"
    assert list(retrieval.hits) == retriever.search(QUESTION, k=3)


def test_retrieve_returns_the_vector_it_searched_with(retriever: Retriever) -> None:
    retrieval = retriever.retrieve(QUESTION, k=3)
    assert retrieval.query_vector is not None
    assert retrieval.query_vector.shape == (retriever.embedder.dimension,)
    assert np.allclose(retrieval.query_vector, retriever.embedder.embed_query(QUESTION)[0])
    top = retrieval.hits[0]  # the dense score is the cosine with that vector
    vector = retriever.index.store.vectors_for([top.chunk.row], retriever.embedder.dimension)
    assert float(vector[top.chunk.row] @ retrieval.query_vector) == pytest.approx(
        top.dense_score, abs=1e-2
    )


def test_sparse_search_makes_no_vector(retriever: Retriever) -> None:
    retrieval = retriever.retrieve(QUESTION, k=3, mode="sparse")
    assert retrieval.hits and retrieval.query_vector is None


def test_filters_matching_nothing_find_nothing_and_embed_nothing(retriever: Retriever) -> None:
    retrieval = retriever.retrieve(QUESTION, filters=Filters(pmids=("99",)))
    assert (retrieval.hits, retrieval.query_vector) == ((), None)


def _z(values: list[float]) -> np.ndarray:
    a = np.array(values)
    return (a - a.mean()) / a.std() if a.std() > 0 else np.zeros_like(a)


def test_score_fusion_adds_each_lists_standardized_scores(retriever: Retriever) -> None:
    """The default fusion: dense_weight z(cosine) + sparse_weight z(BM25), per document; a
    document one list did not find gets that list's lowest z-score."""
    settings = RetrievalSettings(fusion="scores", dense_weight=1.5, sparse_weight=1.0)
    hits = Retriever(retriever.index, retriever.embedder, settings).search(QUESTION, k=3)
    assert len(hits) == 3 and hits[0].chunk.pmid == "22222222"
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    sparse = [h.sparse_score for h in hits if h.sparse_score is not None]
    zd = dict(zip(dense, _z(dense), strict=True))
    zs = dict(zip(sparse, _z(sparse), strict=True))
    for h in hits:
        d = zd[h.dense_score] if h.dense_score is not None else min(zd.values())
        s = zs[h.sparse_score] if h.sparse_score is not None else min(zs.values(), default=0.0)
        assert h.score == pytest.approx(1.5 * d + s, abs=1e-9)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_rrf_fusion_is_kept(retriever: Retriever) -> None:
    settings = RetrievalSettings(fusion="rrf", rrf_k=60)
    hits = Retriever(retriever.index, retriever.embedder, settings).search(QUESTION, k=3)
    for h in hits:
        expected = sum(1 / (60 + r) for r in (h.dense_rank, h.sparse_rank) if r is not None)
        assert h.score == pytest.approx(expected)
    assert hits[0].chunk.pmid == "22222222"
