"""Ingest on Ray Data: files read and chunked in Ray tasks, embedded by an actor pool, written
by this process (the driver) in batches.

    rag ingest PATH... --index INDEX --ray [--ray-address ADDRESS]

Without an address, a local Ray instance is started on 2 CPUs (``ray.init(num_cpus=2)``) and
stopped at the end; with one, the cluster there does the work, and litrag (with the embedding
model) must be installed on its nodes. Each embedding actor loads the model once. The driver
writes, since an index allows one writer (a local directory's lock; milvus-lite's file).

The driver merges each batch of records with the index and with the batches before it
(:mod:`rag.index.ingest.merging`), as plain ingest does, so both store the same documents and
passages.
A record that merging changed (it met another record of its paper) is cut again here, and any
of its passages not embedded yet is embedded here.

Rows travel as JSON text and float16 bytes in Ray's in-memory object store; spilling to disk
is turned off for the local instance (nothing is pickled to disk). Ray is imported only here.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from base.errors import ReadError
from base.settings import ChunkingSettings, CorpusSettings, EmbeddingSettings, Settings
from corpus import iter_files, read
from corpus.model import Document, document_from_dict, document_to_dict
from rag.index.backends import open_index, write_lock
from rag.index.backends.writes import Batch
from rag.index.chunking import Chunk, Chunker
from rag.index.embed.embedder import Embedder, default_model_path, load_embedder
from rag.index.ingest.merging import Merger, Sorted, Writable
from rag.index.ingest.pipeline import (
    IngestReport,
    Progress,
    embed_passages,
    make_chunker,
    release_memory,
)

LOCAL_CPUS = 2
EMBED_BATCH = 64  # documents per actor call
ROOT = Path(__file__).resolve().parents[2]


def ingest_ray(
    paths: Sequence[Path],
    uri: str | Path,
    settings: Settings,
    address: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Add the documents under ``paths`` to the index ``uri`` names, the work done on Ray.

    The driver is the one writer (milvus-lite allows no other); a local directory is locked.
    """
    import ray

    started = time.perf_counter()
    embedder = load_embedder(settings.embedding)  # the dimension, and passages merging changed
    lock = write_lock(uri)
    own = start_ray(address)
    try:
        index = open_index(uri, settings, dimension=embedder.dimension)
        try:
            report = write_all(index, rows(paths, settings), settings, embedder, progress)
        finally:
            index.close()
    finally:
        lock.release()
        if own:
            ray.shutdown()
    report.seconds = time.perf_counter() - started
    return report


