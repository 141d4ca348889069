"""Retriever.retrieve over a small real index: the hits and the question's vector travel together.

The index is built here from three text files with the real embedder.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from base.settings import Settings
from rag.index.ingest import ingest
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
