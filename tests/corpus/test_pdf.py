"""Tests for the PDF reader; the PDFs are written with fpdf2 at test time."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from base.errors import ReadError
from corpus.model import Document, Section
from corpus.pdf import _authors, read_pdf
from corpus.pdf.front import find_doi, find_year, xmp_doi

# Each inner list is one page; every string is one line as set on the page. Body lines are
# close to the usual width so that the reader joins them; a short line ends a paragraph.
PAPER = [
    [
        "Aspirin for tension-type headache: a randomised controlled trial",
        "Jane Doe, John Smith",
        "doi: 10.1234/jht.2019.0042   PMID: 31234567   PMCID: PMC7654321",
        "Abstract",
        "Tension-type headache is the most common headache disorder and aspirin is widely used",
        "for it, yet trials comparing doses are scarce. We compared two doses against placebo.",
        "1. Introduction",
        "Headache is a leading cause of disability worldwide and most people treat their attacks",
        "with drugs bought over the counter, so the choice of dose matters for the public health.",
        "Few trials have studied this.",
        "Guidelines differ on the first-line treat-",
        "ment of tension-type headache in adults and on the dose of aspirin that should be used.",
        "2. Methods",
        "We enrolled adults with episodic tension-type headache from eleven general practices in",
        "three regions and followed them for twelve weeks after they had been randomly assigned",
    ],
    [
        "to aspirin 500 mg, aspirin 1000 mg or placebo, taken at the onset of each attack of pain",
        "and recorded in a paper diary that the participants returned to the study team monthly.",
        "3 Results",
        "Of 412 participants enrolled, 398 completed follow-up. Pain freedom at two hours was more",
        "frequent with aspirin 1000 mg than with placebo, and adverse events were mild and rare in",
    ],
    [
        "all three arms of the trial, with no serious adverse event attributed to the study drug.",
        "References",
        "[1] Stovner LJ, Hagen K. Prevalence of headache in Europe. J Headache Pain. 2010;11:289.",
        "[2] Bendtsen L, Evers S. EFNS guideline on the treatment of tension-type headache. Eur J",
        "Neurol. 2010;17(11):1318-25.",
    ],
]


def write_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    title: str = "",
    author: str = "",
    setup: Callable[[FPDF], None] | None = None,
) -> Path:
    """Write ``pages`` (lists of lines) to ``path`` as a PDF with the given metadata."""
    pdf = FPDF()
    pdf.set_creation_date(datetime(2019, 5, 1, tzinfo=UTC))
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if setup:
        setup(pdf)
    pdf.set_font("Helvetica", size=10)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def paper_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "paper.pdf"
    return write_pdf(
        path, PAPER, title="Microsoft Word - draft3.docx", author="Doe, Jane; Smith, John"
    )


@pytest.fixture(scope="module")
def paper(paper_path: Path) -> Document:
    [doc] = read_pdf(paper_path)
    return doc


def section(doc: Document, heading: str) -> Section:
    return next(s for s in doc.sections if s.heading == heading)


def page_of(sec: Section, phrase: str) -> int | None:
    offset = sec.text.index(phrase)
    return sec.page_at(offset)


def test_sections_split_at_headings(paper: Document) -> None:
    headings = [s.heading for s in paper.sections]
    assert headings == ["Body", "Abstract", "Introduction", "Methods", "Results"]


def test_format_and_source(paper: Document, paper_path: Path) -> None:
    assert (paper.format, paper.source_path) == ("pdf", str(paper_path))


def test_wrapped_lines_are_joined(paper: Document) -> None:
    assert "is widely used for it, yet trials" in section(paper, "Abstract").text


def test_short_line_ends_a_paragraph(paper: Document) -> None:
    paragraphs = section(paper, "Introduction").text.split("\n")
    assert paragraphs[1].startswith("Guidelines differ")


def test_hyphenated_word_is_joined(paper: Document) -> None:
    assert "first-line treatment of tension-type" in section(paper, "Introduction").text


def test_section_start_page(paper: Document) -> None:
    assert section(paper, "Abstract").pages == ((0, 1),)


def test_page_before_break(paper: Document) -> None:
    assert page_of(section(paper, "Methods"), "eleven general practices") == 1


def test_page_after_break(paper: Document) -> None:
    assert page_of(section(paper, "Methods"), "recorded in a paper diary") == 2


def test_section_starting_mid_page_starts_with_its_page(paper: Document) -> None:
    assert section(paper, "Results").pages[0] == (0, 2)


def test_page_three(paper: Document) -> None:
    assert page_of(section(paper, "Results"), "no serious adverse event") == 3


def test_page_break_joins_the_sentence(paper: Document) -> None:
    assert "randomly assigned to aspirin 500 mg" in section(paper, "Methods").text


def test_references_are_not_body_text(paper: Document) -> None:
    assert "Stovner" not in paper.text


def test_references_are_metadata(paper: Document) -> None:
    assert paper.references == (
        "[1] Stovner LJ, Hagen K. Prevalence of headache in Europe. J Headache Pain. 2010;11:289.",
        "[2] Bendtsen L, Evers S. EFNS guideline on the treatment of tension-type headache. "
        "Eur J Neurol. 2010;17(11):1318-25.",
    )


def test_ids(paper: Document) -> None:
    assert (paper.id, paper.pmid, paper.pmcid, paper.doi) == (
        "pmid:31234567",
        "31234567",
        "PMC7654321",
        "10.1234/jht.2019.0042",
    )


def test_file_name_title_falls_back_to_first_line(paper: Document) -> None:
    assert paper.title == "Aspirin for tension-type headache: a randomised controlled trial"


def test_title_from_metadata(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "t.pdf", [["Some text."]], title="Sleep and blood pressure")
    [doc] = read_pdf(path)
    assert doc.title == "Sleep and blood pressure"


def test_authors_from_metadata(paper: Document) -> None:
    assert paper.authors == ("Doe, Jane", "Smith, John")


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Jane Doe, John Smith and Al Li", ("Jane Doe", "John Smith", "Al Li")),
        ("Doe, J., Smith, J. A.", ("Doe, J.", "Smith, J. A.")),
        ("Jane Doe", ("Jane Doe",)),
        ("", ()),
    ],
)
def test_author_strings(raw: str, names: tuple[str, ...]) -> None:
    assert _authors(raw) == names


def test_year_from_creation_date(paper: Document) -> None:
    assert paper.year == 2019


def test_empty_user_password_is_opened(tmp_path: Path) -> None:
    def lock(pdf: FPDF) -> None:
        pdf.set_encryption(owner_password="owner", encryption_method=EncryptionMethod.RC4)

    path = write_pdf(tmp_path / "locked.pdf", [["Readable text."]], setup=lock)
    [doc] = read_pdf(path)
    assert doc.text == "Readable text."


def read_error(path: Path) -> ReadError:
    with pytest.raises(ReadError) as err:
        list(read_pdf(path))
    assert str(path) in str(err.value)
    return err.value


def test_encrypted_is_a_read_error(tmp_path: Path) -> None:
    def lock(pdf: FPDF) -> None:
        pdf.set_encryption(
            owner_password="owner", user_password="user", encryption_method=EncryptionMethod.RC4
        )

    path = write_pdf(tmp_path / "secret.pdf", [["Secret text."]], setup=lock)
    assert read_error(path).reason == "the PDF is encrypted"


def test_no_text_is_a_read_error(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    assert "no extractable text" in read_error(path).reason


def test_random_bytes_are_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.pdf"
    path.write_bytes(random.Random(0).randbytes(4096))
    assert read_error(path).reason.startswith("not a readable PDF: ")


def test_truncated_pdf_is_a_read_error(tmp_path: Path, paper_path: Path) -> None:
    data = paper_path.read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert read_error(path).reason.endswith("(no %%EOF at the end: is the file cut short?)")


class _Journal(FPDF):
    """Pages with a running header and a bare page number at the foot, as journals print."""

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"J Test Med 2019; 7:{self.page_no() + 100}", align="R")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, str(self.page_no()), align="C")


def test_running_headers_and_page_numbers_are_left_out(tmp_path: Path) -> None:
    pdf = _Journal()
    pdf.set_font("Helvetica", size=10)
    for lines in PAPER:
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "journal.pdf"
    pdf.output(str(path))
    [doc] = read_pdf(path)
    assert "J Test Med" not in doc.text
    assert "randomly assigned to aspirin 500 mg" in section(doc, "Methods").text
    assert "the study drug." in doc.text and not any(s.text.endswith(" 3") for s in doc.sections)


class _Masthead(FPDF):
    """A journal's name in large type on page 1 and as the running header on later pages."""

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"{self.page_no()} Journal of Test Medicine")
            self.ln(10)


