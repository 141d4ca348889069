"""Lookup of a document id as litrag shows it (``hash:…``, ``pmid:…``, ``pmcid:…``, ``doi:…``).

Before 2026-12 a ``hash:`` id went to title and claim search and found nothing; the others were
taken for bare identifiers. The index is built with the real embedder from files written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import Settings
from corpus.model import Document
from rag.answer.lookup import identifier, lookup
from rag.answer.pipeline import Pipeline
from rag.index.backends.local.index import Index
from rag.index.ingest.pipeline import ingest

pytestmark = pytest.mark.integration
DOCS = {
    "pmid.txt": "PMID: 11111111\nTitle: MDM2 amplification and hyperprogression\n\nPatients "
    "with MDM2 amplification are vulnerable to hyperprogressive disease.",
    "pmc.txt": "PMCID: PMC7654321\nDOI: 10.1000/PMC.7\nTitle: A paper known by its PMCID\n\n"
    "Full texts in PubMed Central carry a PMCID.",
    "doi.txt": "DOI: 10.1000/Only.DOI\nTitle: A paper known by its DOI\n\nSome papers have "
    "only a DOI.",
    "note.txt": "A note without identifiers\n\nIts id is a hash of its title and text.",
}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, dict[str, Document]]:
    src = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (src / name).write_text(text)
    folder = tmp_path_factory.mktemp("index")
    ingest([src], folder, Settings())
    store = Index.open(folder, Settings()).store
    docs = {
        Path(d.source_path).name: d
        for r in store.list_documents()[0]
        if (d := store.document(r.id))
    }
    return Pipeline.open(folder, Settings()), docs


def test_ids_are_recognised_as_ids() -> None:
    typed = ("hash:0123456789ABCDEF", "PMID:0042", "pmcid:pmc9", " doi:10.1000/X ")
    assert [identifier(q) for q in typed] == [
        ("id", "hash:0123456789abcdef"), ("id", "pmid:42"), ("id", "pmcid:PMC9"),
        ("id", "doi:10.1000/x"),
    ]  # fmt: skip


def test_bare_identifiers_keep_their_kind() -> None:
    assert [identifier(q) for q in ("123", "PMID: 123", "PMC9", "10.1000/x", "hash:xyz")] == [
        ("pmid", "123"), ("pmid", "123"), ("pmcid", "PMC9"), ("doi", "10.1000/x"), None,
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCS))
def test_each_kind_of_id_finds_its_document(
    found: tuple[Pipeline, dict[str, Document]], name: str
) -> None:
    pipeline, docs = found
    doc = docs[name]
    result = lookup(pipeline, doc.id)
    assert (result.kind, [d.id for d in result.documents]) == ("id", [doc.id])
    assert result.passages == ()


def test_a_doi_id_finds_the_paper_stored_under_another_id(
    found: tuple[Pipeline, dict[str, Document]],
) -> None:
    pipeline, docs = found
    result = lookup(pipeline, "doi:10.1000/pmc.7")
    assert (result.kind, [d.id for d in result.documents]) == ("id", [docs["pmc.txt"].id])
    assert docs["pmc.txt"].id == "pmcid:PMC7654321"


def test_an_unknown_id_finds_nothing(found: tuple[Pipeline, dict[str, Document]]) -> None:
    result = lookup(found[0], "hash:ffffffffffffffff")
    assert (result.kind, result.documents, result.passages) == ("id", (), ())
