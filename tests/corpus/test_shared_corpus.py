"""Integration: read all of ../shared/corpus, as `rag corpus inspect ../shared/corpus` does."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from base.errors import ReadError
from corpus import read, read_many
from corpus.model import Document

pytestmark = pytest.mark.integration


@cache
def _read(corpus: Path) -> tuple[list[Document], list[ReadError]]:
    return read_many([corpus])


@pytest.fixture(scope="module")
def docs(shared: Path) -> list[Document]:
    docs, errors = _read(shared / "corpus")
    assert errors == []
    return docs


def by_pmid(docs: list[Document]) -> dict[str, Document]:
    return {d.pmid: d for d in docs if d.pmid}


def test_about_fifteen_thousand_documents(docs: list[Document]) -> None:
    assert 14_500 <= len(docs) <= 15_065 + 14  # + the 14 article PDFs of corpus/pdf


def test_each_article_pdf_is_its_own_document(docs: list[Document]) -> None:
    pdfs = [d for d in docs if d.format == "pdf"]
    assert len(pdfs) == 14 and all(d.id.startswith("doi:") for d in pdfs)


def test_ids_are_unique(docs: list[Document]) -> None:
    assert len({d.id for d in docs}) == len(docs)


def test_seed_pages(docs: list[Document]) -> None:
    found = by_pmid(docs)
    mdm2, tme = found["38281981"], found["33259885"]
    assert "MDM2" in mdm2.title and mdm2.journal == "J Biomed Sci" and mdm2.year == 2024
    assert (tme.doi, tme.pmcid) == ("10.1016/j.pharmthera.2020.107753", "PMC8084948")


def test_seed_page_keeps_only_the_papers_own_text(docs: list[Document]) -> None:
    tme = by_pmid(docs)["33259885"]
    assert "Tumor microenvironment denotes" in tme.text
    assert "Cancer-Associated Fibroblasts" not in tme.text  # a "Related Publications" entry


def test_pubmed_record(docs: list[Document]) -> None:
    doc = by_pmid(docs)["29768149"]
    assert doc.doi == "10.1056/nejmoa1715274" and "Budesonide-Formoterol" in doc.title


def test_all_604_medline_records(shared: Path, docs: list[Document]) -> None:
    medline = list(read(shared / "corpus/pubmed/medline16n0902.xml.gz"))
    assert len(medline) == 604
    assert {d.pmid for d in medline} <= set(by_pmid(docs))


def test_nine_pmc_full_texts_with_sections(docs: list[Document]) -> None:
    full = [d for d in docs if d.format == "jats"]
    assert len(full) == 9
    assert all(d.pmcid and d.doi and d.title for d in full)
    assert sum(len(d.sections) >= 5 for d in full) >= 8  # cc11003 is a meeting abstract


def test_pubmedqa_and_bioasq_are_there(docs: list[Document]) -> None:
    assert sum(d.format == "jsonl" for d in docs) > 14_000
