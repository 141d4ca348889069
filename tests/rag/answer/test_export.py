from __future__ import annotations

import json
import re

import pytest

from base.errors import ConfigError
from corpus.model import Document, Section, build_document
from rag.answer.export import (
    FORMATS,
    Name,
    bibtex_escape,
    citation_keys,
    export,
    parse_name,
    to_bibtex,
    to_csljson,
    to_ris,
)


def paper(**metadata: object) -> Document:
    """A small document; any field can be overridden."""
    fields: dict[str, object] = {
        "title": "MDM2 amplification and hyperprogressive disease under checkpoint inhibitors",
        "sections": [Section("Abstract", "Some patients progress fast.")],
        "source_path": "fixture.xml",
        "format": "pubmed",
    }
    fields.update(metadata)
    return build_document(**fields)  # type: ignore[arg-type]


REALISTIC = paper(
    pmid="38281981",
    pmcid="PMC10823601",
    doi="10.1186/s12929-024-01001-2",
    authors=("Sun, Dantong", "Qian, Haili", "Müller JA", "RECOVERY Collaborative Group"),
    journal="Journal of biomedical science",
    year=2024,
    mesh_terms=("Humans", "Carcinoma, Non-Small-Cell Lung"),
    keywords=("immunotherapy", "humans"),
)

EXPECTED_BIBTEX = """\
@article{sun2024mdm2,
  title = {{MDM2 amplification and hyperprogressive disease under checkpoint inhibitors}},
  author = {Sun, Dantong and Qian, Haili and Müller, J. A. and {RECOVERY Collaborative Group}},
  journal = {Journal of biomedical science},
  year = {2024},
  doi = {10.1186/s12929-024-01001-2},
  pmid = {38281981},
  pmcid = {PMC10823601},
  url = {https://pubmed.ncbi.nlm.nih.gov/38281981/},
  keywords = {Humans, {Carcinoma, Non-Small-Cell Lung}, immunotherapy}
}
"""


def parse_ris(text: str) -> list[list[tuple[str, str]]]:
    """RIS records as lists of (tag, value) pairs, read the way reference managers do."""
    records: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line:
            continue
        tag, sep, value = line.partition("  - ")
        assert sep, line
        current.append((tag, value))
        if tag == "ER":
            records.append(current)
            current = []
    assert not current, "record without ER"
    return records


# --- names ----------------------------------------------------------------------------------


def test_name_surname_comma_given() -> None:
    assert parse_name("Smith, John A") == Name(family="Smith", given="John A")


def test_name_medline_initial() -> None:
    assert parse_name("Smith J") == Name(family="Smith", given="J.")


def test_name_medline_initials() -> None:
    assert parse_name("Smith JA") == Name(family="Smith", given="J. A.")


def test_name_hyphenated_initials() -> None:
    assert parse_name("Dupont J-P") == Name(family="Dupont", given="J.-P.")


def test_name_given_first() -> None:
    assert parse_name("John A Smith") == Name(family="Smith", given="John A")


def test_name_particle_stays_with_family() -> None:
    assert parse_name("Ludwig van Beethoven") == Name(family="van Beethoven", given="Ludwig")


def test_name_medline_suffix_not_taken_for_initials() -> None:
    assert parse_name("Smith JA III") == Name(family="Smith", given="J. A.", suffix="III")


def test_name_suffix_after_full_given_name() -> None:
    assert parse_name("Smith, John A Jr") == Name(family="Smith", given="John A", suffix="Jr")


def test_bibtex_suffix_in_jr_position() -> None:
    assert "author = {Smith, Jr, John A}" in to_bibtex([paper(authors=("Smith, John A Jr",))])


def test_ris_suffix_last() -> None:
    assert ("AU", "Smith, John A, Jr") in parse_ris(to_ris([paper(authors=("Smith, John A Jr",))]))[
        0
    ]


def test_csljson_suffix() -> None:
    item = json.loads(to_csljson([paper(authors=("Smith JA Jr",))]))[0]
    assert item["author"] == [{"family": "Smith", "given": "J. A.", "suffix": "Jr"}]


