from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import numpy as np

from corpus.model import Section, build_document, content_hash
from rag.index.backends.local.store import MIGRATIONS, Store
from rag.index.chunking import Chunk


def doc(pmid: str, text: str = "Some text."):
    return build_document(
        title=f"Paper {pmid}", sections=[Section("Abstract", text)], source_path="a.xml",
        format="pubmed", pmid=pmid, doi=f"10.1000/p{pmid}", year=2020,
    )  # fmt: skip


def chunk(d, i: int = 0) -> Chunk:
    return Chunk(d.id, i, d.title, "Abstract", 0, d.sections[0].text, 0, 10)


def vectors(n: int) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_migrations_are_recorded(tmp_path: Path) -> None:
    Store(tmp_path / "s.sqlite").close()
    db = sqlite3.connect(tmp_path / "s.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        store.add(doc("1"), [chunk(doc("1"))], vectors(1))
    store.close()
    assert Store(tmp_path / "s.sqlite").counts() == (1, 1)


def test_round_trip_of_document_and_hash(tmp_path: Path) -> None:
    store, d = Store(tmp_path / "s.sqlite"), doc("7")
    with store.transaction():
        store.add(d, [chunk(d)], vectors(1))
    ((back, digest),) = store.matches(doc("7", "other text"))
    assert (back, digest) == (d, content_hash(d))


def test_vectors_round_trip_as_float16(tmp_path: Path) -> None:
    store, d, v = Store(tmp_path / "s.sqlite"), doc("1"), vectors(2)
    with store.transaction():
        store.add(d, [chunk(d, 0), chunk(d, 1)], v)
    ((rows, back),) = store.vectors(4)
    assert np.allclose(back, v, atol=1e-3) and list(rows) == [1, 2]


def test_delete_cascades_to_chunks(tmp_path: Path) -> None:
    store, d = Store(tmp_path / "s.sqlite"), doc("1")
    with store.transaction():
        store.add(d, [chunk(d, 0), chunk(d, 1)], vectors(2))
    with store.transaction():
        assert store.delete_documents([d.id]) == [1, 2]
    assert store.counts() == (0, 0)


def test_rows_are_never_reused(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        store.add(doc("1"), [chunk(doc("1"))], vectors(1))
        store.delete_documents(["pmid:1"])
        rows = store.add(doc("2"), [chunk(doc("2"))], vectors(1))
    assert rows == [2]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    try:
        with store.transaction():
            store.add(doc("1"), [chunk(doc("1"))], vectors(1))
            store.bump_generation()
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert (store.counts(), store.generation) == ((0, 0), 0)


def test_resolve_bare_identifiers(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        store.add(doc("5"), [chunk(doc("5"))], vectors(1))
    assert [store.resolve(k) for k in ("5", "pmid:5", "10.1000/P5", "9")] == [
        ["pmid:5"], ["pmid:5"], ["pmid:5"], [],
    ]  # fmt: skip


def test_documents_without_chunks_are_counted(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        store.add(doc("1"), [chunk(doc("1"))], vectors(1))
        store.add(doc("2"), [], vectors(0))
    assert store.documents_without_chunks() == 1


def test_update_record_keeps_hash_and_chunks(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        store.add(doc("1"), [chunk(doc("1"))], vectors(1))
    relabelled = dataclasses.replace(doc("1"), other_sources=("b.xml",))
    with store.transaction():
        store.update_record(relabelled)
    assert store.document("pmid:1") == relabelled and store.counts() == (1, 1)
    assert store.matches(doc("1"))[0][1] == content_hash(doc("1"))
