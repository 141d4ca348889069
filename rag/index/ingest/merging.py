"""Read records -> the writes that store them: merged with the index and with what is on its way.

Ingest streams: it sorts batch after batch of records while earlier batches are still being
embedded or written. A record is merged with every document that is the same paper (same id,
PMID, PMCID or DOI) whether that document is in the index already or only in a batch sorted
earlier in this run and not written yet; :class:`Merger` keeps those pending documents in an
overlay over the index until their batch is written. So two records of one paper in different
files (or far apart in one file) end up as one document, as ``corpus.dedup`` merges them when a
whole corpus is read at once; as there, records with different PMIDs are never merged.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from corpus.dedup import merge
from corpus.model import Document, content_hash
from rag.index.backends.records import paper_keys
from rag.index.backends.writes import Batch

SKIPPED = -1  # the outcome of a paper found in the index unchanged


class Writable(Protocol):
    """What ingest needs of an index backend (the local directory, a Milvus collection)."""

    def matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Stored documents that are the same paper as ``doc``, with their content hashes."""

    def write(self, batch: Batch) -> None:
        """Apply one batch of writes, all or nothing."""

    def finish(self) -> None:
        """Bring derived structures up to date after the last write, and persist them."""


@dataclass(frozen=True)
class Sorted:
    """One batch of records sorted into writes: what to relabel, delete and (re)store."""

    number: int
    records: int  # records read into it, for progress
    relabel: tuple[Document, ...]
    replace: tuple[str, ...]
    documents: tuple[Document, ...]


class Merger:
    """Sorts batches of read records against an index and the batches not yet written to it.

    ``lock`` serialises index calls: :meth:`sort` runs in ingest's reading thread while the
    batches before are written in another (by :meth:`written`'s caller, holding ``lock``).
    """

    def __init__(self, index: Writable, lock: threading.Lock) -> None:
        self.index = index
        self.lock = lock
        # id -> (its document and content hash, or None once deleted; the batch that did it)
        self._pending: dict[str, tuple[tuple[Document, str] | None, int]] = {}
        self._by_key: dict[str, set[str]] = defaultdict(set)  # "pmid:1" -> pending ids
        self._touched: dict[int, list[str]] = defaultdict(list)  # batch -> ids it made pending
        # id -> SKIPPED, or the passages it was stored with in this run (one entry per paper)
        self.outcomes: dict[str, int] = {}

    def sort(self, records: Sequence[Document], number: int) -> Sorted:
        """The writes that store ``records`` as batch ``number`` (batches are written in order)."""
        fresh: dict[str, Document] = {}
        replace: list[str] = []
        relabel: dict[str, Document] = {}
        for doc in records:
            found = self._matches(doc)
            merged = doc
            for old, _ in found:
                merged = merge(old, merged)
            earlier = [self.outcomes.pop(old.id) for old, _ in found if old.id in self.outcomes]
            if len(found) == 1 and found[0][1] == content_hash(merged):
                old = found[0][0]  # unchanged; perhaps read from one more file
                self.outcomes[old.id] = earlier[0] if earlier else SKIPPED
                if merged.other_sources != old.other_sources:
                    (fresh if old.id in fresh else relabel)[old.id] = merged
                    self._put(old.id, (merged, found[0][1]), number)
                continue
            for old, _ in found:
                fresh.pop(old.id, None)
                relabel.pop(old.id, None)
                replace.append(old.id)
                self._put(old.id, None, number)
            fresh[merged.id] = merged
            self._put(merged.id, (merged, content_hash(merged)), number)
            self.outcomes[merged.id] = 0
        return Sorted(
            number, len(records), tuple(relabel.values()), tuple(replace), tuple(fresh.values())
        )

    def tally(self) -> tuple[int, int, int]:
        """(papers stored, their passages, papers found unchanged) in this run so far."""
        outcomes = list(self.outcomes.values())
        stored = [n for n in outcomes if n != SKIPPED]
        return len(stored), sum(stored), len(outcomes) - len(stored)

    def written(self, number: int) -> None:
        """Batch ``number`` is in the index: forget what it made pending (call holding lock)."""
        for doc_id in self._touched.pop(number, []):
            entry = self._pending.get(doc_id)
            if entry is not None and entry[1] == number:
                self._drop(doc_id)

    def _matches(self, doc: Document) -> list[tuple[Document, str]]:
        """Same-paper documents as the index will hold them once the pending batches are in."""
        with self.lock:
            stored = self.index.matches(doc)
            found = {old.id: (old, h) for old, h in stored if old.id not in self._pending}
            for key in paper_keys(doc):
                for doc_id in self._by_key.get(key, ()):
                    entry = self._pending[doc_id][0]
                    if entry is not None:
                        found[doc_id] = entry
        return [(old, h) for old, h in found.values() if _compatible(old, doc)]

    def _put(self, doc_id: str, entry: tuple[Document, str] | None, number: int) -> None:
        with self.lock:
            self._drop(doc_id)
            self._pending[doc_id] = (entry, number)
            if entry is not None:
                for key in paper_keys(entry[0]):
                    self._by_key[key].add(doc_id)
            self._touched[number].append(doc_id)

    def _drop(self, doc_id: str) -> None:
        entry = self._pending.pop(doc_id, None)
        if entry is not None and entry[0] is not None:
            for key in paper_keys(entry[0][0]):
                ids = self._by_key[key]
                ids.discard(doc_id)
                if not ids:
                    del self._by_key[key]


def _compatible(old: Document, doc: Document) -> bool:
    """Records with different PMIDs are never one paper (an erratum can share its DOI)."""
    return not (old.pmid and doc.pmid and old.pmid != doc.pmid)