def test_name_organization_keeps_numeral() -> None:
    assert parse_name("ACCORD Study Group II") == Name(literal="ACCORD Study Group II")


def test_name_single_word_is_literal() -> None:
    assert parse_name("WHO") == Name(literal="WHO")


def test_name_organization_is_literal() -> None:
    assert parse_name("COVID-19 Genomics UK Consortium") == Name(
        literal="COVID-19 Genomics UK Consortium"
    )


# --- BibTeX ---------------------------------------------------------------------------------


def test_bibtex_realistic_entry() -> None:
    assert to_bibtex([REALISTIC]) == EXPECTED_BIBTEX


def test_bibtex_escapes_ampersand() -> None:
    assert bibtex_escape("R&D") == r"R\&D"


def test_bibtex_escapes_percent() -> None:
    assert bibtex_escape("50% fewer") == r"50\% fewer"


def test_bibtex_escapes_underscore() -> None:
    assert bibtex_escape("gene_id") == r"gene\_id"


def test_bibtex_escapes_open_brace_keeping_braces_balanced() -> None:
    assert bibtex_escape("a{b") == r"a\textbraceleft{}b"


def test_bibtex_escapes_close_brace_keeping_braces_balanced() -> None:
    assert bibtex_escape("a}b") == r"a\textbraceright{}b"


def test_bibtex_escapes_backslash_once() -> None:
    assert bibtex_escape("a\\b") == r"a\textbackslash{}b"


def test_bibtex_keeps_non_ascii() -> None:
    assert bibtex_escape("Müller β-cells") == "Müller β-cells"


def test_bibtex_title_escaped_and_protected() -> None:
    entry = to_bibtex([paper(title="p53 & $TP53$ in 5% of #cases_x ~ ^", year=2020)])
    assert (
        r"title = {{p53 \& \$TP53\$ in 5\% of \#cases\_x \textasciitilde{} \textasciicircum{}}}"
        in entry
    )


def test_bibtex_braces_balanced_in_hostile_record() -> None:
    entry = to_bibtex([paper(title="a { b } } c \\", authors=("Smith {J}",))])
    assert entry.count("{") == entry.count("}")


def test_bibtex_doi_url_for_paper_without_pmid() -> None:
    entry = to_bibtex([paper(doi="10.1000/abc_1<2>", authors=("Smith J",), year=2020)])
    assert "url = {https://doi.org/10.1000/abc_1%3C2%3E}" in entry


def test_same_author_year_word_get_suffixed_keys() -> None:
    one = paper(pmid="1", authors=("Smith J",), year=2020, title="Asthma in children")
    two = paper(pmid="2", authors=("Smith, Jane",), year=2020, title="The asthma paradox")
    assert citation_keys([one, two]) == ["smith2020asthmaa", "smith2020asthmab"]


def test_unique_keys_appear_in_bibtex() -> None:
    one = paper(pmid="1", authors=("Smith J",), year=2020, title="Asthma in children")
    two = paper(pmid="2", authors=("Smith J",), year=2020, title="Asthma in adults")
    bib = to_bibtex([one, two])
    assert re.findall(r"@article\{([^,]+),", bib) == ["smith2020asthmaa", "smith2020asthmab"]


def test_suffix_does_not_collide_with_existing_key() -> None:
    docs = [
        paper(pmid="1", authors=("Smith J",), year=2020, title="Asthma"),
        paper(pmid="2", authors=("Smith J",), year=2020, title="Asthma"),
        paper(pmid="3", authors=("Smith J",), year=2020, title="Asthmaa"),
    ]
    assert len(set(citation_keys(docs))) == 3


def test_key_folds_accents() -> None:
    assert citation_keys([paper(authors=("Ørsted-Müller, Å",), year=2001)]) == [
        "orstedmuller2001mdm2"
    ]


def test_key_falls_back_to_pmid_without_authors() -> None:
    assert citation_keys([paper(pmid="38281981")]) == ["pmid38281981"]


