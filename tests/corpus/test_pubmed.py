from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from base.errors import ReadError
from corpus.pubmed import read_pubmed

RECORD = """<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">{pmid}</PMID>
<Article PubModel="Print">
<Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>
</JournalIssue><Title>Journal of Tests</Title></Journal>
<ArticleTitle>A <i>trial</i> of things.</ArticleTitle>
<ELocationID EIdType="doi" ValidYN="Y">10.1000/ABC.{pmid}</ELocationID>
<Abstract><AbstractText Label="BACKGROUND">Beta
    <sub>2</sub>-agonists help.</AbstractText>
<AbstractText Label="RESULTS">It worked.</AbstractText></Abstract>
<AuthorList><Author><LastName>Doe</LastName><ForeName>Jane</ForeName></Author>
<Author><CollectiveName>The Test Group</CollectiveName></Author></AuthorList>
<PublicationTypeList><PublicationType>Journal Article</PublicationType></PublicationTypeList>
</Article>
<MeshHeadingList><MeshHeading><DescriptorName>Asthma</DescriptorName></MeshHeading>
</MeshHeadingList>
</MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pmc">PMC99{pmid}</ArticleId></ArticleIdList>
<ReferenceList><Reference><Citation>Smith J. Earlier work. 1990.</Citation></Reference>
</ReferenceList>
</PubmedData></PubmedArticle>"""

SET = '<?xml version="1.0"?>\n<PubmedArticleSet>{}</PubmedArticleSet>'


def write(tmp_path: Path, body: str, name: str = "set.xml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def doc(tmp_path: Path):
    return next(read_pubmed(write(tmp_path, SET.format(RECORD.format(pmid=123)))))


def test_ids(doc) -> None:
    assert (doc.id, doc.pmid, doc.pmcid, doc.doi) == (
        "pmid:123",
        "123",
        "PMC99123",
        "10.1000/abc.123",
    )


def test_title_keeps_inline_markup_text(doc) -> None:
    assert doc.title == "A trial of things."


def test_structured_abstract_is_one_labelled_section(doc) -> None:
    assert doc.sections[0].heading == "Abstract"
    assert doc.sections[0].text == "BACKGROUND: Beta2-agonists help.\nRESULTS: It worked."


def test_medline_date_gives_year(doc) -> None:
    assert doc.year == 1998


def test_authors_and_collective_names(doc) -> None:
    assert doc.authors == ("Doe, Jane", "The Test Group")


def test_metadata_lists(doc) -> None:
    assert (doc.mesh_terms, doc.publication_types, doc.journal) == (
        ("Asthma",),
        ("Journal Article",),
        "Journal of Tests",
    )


def test_references_are_metadata_not_text(doc) -> None:
    assert doc.references == ("Smith J. Earlier work. 1990.",)
    assert "Earlier work" not in doc.text


def test_old_medline_citation_set(tmp_path: Path) -> None:
    citation = RECORD.split("<PubmedData>")[0].replace("<PubmedArticle>", "")
    body = f"<MedlineCitationSet>{citation.format(pmid=7)}</MedlineCitationSet>"
    (doc,) = read_pubmed(write(tmp_path, body))
    assert (doc.pmid, doc.doi, doc.pmcid) == ("7", "10.1000/abc.7", None)


def test_gzip(tmp_path: Path) -> None:
    path = tmp_path / "set.xml.gz"
    path.write_bytes(gzip.compress(SET.format(RECORD.format(pmid=5)).encode()))
    assert [d.pmid for d in read_pubmed(path)] == ["5"]


def test_truncated_file_keeps_complete_records_and_reports(tmp_path: Path) -> None:
    text = SET.format(RECORD.format(pmid=1) + RECORD.format(pmid=2))
    path = write(tmp_path, text[: text.index("<PMID", text.index("<PMID") + 1) + 30])
    got = []
    with pytest.raises(ReadError, match="truncated") as info:
        got.extend(d.pmid for d in read_pubmed(path))
    assert got == ["1"]
    assert str(path) in str(info.value)


def test_wrong_root(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not one of PubmedArticleSet"):
        list(read_pubmed(write(tmp_path, "<html><PubmedArticle/></html>")))


def test_bounded_memory_over_many_records(tmp_path: Path) -> None:
    """Each record is freed after reading: the root holds no finished records at the end."""
    path = write(tmp_path, SET.format("".join(RECORD.format(pmid=i) for i in range(1, 300))))
    reader = read_pubmed(path)
    for doc in reader:
        if doc.pmid == "299":
            break
    frame = reader.gi_frame
    assert frame is not None
    root = frame.f_locals["elem"].getparent()
    assert len(root) == 1  # only the record being read; the 298 before it were released


def test_comments_and_unexpanded_entities_inside_text(tmp_path: Path) -> None:
    """With an external DTD (as real files name), an undefined ``&xxe;`` is no syntax error:
    lxml keeps it as a node, which crashed the reader before 2026-12. It is never expanded."""
    record = RECORD.format(pmid=7).replace("It worked.", "It <!-- a note -->wor&xxe;ked.")
    doctype = '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" "x.dtd">\n'
    body = SET.format(record).replace("\n<PubmedArticleSet>", f"\n{doctype}<PubmedArticleSet>")
    (doc,) = read_pubmed(write(tmp_path, body))
    assert doc.text.endswith("RESULTS: It wor&xxe;ked.")
