"""Tests for the MEDLINE/PubMed tagged-text reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from base.errors import ReadError
from corpus.medline import read_medline
from corpus.model import Document

SAMPLE = Path(__file__).parent / "fixtures" / "sample.nbib"


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return list(read_medline(SAMPLE))


@pytest.fixture(scope="module")
def trial(docs: list[Document]) -> Document:
    return docs[0]


@pytest.fixture(scope="module")
def sleep(docs: list[Document]) -> Document:
    return docs[1]


def test_record_without_pmid_or_title_is_skipped(docs: list[Document]) -> None:
    assert [d.pmid for d in docs] == ["31456789", "28012345"]


def test_id_and_format(trial: Document) -> None:
    assert (trial.id, trial.format, trial.source_path) == ("pmid:31456789", "medline", str(SAMPLE))


def test_title_continuation_is_joined(trial: Document) -> None:
    assert trial.title == (
        "Low-dose aspirin and the risk of colorectal adenoma recurrence: a randomised, "
        "placebo-controlled trial."
    )


def test_structured_abstract_is_one_section_with_labels_inline(trial: Document) -> None:
    assert [s.heading for s in trial.sections] == ["Abstract"]
    text = trial.sections[0].text
    assert text.startswith("BACKGROUND: Aspirin may prevent colorectal neoplasia, but the lowest")
    assert "unknown. METHODS: We randomly" in text
    assert text.endswith("CONCLUSIONS: Low-dose aspirin reduced adenoma recurrence.")


def test_multiline_abstract_is_joined_with_spaces(sleep: Document) -> None:
    assert "adolescents who wore actigraphs for one week and found" in sleep.text


def test_full_author_names(trial: Document) -> None:
    assert trial.authors == ("Okafor, Chinedu A", "Müller, Jürgen")


def test_short_author_names_without_fau(sleep: Document) -> None:
    assert sleep.authors == ("Lee H", "Park SY")


def test_journal_title(trial: Document) -> None:
    assert trial.journal == "British journal of cancer"


def test_journal_abbreviation_without_jt(sleep: Document) -> None:
    assert sleep.journal == "J Adolesc Health"


def test_year_from_dp(trial: Document) -> None:
    assert trial.year == 2019


def test_doi_from_aid_not_pii(sleep: Document) -> None:
    assert sleep.doi == "10.1016/j.jadohealth.2016.09.012"


def test_doi_normalized(trial: Document) -> None:
    assert trial.doi == "10.1038/s41416-019-0573-2"


def test_pmcid(trial: Document) -> None:
    assert trial.pmcid == "PMC6889283"


def test_mesh_without_qualifiers_or_asterisk(trial: Document) -> None:
    assert trial.mesh_terms == ("Adenoma", "Aspirin", "Colorectal Neoplasms", "Humans")


def test_publication_types(trial: Document) -> None:
    assert trial.publication_types == ("Journal Article", "Randomized Controlled Trial")


def test_keywords(trial: Document) -> None:
    assert trial.keywords == ("aspirin", "chemoprevention")


def test_bom_and_crlf_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.nbib"
    path.write_bytes(b"\xef\xbb\xbfPMID- 1\r\nTI  - A title\r\n      goes on.\r\n")
    [doc] = read_medline(path)
    assert (doc.pmid, doc.title) == ("1", "A title goes on.")


def test_records_without_blank_line_between(tmp_path: Path) -> None:
    path = tmp_path / "tight.txt"
    path.write_text("PMID- 1\nTI  - One\nPMID- 2\nTI  - Two\n", encoding="utf-8")
    assert [d.title for d in read_medline(path)] == ["One", "Two"]


def test_a_few_stray_lines_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "stray.txt"
    path.write_text("PMID- 1\nTI  - One\nstray line\nAB  - Text.\n", encoding="utf-8")
    assert [d.text for d in read_medline(path)] == ["Text."]


def test_non_utf8_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.nbib"
    path.write_bytes("PMID- 1\nTI  - Café\n".encode("latin-1"))
    with pytest.raises(ReadError, match=r"not UTF-8 text \(byte 17 is 0xe9\)") as err:
        list(read_medline(path))
    assert str(path) in str(err.value)


def test_text_that_is_not_medline_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(
        "Meeting notes\nTI  - this one line looks like a field\nWe discussed aspirin.\n"
        "Next meeting - Tuesday.\n",
        encoding="utf-8",
    )
    with pytest.raises(ReadError, match="not MEDLINE text: 3 of 4") as err:
        list(read_medline(path))
    assert str(path) in str(err.value)


def test_empty_file_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.nbib"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match="no MEDLINE records") as err:
        list(read_medline(path))
    assert str(path) in str(err.value)


def test_only_records_without_pmid_or_title_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "untitled.nbib"
    path.write_text("OWN - NLM\nSTAT- Publisher\n", encoding="utf-8")
    with pytest.raises(ReadError, match="1 records had neither PMID nor title"):
        list(read_medline(path))


def test_gzipped_file(tmp_path: Path) -> None:
    path = tmp_path / "sample.nbib.gz"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert [d.pmid for d in read_medline(path)] == ["31456789", "28012345"]
