"""milvus-lite records: values with quotes, backslashes and LIKE wildcards stay values.

Random unit vectors stand in for embeddings here: what is tested is how ids and filters reach
Milvus's expression parser, not retrieval quality (tests/rag/index/backends/test_backends.py
does that).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from base.settings import Settings
from corpus.model import Document, Section
from rag.index.backends import Filters, open_index
from rag.index.backends.milvus.index import PART_CHARS, MilvusIndex
from rag.index.backends.milvus.records import filter_expression, literal
from rag.index.backends.writes import Batch
from rag.index.chunking import Chunk

TRICKY = ['10.1000/a"b', "10.1000/back\\slash", "10.1000/new\nline", "10.1000/100%_x"]


def doc(n: int, doi: str, journal: str, text: str = "Some text.") -> Document:
    return Document(
        id=f"doi:{doi}", title=f"Paper {n}", sections=(Section("Abstract", text),),
        source_path=f"/x/{n}.txt", format="text", journal=journal, year=2000 + n, doi=doi,
    )  # fmt: skip


def chunk(d: Document) -> Chunk:
    text = d.sections[0].text[:100]
    return Chunk(d.id, 0, d.title, "Abstract", 0, text, 0, len(text))


def test_tricky_values_round_trip(tmp_path: Path) -> None:
    index = open_index(f"milvus+lite://{tmp_path}/t.db", Settings(), dimension=8)
    assert isinstance(index, MilvusIndex)
    docs = [doc(i, d, j) for i, (d, j) in enumerate(zip(TRICKY, ["A%B", "A_B", "AxB", 'Q"'],
                                                        strict=True))]  # fmt: skip
    long = doc(9, "10.1000/long", "J", "word " * (3 * PART_CHARS // 5))  # a record in parts
    docs.append(long)
    vectors = np.random.default_rng(0).normal(size=(len(docs), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index.write(Batch((), (), tuple(docs), tuple((chunk(d),) for d in docs), vectors))
    for d in TRICKY:
        assert index.store.resolve(d) == [f"doi:{d}"]
        assert index.store.document(f"doi:{d}") == docs[TRICKY.index(d)]
    assert index.store.document(long.id) == long
    assert index.store.counts() == (5, 5)

    def journals(name: str) -> list[str | None]:
        expr = filter_expression(Filters(journal=name))
        rows = index.client.query(index.store.chunks_name, filter=expr, output_fields=["journal"])
        return sorted(r["journal"] for r in rows)

    assert journals("a%b") == ["A%B"]  # % is a character here, not a wildcard
    assert journals("a_b") == ["A_B"]
    assert journals('q"') == ['Q"']
    assert journals('" or year > 0 or journal == "') == []
    assert index.remove([TRICKY[0], "10.1000/none"]) == ([f"doi:{TRICKY[0]}"], ["10.1000/none"])
    assert index.store.counts() == (4, 4)
    index.close()


def test_literal_escapes() -> None:
    assert literal('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_a_fresh_collection_deletes_only_what_this_writer_wrote(tmp_path: Path) -> None:
    """Writes into a collection that was empty skip deletes of ids never written (milvus-lite
    scans the whole collection per delete); a document written, then replaced in the same
    session, still loses its old passages; a writer opening it later deletes as before."""
    uri = f"milvus+lite://{tmp_path}/f.db"
    index = open_index(uri, Settings(), dimension=8)
    assert isinstance(index, MilvusIndex)
    deletes: list[str] = []
    delete = index.client.delete
    index.client.delete = lambda name, **kw: deletes.append(kw["filter"]) or delete(name, **kw)  # type: ignore[method-assign]
    first, second = doc(1, "10.1000/one", "J"), doc(2, "10.1000/two", "J")
    vectors = np.eye(8, dtype=np.float32)
    index.write(Batch((), (), (first,), ((chunk(first),),), vectors[:1]))
    index.write(Batch((), (), (second,), ((chunk(second),),), vectors[1:2]))
    assert deletes == []  # neither id was ever stored
    changed = doc(1, "10.1000/one", "J", "Other text.")
    index.write(Batch((), (first.id,), (changed,), ((chunk(changed),),), vectors[2:3]))
    assert deletes and index.store.counts() == (2, 2)
    assert index.store.document(first.id) == changed
    index.close()
    again = open_index(uri, Settings())
    assert isinstance(again, MilvusIndex)
    deletes.clear()
    delete = again.client.delete
    again.client.delete = lambda name, **kw: deletes.append(kw["filter"]) or delete(name, **kw)  # type: ignore[method-assign]
    third = doc(3, "10.1000/three", "J")
    again.write(Batch((), (), (third,), ((chunk(third),),), vectors[3:4]))
    assert deletes and again.store.counts() == (3, 3)
    again.close()
