"""Tests for the PMC JATS reader: tiny hand-written articles, then the real PMC files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from base.errors import ReadError
from corpus.jats import read_jats
from corpus.model import Document

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PMC = SHARED / "corpus" / "pmc"

DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD '
    'v1.0 20120330//EN" "JATS-archivearticle1.dtd">\n'
)


def _article(
    body: str = "", *, meta: str = "", back: str = "", after: str = "", title: str = "A title"
) -> str:
    """A minimal JATS article with the given pieces."""
    return (
        f'{DOCTYPE}<article xmlns:mml="http://www.w3.org/1998/Math/MathML" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">'
        "<front><journal-meta><journal-title-group><journal-title>J Tests</journal-title>"
        "</journal-title-group></journal-meta><article-meta>"
        f"<title-group><article-title>{title}</article-title></title-group>{meta}"
        f"</article-meta></front><body>{body}</body><back>{back}</back>{after}</article>"
    )


def _read(tmp_path: Path, xml: str, name: str = "a.nxml") -> Document:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    docs = list(read_jats(path))
    assert len(docs) == 1
    return docs[0]


def _headings(doc: Document) -> list[str]:
    return [s.heading for s in doc.sections]


def _section(doc: Document, heading: str) -> str:
    return next(s.text for s in doc.sections if s.heading == heading)


# --- sections --------------------------------------------------------------------------------

NESTED = (
    "<sec><title>Methods</title><p>Overview.</p>"
    "<sec><title>Study area</title><p>Area text.</p>"
    "<sec><title>Sampling</title><p>Deep text.</p></sec></sec>"
    "<p>Methods end.</p></sec>"
)


def test_nested_secs_are_headed_by_their_title_path(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article(NESTED))
    assert _headings(doc) == ["Methods", "Methods > Study area", "Methods > Study area > Sampling"]


def test_a_sec_holds_only_its_own_paragraphs(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article(NESTED))
    assert _section(doc, "Methods") == "Overview.\nMethods end."


def test_an_untitled_sec_uses_its_parents_heading(tmp_path: Path) -> None:
    body = "<sec><title>Results</title><sec><p>Untitled text.</p></sec></sec>"
    assert _headings(_read(tmp_path, _article(body))) == ["Results"]


def test_paragraphs_directly_in_body_form_a_body_section(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>First.</p><p>Second.</p>"))
    assert [(s.heading, s.text) for s in doc.sections] == [("Body", "First.\nSecond.")]


def test_list_items_are_separate_lines(tmp_path: Path) -> None:
    items = "<list-item><p>one</p></list-item><list-item><p>two</p></list-item>"
    body = f"<p>Steps:</p><list>{items}</list>"
    assert _read(tmp_path, _article(body)).text == "Steps:\none\ntwo"


def test_structured_abstract_is_one_section_of_titled_lines(tmp_path: Path) -> None:
    meta = (
        "<abstract><sec><title>Background</title><p>We asked.</p></sec>"
        "<sec><title>Results:</title><p>We found.</p></sec></abstract>"
    )
    doc = _read(tmp_path, _article(meta=meta))
    assert _section(doc, "Abstract") == "Background: We asked.\nResults: We found."


def test_author_summary_is_its_own_section(tmp_path: Path) -> None:
    meta = (
        '<abstract abstract-type="summary"><title>Author Summary</title><p>Plain.</p></abstract>'
        "<abstract><p>Main.</p></abstract>"
    )
    doc = _read(tmp_path, _article(meta=meta))
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Abstract", "Main."),
        ("Author Summary", "Plain."),
    ]


def test_back_matter_secs_appendices_and_acknowledgments(tmp_path: Path) -> None:
    back = (
        "<ack><title>Acknowledgements</title><p>Thanks.</p></ack>"
        "<app-group><app><title>Appendix A</title><p>Proof.</p></app></app-group>"
        "<sec><title>Funding</title><p>Money.</p></sec>"
    )
    doc = _read(tmp_path, _article(back=back))
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Acknowledgments", "Thanks."),
        ("Appendix A", "Proof."),
        ("Funding", "Money."),
    ]


# --- inline text -----------------------------------------------------------------------------


def test_inline_markup_joins_without_extra_spaces(tmp_path: Path) -> None:
    body = (
        '<p>CO<sub>2</sub> rose in <italic>E. coli</italic> <xref ref-type="bibr">[12]</xref>, '
        "x<sup>2</sup>.</p>"
    )
    assert _read(tmp_path, _article(body)).text == "CO2 rose in E. coli [12], x2."


def test_formula_uses_tex_and_drops_bare_mathml(tmp_path: Path) -> None:
    body = (
        "<p>Let <inline-formula><alternatives><tex-math>\\documentclass{minimal}"
        "\\begin{document}$x^2$\\end{document}</tex-math><mml:math><mml:msup><mml:mi>x</mml:mi>"
        "<mml:mn>2</mml:mn></mml:msup></mml:math></alternatives></inline-formula> hold, and "
        '<mml:math alttext="a+b"><mml:mi>a</mml:mi></mml:math> and '
        "<mml:math><mml:mi>zq</mml:mi><mml:mn>9</mml:mn></mml:math>end.</p>"
    )
    assert _read(tmp_path, _article(body)).text == "Let $x^2$ hold, and a+b and end."


def test_named_character_entities_read_as_characters(tmp_path: Path) -> None:
    # With the DTD unread, lxml keeps &nbsp; as an entity node instead of failing.
    body = "<p>5&nbsp;mg&ndash;10&#x003bb;</p>"
    assert _read(tmp_path, _article(body)).text == "5 mg–10λ"


FLOATS = (
    "<sec><title>Results</title><p>See the table."
    '<table-wrap id="t2"><label>Table 2.</label><caption><p>Counts by site.</p></caption>'
    "<table><tr><td>CELL42</td></tr></table>"
    "<table-wrap-foot><fn><p>NA, not assessed.</p></fn></table-wrap-foot></table-wrap></p></sec>"
)
FLOATS_GROUP = (
    '<floats-group><fig id="f1"><label>Figure 1</label><caption><title>Map.</title>'
    '<p>Sites in red.</p></caption><graphic xlink:href="f1.jpg"/></fig>'
    "<fig><caption><p>Unlabelled.</p></caption></fig></floats-group>"
)


def test_figure_and_table_captions_become_sections_after_the_body(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article(FLOATS, after=FLOATS_GROUP))
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Results", "See the table."),
        ("Table 2", "Counts by site.\nNA, not assessed."),
        ("Figure 1", "Map.\nSites in red."),
        ("Figure", "Unlabelled."),
    ]


def test_table_cells_are_not_text(tmp_path: Path) -> None:
    assert "CELL42" not in _read(tmp_path, _article(FLOATS)).text


def test_supplementary_material_keeps_caption_not_media(tmp_path: Path) -> None:
    body = (
        "<sec><title>Supporting Information</title><supplementary-material>"
        "<label>Table S1</label><caption><p>Genes.</p></caption>"
        "<media><caption><p>Click here.</p></caption></media></supplementary-material></sec>"
    )
    assert _read(tmp_path, _article(body)).text == "Table S1 Genes."


# --- metadata --------------------------------------------------------------------------------

IDS = (
    '<article-id pub-id-type="pmid">0023029536</article-id>'
    '<article-id pub-id-type="pmc">3460867</article-id>'
    '<article-id pub-id-type="publisher-id">PONE-D-12</article-id>'
    '<article-id pub-id-type="doi">10.1371/JOURNAL.pone.0046493</article-id>'
)


def test_ids_are_extracted_and_normalized(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>x</p>", meta=IDS))
    assert (doc.id, doc.pmid, doc.pmcid, doc.doi) == (
        "pmid:23029536",
        "23029536",
        "PMC3460867",
        "10.1371/journal.pone.0046493",
    )


def test_pmcid_type_is_read_too(tmp_path: Path) -> None:
    meta = '<article-id pub-id-type="pmcid">PMC123</article-id>'
    assert _read(tmp_path, _article("<p>x</p>", meta=meta)).id == "pmcid:PMC123"


META = (
    '<contrib-group><contrib contrib-type="author"><name><surname>Curie</surname>'
    "<given-names>Marie</given-names></name></contrib>"
    '<contrib contrib-type="author"><collab>EPIC Group<contrib-group><contrib>'
    "<name><surname>Member</surname></name></contrib></contrib-group></collab></contrib>"
    '<contrib contrib-type="editor"><name><surname>Editor</surname></name></contrib>'
    "</contrib-group>"
    '<pub-date pub-type="ppub"><year>2011</year></pub-date>'
    '<pub-date pub-type="epub"><day>2</day><month>11</month><year>2010</year></pub-date>'
    "<kwd-group><kwd>cohort</kwd><kwd>cancer</kwd></kwd-group>"
)


def test_authors_skip_editors_and_group_members(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>x</p>", meta=META))
    assert doc.authors == ("Curie, Marie", "EPIC Group")


def test_year_prefers_the_electronic_date(tmp_path: Path) -> None:
    assert _read(tmp_path, _article("<p>x</p>", meta=META)).year == 2010


def test_journal_keywords_and_article_type(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>x</p>", meta=META))
    assert (doc.journal, doc.keywords, doc.publication_types) == (
        "J Tests",
        ("cohort", "cancer"),
        ("research-article",),
    )


REFS = (
    "<ref-list><title>References</title>"
    '<ref id="r1"><label>1</label><mixed-citation>Smith J. Unique cited title. '
    "<source>J Test</source>. 2001.</mixed-citation></ref>"
    '<ref id="r2"><element-citation><person-group><name><surname>Locker</surname>'
    "<given-names>D</given-names></name></person-group><article-title>Measuring health"
    "</article-title><source>Community Dent Health</source><year>1988</year></element-citation>"
    "</ref></ref-list>"
)


def test_references_are_metadata(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>Body.</p>", back=REFS))
    assert doc.references == (
        "Smith J. Unique cited title. J Test. 2001.",
        "Locker D Measuring health Community Dent Health 1988",
    )


def test_references_are_not_body_text(tmp_path: Path) -> None:
    doc = _read(tmp_path, _article("<p>Body.</p>", back=REFS))
    assert doc.text == "Body."


# --- errors ----------------------------------------------------------------------------------


def test_truncated_xml_is_a_read_error_naming_the_file(tmp_path: Path) -> None:
    xml = _article(NESTED)[:-40]
    with pytest.raises(ReadError, match="malformed or truncated") as info:
        _read(tmp_path, xml, "cut.nxml")
    assert info.value.path == str(tmp_path / "cut.nxml")
    assert isinstance(info.value.__cause__, etree.XMLSyntaxError)


def test_empty_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"empty\.nxml"):
        _read(tmp_path, "", "empty.nxml")


def test_non_article_root_is_a_read_error(tmp_path: Path) -> None:
    xml = "<pmc-articleset><article/></pmc-articleset>"
    with pytest.raises(ReadError, match=r"XML root <pmc-articleset> is not a JATS <article>"):
        _read(tmp_path, xml)


def test_an_article_in_a_namespace_is_read(tmp_path: Path) -> None:
    xml = '<article xmlns="urn:example:jats"><body><p>Text.</p></body></article>'
    assert _read(tmp_path, xml).text == "Text."


def test_article_without_title_or_text_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="neither a title nor any text"):
        _read(tmp_path, _article(title=""))


def test_entity_bomb_is_refused(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE article [<!ENTITY a "lol">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        "<article><front><article-meta><title-group><article-title>&c;</article-title>"
        "</title-group></article-meta></front></article>"
    )
    with pytest.raises(ReadError, match="entities"):
        _read(tmp_path, xml)


def test_external_entity_is_refused_without_reading_it(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<article><front><article-meta><title-group><article-title>&xxe;</article-title>"
        "</title-group></article-meta></front><body><p>&xxe;</p></body></article>"
    )
    with pytest.raises(ReadError, match="entities") as info:
        _read(tmp_path, xml)
    assert "root:" not in str(info.value)


# --- the real PMC files ----------------------------------------------------------------------

# (pmid, pmcid, doi) as printed in each file's <article-meta>.
EXPECTED_IDS = {
    "1471-2180-11-174.nxml": ("21810267", "PMC3166277", "10.1186/1471-2180-11-174"),
    "1472-6831-8-11.nxml": ("18405359", "PMC2329613", "10.1186/1472-6831-8-11"),
    "6605965a.nxml": ("21045829", "PMC2994229", "10.1038/sj.bjc.6605965"),
    "cc11003.nxml": (None, "PMC3363814", "10.1186/cc11003"),
    "ehp-116-1694.nxml": ("19079722", "PMC2599765", "10.1289/ehp.11570"),
    "mds526.nxml": ("23149571", "PMC3574550", "10.1093/annonc/mds526"),
    "pntd.0002065.nxml": ("23469300", "PMC3585041", "10.1371/journal.pntd.0002065"),
    "pone.0000217.nxml": ("17299597", "PMC1790863", "10.1371/journal.pone.0000217"),
    "pone.0046493.nxml": ("23029536", "PMC3460867", "10.1371/journal.pone.0046493"),
}


def _pmc_dir() -> Path:
    if not PMC.is_dir():
        pytest.fail(f"the shared PMC samples are missing: expected them in {PMC}")
    return PMC


def _shared_file(name: str) -> Path:
    return _pmc_dir() / name


def _has_nested_secs(path: Path) -> bool:
    """Whether the file's body has a sec inside a sec (read independently of the reader)."""
    parser = etree.XMLParser(load_dtd=False, resolve_entities=False, no_network=True)
    return bool(etree.parse(path, parser).xpath("/article/body//sec/sec"))


@pytest.mark.integration
def test_all_shared_pmc_files_are_present() -> None:
    found = {p.name for p in _pmc_dir().glob("*.nxml")}
    assert found == set(EXPECTED_IDS)


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(EXPECTED_IDS))
def test_shared_pmc_file(name: str) -> None:
    path = _shared_file(name)
    docs = list(read_jats(path))
    assert len(docs) == 1
    doc = docs[0]
    assert (doc.pmid, doc.pmcid, doc.doi) == EXPECTED_IDS[name]
    assert doc.title
    assert doc.format == "jats"
    if doc.publication_types == ("research-article",):
        assert len(doc.sections) >= 2
    assert all(s.heading and s.text for s in doc.sections)
    assert doc.references
    leaked = [ref for ref in doc.references if ref in doc.text]
    assert not leaked
    assert any(" > " in h for h in _headings(doc)) == _has_nested_secs(path)


@pytest.mark.integration
def test_shared_plos_article_details() -> None:
    (doc,) = read_jats(_shared_file("pone.0046493.nxml"))
    assert doc.id == "pmid:23029536"
    assert "Materials and Methods > Chemicals" in _headings(doc)
    assert doc.text.count("Substrate specificity of recombinant Lip-HSL proteins.") == 1
