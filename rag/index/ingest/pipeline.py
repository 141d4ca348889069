"""Files -> index: read, chunk, embed, store, index, persist, streaming in bounded batches.

Three threads, each at most :data:`AHEAD` batch ahead of the next, so memory stays bounded
however large the files (a 1 GB PubMed file is never in memory at once, see
``benchmarks/ingest_memory.py``) and the embedding model never waits:

    reading thread    read records, merge them with the index (rag.index.ingest.merging), chunk them
    embedding thread  embed the passages of one batch after another
    calling thread    write each embedded batch to the index in one transaction, report progress

Each batch is committed in one transaction, so a run killed at any moment leaves the last
committed batch loadable; re-running the same command skips what is stored (same content hash)
and finishes the rest, without duplicates. A document that is the same paper as a stored one,
or as one read earlier in the run (same id, PMID, PMCID or DOI), is merged with it and replaces
it if that changes it.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from base.errors import ReadError
from base.settings import Settings
from corpus import read_stream
from corpus.model import Document
from rag.index.backends import open_index, write_lock
from rag.index.backends.storage import STORAGE_ERRORS, problem
from rag.index.backends.writes import Batch
from rag.index.chunking import Chunk, Chunker
from rag.index.embed.embedder import Embedder, is_loaded, load_embedder, unload_embedder
from rag.index.ingest.merging import Merger, Sorted, Writable

BATCH_DOCUMENTS = 128
AHEAD = 1  # batches a stage may run ahead of the next: bounds memory to a few batches
Progress = Callable[[int, int], None]  # (documents done, documents in all)


@dataclass
class IngestReport:
    """What one ``rag ingest`` did."""

    documents: int = 0  # added or replaced
    chunks: int = 0
    skipped: int = 0  # already stored, unchanged
    errors: list[ReadError] = field(default_factory=list)
    seconds: float = 0.0


def ingest(
    paths: Sequence[Path], uri: str | Path, settings: Settings, progress: Progress | None = None
) -> IngestReport:
    """Add the documents under ``paths`` to the index ``uri`` names (created if missing).

    ``uri`` is a directory (locked while this process writes it) or a Milvus URI
    (:func:`rag.index.backends.open_index`).

    When this call loaded the embedding model (``rag ingest``; not the web app, whose searches
    hold it), the model is let go before the index is finished: its weights and inference
    buffers are hundreds of MB of RSS (OpenVINO bf16 MiniLM; docs/benchmarks.md), room the
    dense index and BM25 builds of a large file need (benchmarks/ingest_memory.py).
    """
    started = time.perf_counter()
    lock = write_lock(uri)  # first: a read-only or wrong --index is refused before the model loads
    try:
        owner = not is_loaded(settings.embedding)
        dimension = load_embedder(settings.embedding).dimension
        index = open_index(uri, settings, dimension=dimension)
        try:
            embedder = load_embedder(settings.embedding)
            report = ingest_into(index, paths, settings, embedder, progress)
            del embedder
            if owner:
                unload_embedder(settings.embedding)
                gc.collect()  # the pipeline's generators and threads may hold it in cycles
                release_memory()
            index.finish()
        finally:
            index.close()
    except STORAGE_ERRORS as exc:  # a full disk, a volume gone read-only: one line, not a trace
        raise problem(uri, exc, "writing to the index") from exc
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def ingest_into(
    index: Writable,
    paths: Sequence[Path],
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
) -> IngestReport:
    """Stream the documents under ``paths`` into an open ``index``; the caller finishes it
    (``index.finish()``) once the embedder's memory is let go.

    ``progress`` gets (records written, records read so far): the total grows while reading.
    """
    errors: list[ReadError] = []
    guard = threading.Lock()  # one index call at a time: sorting reads while batches are written
    merger = Merger(index, guard)
    read = [0]  # records read so far, for progress
    records = read_stream(paths, settings.corpus, errors)
    cut = Ahead(_sorted(records, merger, make_chunker(settings, embedder), read), "ingest-read")
    ready = Ahead(_embedded(cut, embedder), "ingest-embed")
    done = 0
    try:
        for number, (count, batch) in enumerate(ready):
            with guard:
                index.write(batch)
                merger.written(number)
            done += count
            if progress:
                progress(done, max(done, read[0]))
    finally:
        stop(ready, cut)
    documents, chunks, skipped = merger.tally()
    return IngestReport(documents, chunks, skipped, errors)


def make_chunker(settings: Settings, embedder: Embedder) -> Chunker:
    """A chunker that counts tokens in batches with a tokenizer of its own (never waiting for
    the embedding thread's model calls), by token offsets where the tokenizer allows."""
    count = embedder.count_tokens_batch
    offsets = embedder.token_offsets_batch if embedder.splits_at_whitespace else None
    return Chunker(settings.chunking, lambda text: count([text])[0], count, offsets)


def _sorted(
    records: Iterator[Document], merger: Merger, chunker: Chunker, read: list[int]
) -> Iterator[tuple[Sorted, list[list[Chunk]]]]:
    """Batches of records merged with the index (and the batches before), and cut."""
    for number in itertools.count():
        batch = list(itertools.islice(records, BATCH_DOCUMENTS))
        if not batch:
            return
        read[0] += len(batch)
        job = merger.sort(batch, number)
        chunks = chunker.chunk_many(job.documents)
        for doc, cut in zip(job.documents, chunks, strict=True):
            merger.outcomes[doc.id] = len(cut)
        yield job, chunks


def _embedded(
    jobs: Iterable[tuple[Sorted, list[list[Chunk]]]], embedder: Embedder
) -> Iterator[tuple[int, Batch]]:
    """(records read, the batch of writes) for each sorted batch, its passages embedded."""
    for job, chunks in jobs:
        batch = to_batch(job, chunks, embedder)
        release_memory()
        yield job.records, batch


def to_batch(job: Sorted, chunks: list[list[Chunk]], embedder: Embedder) -> Batch:
    """The writes of one sorted batch, its passages embedded."""
    cut = tuple(tuple(c) for c in chunks)
    vectors = (
        embed_passages(embedder, [c.embed_text for cs in cut for c in cs])
        if job.documents
        else np.zeros((0, embedder.dimension), np.float32)
    )  # a batch with nothing new embeds nothing (and a kill "before embedding" skips it)
    return Batch(job.relabel, job.replace, job.documents, cut, vectors)


T = TypeVar("T")
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc (macOS, musl): nothing to trim
    _LIBC = None


class Ahead(Generic[T]):
    """Runs an iterator in a thread of its own, at most :data:`AHEAD` items ahead of the reader.

    An exception in the thread is raised to the reader, in order. :func:`stop` ends the thread
    (after the item it is working on).
    """

    def __init__(self, items: Iterator[T], name: str) -> None:
        self._queue: queue.Queue[tuple[bool, T | BaseException | None]] = queue.Queue(AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), name=name, daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[T]:
        while not self._stop.is_set():
            try:
                ok, value = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if ok:
                yield value  # type: ignore[misc]
            elif value is None:
                return
            else:
                raise value  # type: ignore[misc]

    def _run(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put((True, item)):
                    return
        except BaseException as exc:  # handed to the reader, which raises it
            self._put((False, exc))
            return
        self._put((False, None))

    def _put(self, entry: tuple[bool, T | BaseException | None]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


def release_memory() -> None:
    """Hand the heap memory freed by the last model call back to the system (glibc only).

    Without it RSS grew batch after batch (torch 2.13, glibc 2.36; docs/benchmarks.md): freed
    activations otherwise stay in the heap.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def stop(*stages: Ahead[Any]) -> None:
    """Stop the threads of ``stages`` and wait for them (all are told first: none waits on
    another that is still running)."""
    for stage in stages:
        stage._stop.set()
    for stage in stages:
        stage._thread.join()


def embed_passages(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed passages, rounded to float16 as the store keeps them (so a rebuild is identical)."""
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32)
    return embedder.embed_for_index(texts).astype(np.float16).astype(np.float32)


def remove(ids: Sequence[str], uri: str | Path, settings: Settings) -> tuple[list[str], list[str]]:
    """Delete documents by id (or bare PMID, PMCID, DOI); returns (removed ids, not found)."""
    lock = write_lock(uri)
    try:
        index = open_index(uri, settings)
        found: dict[str, str] = {}
        for wanted in ids:
            for doc_id in index.store.resolve(wanted):
                found[doc_id] = wanted
        missing = [w for w in ids if w not in found.values()]
        if found:
            empty = np.zeros((0, index.manifest.dimension), np.float32)
            index.write(Batch((), tuple(found), (), (), empty))
            index.finish()
        index.close()
    except STORAGE_ERRORS as exc:
        raise problem(uri, exc, "removing from the index") from exc
    finally:
        lock.release()
    return list(found), missing