def test_title_is_not_the_journal_name_nor_the_article_type(tmp_path: Path) -> None:
    pdf = _Masthead()
    pdf.add_page()
    for size, line in [(22, "Journal of Test Medicine"), (16, "Research Article"),
                       (15, "Aspirin for tension-type headache:"),
                       (15, "a randomised controlled trial")]:  # fmt: skip
        pdf.set_font("Helvetica", size=size)
        pdf.cell(0, size * 0.6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for lines in PAPER:
        for line in lines[1:]:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.add_page()
    path = tmp_path / "masthead.pdf"
    pdf.output(str(path))
    [doc] = read_pdf(path)
    assert doc.title == "Aspirin for tension-type headache: a randomised controlled trial"
    assert "Journal of Test Medicine" not in doc.text and "Research Article" not in doc.text


@pytest.mark.parametrize(
    ("texts", "created", "year"),
    [
        (["Received 2015\nCopyright © 2016 Yang et al."], "D:20151110", 2016),
        (["Copyright:  2014 Iskandar et al."], None, 2014),  # the © glyph had no Unicode
        (["© The Author(s) 2019. Open Access"], None, 2019),
        (["no statement", "Published: 17 October 2014"], "D:2013", 2014),
        (["no statement"], "D:20190501000000Z", 2019),
    ],
)
def test_year(texts: list[str], created: str | None, year: int) -> None:
    assert find_year(texts, created) == year


@pytest.mark.parametrize(
    ("texts", "doi"),
    [
        # a sidebar cuts the DOI at a line break; the running footer prints it whole
        (["ONE 9(12): e115884. doi:10.1371/journal.pone.\n0115884", "PLOS ONE | "
          "DOI:10.1371/journal.pone.0115884 December 31, 2014 2 / 14"],
         "10.1371/journal.pone.0115884"),
        (["http://dx.doi.org/10.1155/2016/8752821"], "10.1155/2016/8752821"),
        (["Latest published: (doi: 10.12688/f1000research.4767.2)", "First published: (doi: "
          "10.12688/f1000research.4767.1)", "10.12688/f1000research.4767.2"],
         "10.12688/f1000research.4767.2"),
        (["no identifier here"], None),
    ],
)  # fmt: skip
def test_doi(texts: list[str], doi: str | None) -> None:
    assert find_doi(texts) == doi


def test_doi_from_xmp() -> None:
    packet = (
        b"<x:xmpmeta><rdf:li>cites doi:10.1186/1746-4269-7-32</rdf:li>"
        b"<dc:identifier>http://dx.doi.org/10.1186/1746-4269-11-3</dc:identifier></x:xmpmeta>"
    )
    assert xmp_doi(b"%PDF-1.4 ... " + packet + b" ...") == "10.1186/1746-4269-11-3"
    assert xmp_doi(b"%PDF-1.4 no metadata") is None


def test_a_sideways_stamp_in_the_margin_is_left_out(tmp_path: Path) -> None:
    pdf = FPDF()
    for lines in PAPER:
        pdf.add_page()
        pdf.set_font("Helvetica", size=7)
        with pdf.rotation(90, 8, 250):
            pdf.text(8, 250, "Downloaded from https://journal.example.org by guest on 12 May 2020")
        pdf.set_font("Helvetica", size=10)
        pdf.set_xy(20, 20)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "stamped.pdf"
    pdf.output(str(path))
    [doc] = read_pdf(path)
    assert "Downloaded" not in doc.text and doc.title.startswith("Aspirin for tension-type")
