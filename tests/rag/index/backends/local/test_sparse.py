from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag.index.backends.local.sparse import Sparse, tokenize

TEXTS = [
    "MDM2 amplification and hyperprogressive disease under checkpoint inhibitors",
    "Budesonide-formoterol as needed in mild asthma",
    "The tumor microenvironment consists of stromal and immune cells",
]
ROWS = np.array([10, 20, 30], dtype=np.int64)


@pytest.fixture
def sparse() -> Sparse:
    return Sparse.build(ROWS, TEXTS)


def test_scores_agree_with_bm25s_directly(sparse: Sparse) -> None:
    reference = bm25s.BM25()
    reference.index(tokenize(TEXTS, as_ids=True), show_progress=False)
    _docs, scores = reference.retrieve(tokenize(["asthma budesonide"], as_ids=False), k=1)
    assert sparse.search("asthma budesonide", 1) == [(20, pytest.approx(float(scores[0][0])))]


def test_stemming_matches_word_forms(sparse: Sparse) -> None:
    assert sparse.search("amplified tumors", 3)[0][0] in (10, 30)


def test_zero_score_hits_are_dropped(sparse: Sparse) -> None:
    assert sparse.search("zebrafish", 3) == []


def test_allowed_rows_filter(sparse: Sparse) -> None:
    assert [r for r, _ in sparse.search("asthma tumor", 3, np.array([30]))] == [30]


def test_save_load_round_trip(sparse: Sparse, tmp_path: Path) -> None:
    sparse.save(tmp_path / "bm25", generation=4)
    loaded = Sparse.load(tmp_path / "bm25", generation=4)
    assert loaded is not None and loaded.search("asthma", 3) == sparse.search("asthma", 3)


def test_stale_stamp_is_not_loaded(sparse: Sparse, tmp_path: Path) -> None:
    sparse.save(tmp_path / "bm25", generation=4)
    assert Sparse.load(tmp_path / "bm25", generation=5) is None


def test_no_pickle_in_the_saved_files(sparse: Sparse, tmp_path: Path) -> None:
    sparse.save(tmp_path / "bm25", generation=1)
    for path in (tmp_path / "bm25").glob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if an array needed pickle


def test_query_of_only_stop_words_finds_nothing(sparse: Sparse) -> None:
    assert sparse.search("x y z the of", 5) == []


def test_block_build_scores_equal_bm25s_own_build(shared: Path) -> None:
    """Built 97 passages at a time, BM25 scores every passage exactly as bm25s's one-shot
    ``index`` does (1,000 PubMedQA abstracts, plus an empty passage and one of stop words)."""
    lines = (shared / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines] + ["", "the of and"]
    rows = np.arange(len(texts), dtype=np.int64) * 3
    reference = bm25s.BM25()
    reference.index(tokenize(texts, as_ids=True), show_progress=False)
    blocks = [(rows[i : i + 97], texts[i : i + 97]) for i in range(0, len(texts), 97)]
    built = Sparse.build_blocks(blocks)
    assert np.array_equal(built.rows, rows)
    for query in ("asthma budesonide", "programmed cell death mitochondria", "zebrafish"):
        terms = tokenize([query], as_ids=False)[0]
        assert np.array_equal(built.model.get_scores(terms), reference.get_scores(terms)), query
