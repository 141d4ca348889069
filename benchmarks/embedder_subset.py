"""A GGUF embedder against the index's own on BioASQ, over the gold papers of the first questions.

    .venv/bin/rag ingest ../shared/corpus/bioasq --index /tmp/bioasq
    for i in 0 1 2 3; do .venv/bin/python benchmarks/embedder_subset.py --index /tmp/bioasq \\
        --cache /tmp/nomic --embed-part $i --parts 3 & done; wait   # part 3: the questions
    .venv/bin/python benchmarks/embedder_subset.py --index /tmp/bioasq --cache /tmp/nomic

Building a whole index with a large embedder takes hours on a busy 2-core machine, so this
compares the two embedders on a smaller corpus made the way ../shared/corpus/bioasq is made (the
gold papers of a set of questions): questions are taken validation and training alternately
(``tune.data.is_validation``, each side in a fixed hash order), and each adds its gold passages
(the index's own chunk texts) to the plan. ``--embed-part I --parts P`` embeds every P-th batch
of planned passages with the GGUF model (P itself: the questions), saving as it goes, so parts
run side by side and can be stopped at any time. Without it, the longest prefix of questions
whose passages and question are all embedded is scored: dense, BM25 and the hybrid search's own
fusion (Retriever._fuse) over exactly those passages for both embedders, with the fusion's dense
weight and candidate depth chosen on the training questions and reported on validation ones.
BM25's statistics are the whole index's (the same for both embedders).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.settings import EmbeddingSettings, load_settings  # noqa: E402
from eval.gold import GoldQuestion, load_bioasq  # noqa: E402
from eval.metrics import mean, mrr_at_k, recall_at_k  # noqa: E402
from rag.index.backends.local.index import Index  # noqa: E402
from rag.index.embed.embedder import load_embedder  # noqa: E402
from rag.retrieve.hybrid import Retriever  # noqa: E402
from tune.data import is_validation  # noqa: E402

GOLD = ROOT.parent / "shared/gold/bioasq"
Lists = tuple[list[tuple[int, float]], list[tuple[int, float]]]  # dense, sparse (row, score)


def plan(index: Index, fraction: float) -> list[tuple[GoldQuestion, list[int]]]:
    """Questions, validation and training alternately, each with its gold rows not yet listed."""
    questions = list(load_bioasq(GOLD))
    key = lambda q: hashlib.sha256(q.id.encode()).hexdigest()  # noqa: E731
    held = sorted((q for q in questions if is_validation(q.id, fraction)), key=key)
    train = sorted((q for q in questions if not is_validation(q.id, fraction)), key=key)
    rows_of: dict[str, list[int]] = {}
    for row, doc in index.store.db.execute("SELECT row, doc_id FROM chunks ORDER BY row"):
        rows_of.setdefault(doc, []).append(row)
    seen: set[int] = set()
    out = []
    for q in itertools.chain.from_iterable(itertools.zip_longest(held, train)):
        if q is None:
            continue
        mine = [r for g in q.gold_ids for r in rows_of.get(g, []) if r not in seen]
        seen.update(mine)
        out.append((q, mine))
    return out


def save(cache: Path, name: str, ids: list[int] | list[str], vectors: list[np.ndarray]) -> None:
    """Write ``name``'s vectors and ids so that a reader sees whole files."""
    for suffix, data in (("", np.vstack(vectors)), ("_ids", np.array(ids))):
        tmp = cache / f".{name}{suffix}.npy"
        np.save(tmp, data)
        os.replace(tmp, cache / f"{name}{suffix}.npy")