def test_key_falls_back_to_sanitized_id() -> None:
    assert citation_keys([paper(doi="10.1000/x(y)")]) == ["doi:10.1000-x-y"]


def test_bibtex_without_authors_or_year_still_exports() -> None:
    assert to_bibtex([paper(title="Untitled note")]).startswith("@article{hash:")


# --- RIS ------------------------------------------------------------------------------------


def test_ris_tags_round_trip() -> None:
    assert parse_ris(to_ris([REALISTIC])) == [
        [
            ("TY", "JOUR"),
            ("TI", REALISTIC.title),
            ("AU", "Sun, Dantong"),
            ("AU", "Qian, Haili"),
            ("AU", "Müller, J. A."),
            ("AU", "RECOVERY Collaborative Group"),
            ("T2", "Journal of biomedical science"),
            ("PY", "2024"),
            ("DO", "10.1186/s12929-024-01001-2"),
            ("AN", "38281981"),
            ("UR", "https://pubmed.ncbi.nlm.nih.gov/38281981/"),
            ("KW", "Humans"),
            ("KW", "Carcinoma, Non-Small-Cell Lung"),
            ("KW", "immunotherapy"),
            ("ER", ""),
        ]
    ]


def test_ris_records_separated_by_blank_line() -> None:
    assert "ER  - \n\nTY  - JOUR" in to_ris([REALISTIC, REALISTIC])


def test_ris_value_newlines_squashed() -> None:
    assert ("TI", "Two lines") in parse_ris(to_ris([paper(title="Two\nlines")]))[0]


def test_ris_without_authors_or_year_still_exports() -> None:
    assert parse_ris(to_ris([paper(title="Untitled note")])) == [
        [("TY", "JOUR"), ("TI", "Untitled note"), ("ER", "")]
    ]


# --- CSL-JSON -------------------------------------------------------------------------------


def test_csljson_realistic_item() -> None:
    assert json.loads(to_csljson([REALISTIC])) == [
        {
            "id": "sun2024mdm2",
            "type": "article-journal",
            "title": REALISTIC.title,
            "author": [
                {"family": "Sun", "given": "Dantong"},
                {"family": "Qian", "given": "Haili"},
                {"family": "Müller", "given": "J. A."},
                {"literal": "RECOVERY Collaborative Group"},
            ],
            "container-title": "Journal of biomedical science",
            "issued": {"date-parts": [[2024]]},
            "DOI": "10.1186/s12929-024-01001-2",
            "PMID": "38281981",
            "PMCID": "PMC10823601",
            "URL": "https://pubmed.ncbi.nlm.nih.gov/38281981/",
            "keyword": "Humans, Carcinoma, Non-Small-Cell Lung, immunotherapy",
        }
    ]


def test_csljson_ids_match_bibtex_keys() -> None:
    docs = [REALISTIC, paper(pmid="5", authors=("Sun D",), year=2024)]
    ids = [item["id"] for item in json.loads(to_csljson(docs))]
    assert ids == citation_keys(docs)


def test_csljson_without_authors_or_year_still_exports() -> None:
    assert json.loads(to_csljson([paper(pmid="7", title="Untitled note")])) == [
        {
            "id": "pmid7",
            "type": "article-journal",
            "title": "Untitled note",
            "PMID": "7",
            "URL": "https://pubmed.ncbi.nlm.nih.gov/7/",
        }
    ]


def test_csljson_keeps_non_ascii_unescaped() -> None:
    assert "Müller" in to_csljson([REALISTIC])


# --- dispatch -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_dispatches_each_format(fmt: str) -> None:
    writer = {"bibtex": to_bibtex, "ris": to_ris, "csljson": to_csljson}[fmt]
    assert export([REALISTIC], fmt) == writer([REALISTIC])


def test_export_unknown_format_names_it_and_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"'endnote'.*bibtex, ris, csljson"):
        export([REALISTIC], "endnote")


def test_export_empty_list_is_empty_bibtex() -> None:
    assert export([], "bibtex") == ""