def start_ray(address: str | None) -> bool:
    """Connect to Ray at ``address``, or start a local instance; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False)
        return True
    # Workers of a local instance inherit this environment: this checkout comes first on their
    # path, as it does here (an editable install elsewhere would otherwise win).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    ray.init(
        num_cpus=LOCAL_CPUS,
        include_dashboard=False,
        log_to_driver=False,
        _system_config={"automatic_object_spilling_enabled": False},
    )
    return True


def rows(paths: Sequence[Path], settings: Settings) -> Iterator[dict[str, Any]]:
    """Rows of (path, record, chunks, vectors, error), in reading order, computed on Ray."""
    import ray
    import ray.data

    ray.data.DataContext.get_current().execution_options.preserve_order = True  # as plain ingest
    ray.data.DataContext.get_current().enable_progress_bars = False
    files = [{"path": str(p)} for p in iter_files(paths)]
    if not files:
        return
    cpus = int(ray.cluster_resources().get("CPU", LOCAL_CPUS))  # type: ignore[no-untyped-call]
    kwargs = {"corpus": settings.corpus, "chunking": settings.chunking}
    dataset = (
        ray.data.from_items(files, override_num_blocks=len(files))
        .flat_map(
            read_and_chunk,  # type: ignore[arg-type]  # fn_kwargs fill the other arguments
            fn_kwargs={**kwargs, "embedding": settings.embedding},
            num_cpus=0.1,
        )
        .map_batches(
            EmbedActor,
            fn_constructor_kwargs={"settings": settings.embedding},
            batch_size=EMBED_BATCH,
            batch_format="numpy",
            concurrency=(1, max(1, cpus)),  # a second actor only when there is a backlog
            num_cpus=0.9,  # one per CPU, leaving a little for the reading tasks
        )
    )
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        columns = list(batch)
        for i in range(len(batch["path"])):
            yield {name: batch[name][i] for name in columns}


def read_and_chunk(
    row: dict[str, Any],
    corpus: CorpusSettings,
    chunking: ChunkingSettings,
    embedding: EmbeddingSettings,
) -> Iterator[dict[str, Any]]:
    """A Ray task: the records of one file, each with its chunks, then its error if any."""
    path = Path(row["path"])
    chunker = _chunker(chunking, embedding)
    try:
        docs = read(path, corpus)
        while group := list(itertools.islice(docs, EMBED_BATCH)):  # counted in one call each
            for doc, chunks in zip(group, chunker.chunk_many(group), strict=True):
                record = json.dumps(document_to_dict(doc))
                cut = json.dumps([dataclasses.asdict(c) for c in chunks])
                yield {"path": str(path), "record": record, "chunks": cut, "error": ""}
    except ReadError as exc:
        yield {"path": str(path), "record": "", "chunks": "[]", "error": exc.reason}


@functools.cache
def _chunker(chunking: ChunkingSettings, embedding: EmbeddingSettings) -> Chunker:
    """A chunker counting with the embedding model's tokenizer, loaded once per worker (the
    same files sentence-transformers loads its tokenizer from; the model is not loaded)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(embedding.model or str(default_model_path()))

    def count_batch(texts: list[str]) -> list[int]:
        encoded = tokenizer(texts, add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    return Chunker(chunking, lambda text: count_batch([text])[0], count_batch)


class EmbedActor:
    """A Ray actor: loads the embedding model once, then embeds batches of rows' passages."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.embedder = load_embedder(settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cut = [[Chunk(**c) for c in json.loads(text)] for text in batch["chunks"]]
        vectors = embed_passages(self.embedder, [c.embed_text for cs in cut for c in cs])
        release_memory()
        ends = np.cumsum([len(cs) for cs in cut])
        blocks = np.split(vectors.astype(np.float16), ends[:-1]) if len(cut) else []
        return {**batch, "vectors": np.array([b.tobytes() for b in blocks], dtype=object)}


def write_all(
    index: Writable,
    items: Iterator[dict[str, Any]],
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None,
) -> IngestReport:
    """Merge, then write the rows in batches of ``BATCH_DOCUMENTS``; finish the index."""
    from rag.index.ingest import pipeline as plain  # its BATCH_DOCUMENTS, read when called

    errors: list[ReadError] = []
    merger = Merger(index, threading.Lock())  # one thread here: never contended
    chunker = make_chunker(settings, embedder)
    done, number, pending = 0, 0, []
    for row in itertools.chain(items, [None]):  # None: the end, write what is left
        if row is not None and row["error"]:
            errors.append(ReadError(Path(row["path"]), str(row["error"])))
        elif row is not None:
            pending.append(row)
        if pending and (row is None or len(pending) >= plain.BATCH_DOCUMENTS):
            index.write(_batch(pending, merger, number, chunker, embedder))
            merger.written(number)
            done, number, pending = done + len(pending), number + 1, []
            if progress:
                progress(done, done)
    index.finish()
    documents, chunks, skipped = merger.tally()
    return IngestReport(documents, chunks, skipped, errors)


def _batch(
    found: list[dict[str, Any]], merger: Merger, number: int, chunker: Chunker, embedder: Embedder
) -> Batch:
    """Sort rows into writes; reuse the chunks and vectors of records merging left as read."""
    records = [document_from_dict(json.loads(r["record"])) for r in found]
    cut = [[Chunk(**c) for c in json.loads(r["chunks"])] for r in found]
    dim = embedder.dimension
    vectors = [np.frombuffer(r["vectors"], np.float16).reshape(-1, dim) for r in found]
    job: Sorted = merger.sort(records, number)
    as_read = {id(doc): i for i, doc in enumerate(records)}
    known = {
        c.embed_text: v
        for cs, vs in zip(cut, vectors, strict=True)
        for c, v in zip(cs, vs, strict=True)
    }
    chunks: list[tuple[Chunk, ...]] = []
    for doc in job.documents:
        i = _same(doc, records, as_read)
        chunks.append(tuple(cut[i]) if i is not None else tuple(chunker.chunk_many([doc])[0]))
        merger.outcomes[doc.id] = len(chunks[-1])
    texts = [c.embed_text for cs in chunks for c in cs]
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        known.update(zip(missing, embed_passages(embedder, missing), strict=True))
    stacked = np.array([known[t] for t in texts], np.float32).reshape(len(texts), dim)
    return Batch(job.relabel, job.replace, job.documents, tuple(chunks), stacked)


def _same(doc: Document, records: list[Document], as_read: dict[int, int]) -> int | None:
    """The position of ``doc`` among the records when merging left it exactly as read."""
    if id(doc) in as_read:
        return as_read[id(doc)]
    return next((i for i, r in enumerate(records) if r == doc), None)