def embed_part(
    args: argparse.Namespace, index: Index, planned: list[tuple[GoldQuestion, list[int]]]
) -> None:
    """Embed this part's share of the plan (the questions when ``part == parts``)."""
    settings = EmbeddingSettings(model=args.model, threads=args.threads)
    embedder = load_embedder(settings)
    args.cache.mkdir(parents=True, exist_ok=True)
    start, vectors = time.perf_counter(), []
    if args.embed_part == args.parts:
        qs = [q for q, _ in planned]
        done: list[str] = []
        for i in range(0, len(qs), 16):
            vectors.append(embedder.embed_queries([q.question for q in qs[i : i + 16]]))
            done += [q.id for q in qs[i : i + 16]]
            save(args.cache, "queries", done, vectors)
            print(f"questions {len(done)}: {len(done) / (time.perf_counter() - start):.2f}/s, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        return
    rows = [r for _, mine in planned for r in mine]
    finished: list[int] = []
    name = f"vec{args.embed_part}"
    if (args.cache / f"{name}_ids.npy").is_file():  # a part stopped earlier goes on from there
        finished = np.load(args.cache / f"{name}_ids.npy").tolist()
        vectors = [np.load(args.cache / f"{name}.npy")]
    resumed = len(finished)
    text = dict(index.store.db.execute("SELECT row, embed_text FROM chunks").fetchall())
    mine = [rows[i : i + 32] for i in range(0, len(rows), 32)][args.embed_part :: args.parts]
    for batch in mine[-(-len(finished) // 32) :] if finished else mine:
        vectors.append(embedder.embed_for_index([text[r] for r in batch]))
        finished += batch
        save(args.cache, name, finished, vectors)
        print(f"part {args.embed_part}: {len(finished)} passages, "
              f"{(len(finished) - resumed) / (time.perf_counter() - start):.2f}/s, load "
              f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


def cached(cache: Path) -> tuple[dict[int, np.ndarray], dict[str, np.ndarray]]:
    """Passage vectors by row and question vectors by id, as far as the parts got."""
    passages: dict[int, np.ndarray] = {}
    for path in sorted(cache.glob("vec*_ids.npy")):
        vectors = np.load(path.with_name(path.name.replace("_ids", "")))
        passages.update(zip(np.load(path).tolist(), vectors, strict=False))
    queries: dict[str, np.ndarray] = {}
    if (cache / "queries_ids.npy").is_file():
        ids = np.load(cache / "queries_ids.npy").tolist()
        queries = dict(zip(ids, np.load(cache / "queries.npy"), strict=False))
    return passages, queries


def rankings(
    index: Index, questions: list[GoldQuestion], rows: np.ndarray, matrix: np.ndarray,
    queries: np.ndarray, depth: int,
) -> list[Lists]:  # fmt: skip
    """Each question's dense list over ``rows`` (inner product) and BM25 list over them."""
    out = []
    for q, vector in zip(questions, queries, strict=True):
        scores = matrix @ vector
        top = np.argsort(-scores)[:depth]
        dense = [(int(rows[i]), float(scores[i])) for i in top]
        out.append((dense, index.sparse.search(q.question, depth, rows)))
    return out


def score(
    retriever: Retriever, lists: list[Lists], questions: list[GoldQuestion],
    doc_of: dict[int, str], fusion: tuple[float, float, int],
) -> tuple[float, float]:  # fmt: skip
    """recall@10 and MRR@10 with (dense weight, sparse weight, candidates) under score fusion."""
    wd, ws, depth = fusion
    settings = retriever.settings.model_copy(
        update={"fusion": "scores", "dense_weight": wd, "sparse_weight": ws}
    )
    fuser = Retriever(retriever.index, retriever.embedder, settings)
    recalls, mrrs = [], []
    for (dense, sparse), q in zip(lists, questions, strict=True):
        found = fuser._documents(dense[:depth] if wd else [], sparse[:depth] if ws else [], doc_of)
        fused = fuser._fuse(found)
        ranked = sorted(fused, key=lambda d: -fused[d])[:10]
        recalls.append(recall_at_k(ranked, set(q.gold_ids), 10))
        mrrs.append(mrr_at_k(ranked, set(q.gold_ids), 10))
    return mean(recalls), mean(mrrs)


def evaluate(
    args: argparse.Namespace, index: Index, planned: list[tuple[GoldQuestion, list[int]]]
) -> None:
    """Score both embedders over the longest fully embedded prefix of the plan."""
    passages, queries = cached(args.cache)
    covered = list(itertools.takewhile(
        lambda p: p[0].id in queries and all(r in passages for r in p[1]), planned))  # fmt: skip
    questions = [q for q, _ in covered]
    rows = np.array([r for _, mine in covered for r in mine], dtype=np.int64)
    doc_of = index.store.doc_ids(rows.tolist())
    train = [
        i for i, q in enumerate(questions) if not is_validation(q.id, args.validation_fraction)
    ]
    held = [i for i, q in enumerate(questions) if is_validation(q.id, args.validation_fraction)]
    print(f"{len(questions)} questions ({len(train)} training, {len(held)} validation) over their "
          f"{len(rows)} gold passages; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    minilm = load_embedder(load_settings().embedding)
    stored = index.store.vectors_for(rows.tolist(), index.manifest.dimension)
    spaces = {
        f"{index.manifest.embedding_model}": (
            np.vstack([stored[int(r)] for r in rows]),
            minilm.embed_queries([q.question for q in questions]),
        ),
        args.model: (np.vstack([passages[int(r)] for r in rows]),
                     np.vstack([queries[q.id] for q in questions])),
    }  # fmt: skip
    retriever = Retriever(index, minilm, load_settings().retrieval)
    print("| embedder | run (dense w, BM25 w, candidates) | train recall@10 | validation "
          "recall@10 | validation MRR@10 |\n| --- | --- | --- | --- | --- |")  # fmt: skip
    grid = list(itertools.product((0.5, 0.75, 1.0, 1.5, 2.0, 3.0), (1.0,), (20, 50, 100)))
    for name, (matrix, vectors) in spaces.items():
        lists = rankings(index, questions, rows, matrix, vectors, 100)

        def on(
            ids: list[int], fusion: tuple[float, float, int], lists: list[Lists] = lists
        ) -> tuple[float, float]:
            return score(retriever, [lists[i] for i in ids], [questions[i] for i in ids],
                         doc_of, fusion)  # fmt: skip

        best = max(grid, key=lambda g: on(train, g)[0])
        runs = [("dense", (1.0, 0.0, 100)), ("BM25", (0.0, 1.0, 100)),
                ("hybrid, defaults", (1.0, 1.0, 100)), ("hybrid, best on train", best)]  # fmt: skip
        for label, g in runs:
            r_train, _ = on(train, g)
            r_held, m_held = on(held, g)
            print(f"| {name} | {label} {g} | {r_train:.3f} | {r_held:.3f} | {m_held:.3f} |",
                  flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an index of BioASQ papers")
    parser.add_argument("--cache", type=Path, required=True, help="folder of the GGUF vectors")
    parser.add_argument("--model", default="nomic-embed-text-v1.5")
    parser.add_argument("--threads", type=int, default=1, help="per part")
    parser.add_argument("--embed-part", type=int, default=-1)
    parser.add_argument("--parts", type=int, default=3)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    args = parser.parse_args()
    index = Index.open(args.index, load_settings())
    planned = plan(index, args.validation_fraction)
    if args.embed_part >= 0:
        embed_part(args, index, planned)
    else:
        evaluate(args, index, planned)


if __name__ == "__main__":
    main()
