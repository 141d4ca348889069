"""BM25 over chunk texts with bm25s (English stop words, Snowball stemmer), saved without pickle.

bm25s numbers its documents 0..n-1; ``rows`` maps those positions to chunk rows. The saved folder
is stamped with the store generation it was built from (``state.json``, written last).

:meth:`Sparse.build_blocks` builds the same index as ``bm25s.BM25().index`` (same scores, in
bm25s's own files) from texts read block by block, holding only the score matrix: bm25s's own
``index`` wants every text and every token id as Python objects at once, which took ~1.5 GB at
the 419k passages of a 1 GB PubMed file (measured 2026-11-22, bm25s 0.3.16).
"""

from __future__ import annotations

import functools
import json
import math
import shutil
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np
import scipy.sparse as sp
import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str], as_ids: bool) -> bm25s.tokenization.Tokenized | list[list[str]]:
    """bm25s tokens: lower case, English stop words removed, Snowball-stemmed."""
    return bm25s.tokenize(
        texts, stopwords="en", stemmer=_STEMMER, return_ids=as_ids, show_progress=False
    )


class Sparse:
    """A BM25 index of chunk rows."""

    def __init__(self, model: bm25s.BM25, rows: np.ndarray) -> None:
        self.model = model
        self.rows = rows

    @functools.cached_property
    def _position(self) -> dict[int, int]:
        """Chunk row -> bm25s position, for filters (made on first use: a writer never needs
        it, and at 419k rows it is ~50 MB)."""
        return {int(r): i for i, r in enumerate(self.rows)}

    @classmethod
    def build(cls, rows: np.ndarray, texts: list[str]) -> Sparse:
        """Index ``texts`` (one per chunk row)."""
        return cls.build_blocks([(rows, texts)])

    @classmethod
    def build_blocks(cls, blocks: Iterable[tuple[np.ndarray, list[str]]]) -> Sparse:
        """Index the texts of ``blocks`` of (chunk rows, texts), read one block at a time."""
        counts = _Counts()
        row_blocks = []
        for rows, texts in blocks:
            counts.add(texts)
            row_blocks.append(np.asarray(rows, dtype=np.int64))
        rows = np.concatenate(row_blocks) if row_blocks else np.zeros(0, np.int64)
        model = bm25s.BM25()
        if len(rows):
            counts.score_into(model)
        return cls(model, rows)

    def save(self, folder: Path, generation: int) -> None:
        """Write to ``folder``; the stamp goes last, so a torn write is seen as stale."""
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if len(self.rows):
            self.model.save(str(folder))
        np.save(folder / "rows.npy", self.rows, allow_pickle=False)
        (folder / "state.json").write_text(json.dumps({"generation": generation}))

    @classmethod
    def load(cls, folder: Path, generation: int) -> Sparse | None:
        """The saved index if it was built from store ``generation``, else None."""
        try:
            state = json.loads((folder / "state.json").read_text())
            if state.get("generation") != generation:
                return None
            rows = np.load(folder / "rows.npy", allow_pickle=False)
            model = bm25s.BM25.load(str(folder), mmap=False) if len(rows) else bm25s.BM25()
        except (OSError, ValueError):
            return None
        return cls(model, rows)

    def search(
        self, query: str, n: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``n`` (chunk row, BM25 score) pairs with a positive score, best first.

        ``allowed`` (chunk rows) restricts the search, for filters. Ranking only the non-zero
        scores matters: bm25s' own top-k runs ``argpartition`` over every document, and with
        ~95% zero scores that took 13 ms per query at 100k chunks here (numpy 2.4, 2026-11),
        against well under 1 ms for the few thousand non-zero ones.
        """
        terms = tokenize([query], as_ids=False)[0]
        if not len(self.rows) or not terms:
            return []  # bm25s (0.3) raises IndexError on a query of only stop words ("x y z")
        scores = self.model.get_scores(terms)
        if allowed is not None:
            mask = np.zeros(len(self.rows), dtype=bool)
            mask[[self._position[int(r)] for r in allowed if int(r) in self._position]] = True
            scores = np.where(mask, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > n:
            hits = hits[np.argpartition(-scores[hits], n - 1)[:n]]
        order = hits[np.argsort(-scores[hits], kind="stable")]
        return [(int(self.rows[p]), float(scores[p])) for p in order]


class _Counts:
    """Term counts of passages added block by block, as one CSR matrix (passage x term), and
    the vocabulary; :meth:`score_into` turns them into a bm25s model's score matrix.

    The scores are bm25s 0.3.16's own (``scoring._build_scores_and_indices_for_matrix``, method
    "lucene"), computed in the same precision, so both builds give equal scores
    (tests/rag/index/backends/local/test_sparse.py checks it on real passages).
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.terms: list[np.ndarray] = []  # per block: the term ids of each passage, in order
        self.tfs: list[np.ndarray] = []  # the count of each (passage, term)
        self.distinct: list[np.ndarray] = []  # per passage: how many distinct terms
        self.lengths: list[np.ndarray] = []  # per passage: how many tokens

    def add(self, texts: list[str]) -> None:
        """Count the terms of ``texts`` (the next passages)."""
        if not texts:
            return
        found = tokenize(texts, as_ids=True)
        assert isinstance(found, bm25s.tokenization.Tokenized)
        local = sorted(found.vocab.items(), key=lambda item: item[1])
        to_global = np.array(
            [self.vocab.setdefault(token, len(self.vocab)) for token, _ in local], np.int64
        )
        lengths = np.fromiter((len(ids) for ids in found.ids), np.int64, len(found.ids))
        flat = np.fromiter(
            (i for ids in found.ids for i in ids), np.int64, int(lengths.sum())
        )  # token ids of all passages, one after the other
        passage = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, tf = np.unique((passage << 32) | to_global[flat], return_counts=True)
        self.terms.append((keys & 0xFFFFFFFF).astype(np.int32))
        self.tfs.append(tf.astype(np.float32))
        self.distinct.append(np.bincount(keys >> 32, minlength=len(texts)))
        self.lengths.append(lengths)

    def score_into(self, model: bm25s.BM25) -> None:
        """Give ``model`` the BM25 scores and vocabulary of the passages counted."""
        lengths = np.concatenate(self.lengths)
        indptr = np.concatenate([[0], np.cumsum(np.concatenate(self.distinct))])
        terms = _concatenate(self.terms)
        data = _concatenate(self.tfs)
        n_docs, n_vocab = len(lengths), len(self.vocab) + ("" not in self.vocab)
        df = np.bincount(terms, minlength=n_vocab)
        idf = np.array(
            [math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()],
            dtype=model.dtype,
        )  # bm25s: math.log per term into a float32 array
        average = lengths.mean()  # bm25s: np.array(lengths).mean()
        step = 1 << 20  # in slices, so the float64 temporaries stay ~50 MB
        for start in range(0, len(data), step):
            part = slice(start, start + step)
            at = np.arange(start, min(start + step, len(data)))
            l_d = lengths[np.searchsorted(indptr, at, side="right") - 1].astype(np.float64)
            tf = data[part].astype(np.float64)
            tfc = tf / (model.k1 * ((1 - model.b) + model.b * l_d / average) + tf)
            data[part] = idf[terms[part]] * tfc
        matrix = sp.csr_matrix((data, terms, indptr), shape=(n_docs, n_vocab), copy=False)
        del data, terms
        csc = matrix.tocsc()
        del matrix
        vocab = {**self.vocab, "": self.vocab.get("", len(self.vocab))}
        model.scores = {
            "data": csc.data, "indices": csc.indices, "indptr": csc.indptr, "num_docs": n_docs,
        }  # fmt: skip
        model.vocab_dict = vocab
        model.unique_token_ids_set = set(vocab.values())
        model.nonoccurrence_array = None


def _concatenate(parts: list[np.ndarray]) -> np.ndarray:
    """One array of ``parts``, freeing each part as it is copied (never two copies of all)."""
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype)
    at = 0
    while parts:
        part = parts.pop(0)
        out[at : at + len(part)] = part
        at += len(part)
    return out
