"""Scale benchmark for the FAISS index kinds (``rag.index.backends.local.dense``): build, memory,
latency, recall.

    .venv/bin/python benchmarks/scale_ann.py [--sizes 10000 100000 1000000]
        [--kinds flat hnsw ivfpq] [--threads 2] [--out FILE]

Indexes come from ``rag.index.backends.local.dense.make_index`` (its M, efConstruction/efSearch,
nlist, nprobe).
``ivfpq+refine`` (benchmark only, for the PubMed plan in docs/scale.md) wraps the IVF-PQ index in
faiss's ``IndexRefineFlat``: PQ finds ``REFINE_K_FACTOR`` x k candidates, exact vectors rerank.
Each (size, kind) runs in a fresh spawned child. Peak RSS is that child's VmHWM, reset once the
data exists, so it covers build + search: interpreter, numpy/faiss, the n x 384 float32 matrix
(held in full, as the indexer holds the embeddings; IVF-PQ trains on all of it), the index. Not
ru_maxrss: in a spawned child it includes the parent's RSS at fork. ΔRSS is what the build added
(psutil). Latency: 200 queries searched one at a time, k=10, as litrag queries, after 10 warm-ups,
with ``--threads`` OpenMP threads (default 2 = faiss's default here); the same index is timed again
with 1 thread ("1T" columns), often faster for one query. Recall@10 is against exact search (faiss
IndexFlatIP over the same vectors).

Synthetic data, fixed seed. Uniform random 384-d vectors have no cluster structure and are
unrealistically hard for ANN, so these are clustered like text embeddings: n/50 random unit
centres, each with a spread s ~ U(0.5, 1.0); a vector is centre + s·N(0, I/384) (noise norm ≈ s),
L2-normalised, so two members of a cluster have cosine ≈ 1/(1+s²) = 0.5-0.8. Measured top-1
cosines of the queries: p5 0.58, median 0.68, p95 0.81. The 200 queries are held out: drawn the
same way from the same centres, never added.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from base.errors import ConfigError  # noqa: E402
from rag.index.backends.local.dense import KINDS, make_index  # noqa: E402

DIM = 384
SEED = 20240
N_QUERIES = 200
K = 10
CHUNK = 100_000
REFINE_K_FACTOR = 8
BENCH_KINDS = [*KINDS, "ivfpq+refine"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _draw(rng: np.random.Generator, centres: np.ndarray, spread: np.ndarray, m: int) -> np.ndarray:
    labels = rng.integers(0, len(centres), size=m)
    noise = rng.standard_normal((m, DIM), dtype=np.float32) * (spread[labels, None] / DIM**0.5)
    x = centres[labels] + noise
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def synthetic(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clustered unit vectors and ``N_QUERIES`` held-out queries, deterministic in ``n``."""
    rng = np.random.default_rng([SEED, n, 0])
    centres = rng.standard_normal((max(1, n // 50), DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = rng.uniform(0.5, 1.0, size=len(centres)).astype(np.float32)
    data = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        data[start:stop] = _draw(rng, centres, spread, stop - start)
    queries = _draw(np.random.default_rng([SEED, n, 1]), centres, spread, N_QUERIES)
    return data, np.ascontiguousarray(queries)


def build(kind: str, data: np.ndarray) -> faiss.Index:
    """The index litrag would build, filled in chunks so progress shows for slow kinds."""
    n = len(data)
    t0 = time.perf_counter()
    refine = kind == "ivfpq+refine"
    index = make_index("ivfpq" if refine else kind, DIM, train=data if "ivfpq" in kind else None)
    if "ivfpq" in kind:
        log(f"  {kind} {n:,}: trained in {time.perf_counter() - t0:.0f} s")
    if refine:  # ids are the row numbers here, which IndexRefineFlat's plain add() gives
        index = faiss.IndexRefineFlat(index)
        index.k_factor = REFINE_K_FACTOR
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        if refine:
            index.add(data[start:stop])
        else:
            index.add_with_ids(data[start:stop], np.arange(start, stop, dtype=np.int64))
        if n > CHUNK:
            log(f"  {kind} {n:,}: added {stop:,} ({time.perf_counter() - t0:.0f} s)")
    return index


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def latency(index: faiss.Index, queries: np.ndarray, threads: int) -> tuple[float, float, list]:
    """p50 / p95 ms of one-at-a-time k=10 searches with ``threads`` OpenMP threads, and the ids."""
    faiss.omp_set_num_threads(threads)
    for q in queries[:10]:  # warm-up
        index.search(q[None], K)
    times, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, i = index.search(q[None], K)
        times.append((time.perf_counter() - t) * 1000)
        ids.append(i[0].tolist())
    p50, p95 = (round(float(np.percentile(times, p)), 3) for p in (50, 95))
    return p50, p95, ids


def measure(n: int, kind: str, threads: int) -> dict:
    """Runs in a spawned child: build, time single queries, return the row and the result ids."""
    faiss.omp_set_num_threads(threads)
    data, queries = synthetic(n)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: leave out generation temporaries
    rss_before = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    index = build(kind, data)
    build_s = time.perf_counter() - t0
    rss_delta = psutil.Process().memory_info().rss - rss_before
    p50, p95, ids = latency(index, queries, threads)
    p50_1t, p95_1t, _ = latency(index, queries, 1)  # for comparison: often faster for nq=1
    peak = peak_rss_mb()  # before serialize_index, which copies the whole index
    return {
        "size": n,
        "kind": kind,
        "threads": threads,
        "build_s": round(build_s, 2),
        "index_mb": round(faiss.serialize_index(index).nbytes / 2**20, 1),
        "peak_rss_mb": round(peak, 1),
        "build_rss_delta_mb": round(rss_delta / 2**20, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "p50_1t_ms": p50_1t,
        "p95_1t_ms": p95_1t,
        "ids": ids,
    }


def exact_neighbours(n: int) -> np.ndarray:
    """Exact top-k ids for the queries (faiss IndexFlatIP); logs the neighbour cosines."""
    data, queries = synthetic(n)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    sims, ids = flat.search(queries, K)
    p = [5, 50, 95]
    top1, top10 = np.percentile(sims[:, 0], p), np.percentile(sims[:, -1], p)
    log(f"data n={n:,}: top-1 cosine p5/p50/p95 {top1.round(3)}, 10th {top10.round(3)}")
    return ids


def recall(found: list[list[int]], exact: np.ndarray) -> float:
    hits = [len(set(f) & set(e.tolist())) for f, e in zip(found, exact, strict=True)]
    return sum(hits) / (K * len(hits))


def table(rows: list[dict]) -> str:
    cols = ["size", "kind", "build s", "index MB", "peak RSS MB", "ΔRSS MB"]
    cols += ["p50 ms", "p95 ms", "p50 ms 1T", "p95 ms 1T", "recall@10"]
    keys = ["size", "kind", "build_s", "index_mb", "peak_rss_mb", "build_rss_delta_mb"]
    keys += ["p50_ms", "p95_ms", "p50_1t_ms", "p95_1t_ms", "recall_at_10"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{r[k]:,}" if k == "size" else str(r[k]) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--kinds", nargs="+", choices=BENCH_KINDS, default=list(KINDS))
    ap.add_argument("--threads", type=int, default=2, help="faiss OpenMP threads (default 2)")
    ap.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    ctx = mp.get_context("spawn")
    rows = []
    t_start = time.perf_counter()
    for n in args.sizes:
        exact = exact_neighbours(n)
        for kind in args.kinds:
            log(f"building {kind} over {n:,} vectors ({args.threads} threads)")
            try:
                with ctx.Pool(1) as pool:
                    row = pool.apply(measure, (n, kind, args.threads))
            except ConfigError as e:  # ivfpq below MIN_PQ_TRAIN vectors
                log(f"  skipped: {e}")
                continue
            row["recall_at_10"] = round(recall(row.pop("ids"), exact), 4)
            log(f"  done: {json.dumps(row)} (load avg {os.getloadavg()[0]:.1f})")
            rows.append(row)
    log(f"total {time.perf_counter() - t_start:.0f} s")
    print(f"faiss {faiss.__version__}, k={K}, {N_QUERIES} queries one at a time; build and p50/p95")
    print(f"with {args.threads} OpenMP threads, the 1T columns with 1 thread on the same index\n")
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
