"""The PDF reader on real articles (../shared/corpus/pdf), checked against what they print.

Each row: the title exactly as the publisher's XML gives it, its DOI and year, the first words
of the abstract, and a sentence from the middle of the body with the page it is printed on
(checked by hand against PDFium's raw page text).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.model import Document
from corpus.pdf import read_pdf

# (file, title, DOI, year, abstract start, body sentence, its page)
ARTICLES = [
    (
        "bmc-trials-15-511.pdf",
        "A core outcome set for clinical trials on non-specific low back pain: study protocol "
        "for the development of a core domain set",
        "10.1186/1745-6215-15-511", 2014,
        "Background: Low back pain (LBP) is one of",
        "Only researchers with a retrievable email address were selected for invitation to the "
        "Delphi procedure.", 5,
    ),
    (
        "cproject-PMC4417228.pdf",
        "Landscape ethnoecological knowledge base and management of ecosystem services in a "
        "Székely-Hungarian pre-capitalistic village system (Transylvania, Romania)",
        "10.1186/1746-4269-11-3", 2015,
        "Background: Previous studies showed an in-depth ecological understanding",
        "In some places, stubble fields, in others, fallows, and in most cases, forest cattle "
        "pastures were protected from sheep (Table 4, entry 17).", 8,
    ),
    (
        "f1000-3-190.pdf",
        "Longevity of Atlantic Sharpnose Sharks Rhizoprionodon terraenovae and Blacknose Sharks "
        "Carcharhinus acronotus in the western North Atlantic Ocean based on tag-recapture data "
        "and direct age estimates",
        "10.12688/f1000research.4767.2", 2015,
        "Longevity of Rhizoprionodon terraenovae and Carcharhinus acronotus in",
        "The rearranged VBGF gives an estimate of average age-at-length based on parameter "
        "estimates.", 5,
    ),
    (
        "frontiers-fpsyg-05-01582.pdf",
        "Tracking the evolutionary origins of dog-human cooperation: the “Canine Cooperation "
        "Hypothesis”",
        "10.3389/fpsyg.2014.01582", 2015,
        "At present, beyond the fact that dogs can",
        "The species belonging here are characterized as having a steep dominance gradient and "
        "a low tolerance level.", 7,
    ),
    (
        "hindawi-PMC4657150.pdf",
        "Induction of Expression of p75 Neurotrophin Receptor Intracellular Domain Does Not "
        "Induce Expression or Enhance Activity of Mitochondrial Complex II",
        "10.1155/2016/8752821", 2016,
        "Fenretinide is a chemotherapeutic agent in clinical trials",
        "We next asked whether induction of expression of p75ICD in NIH 3T3 cells alters "
        "expression of the four subunits of Complex II.", 2,
    ),
    (
        "hindawi-PMC4686705.pdf",
        "Synaptosomal Protein of 25 kDa (Snap25) Polymorphisms Associated with Glycemic "
        "Parameters in Type 2 Diabetes Patients",
        "10.1155/2016/8943092", 2016,
        "A possible role of Snap25 polymorphisms in type",
        "All numerical scores resulted in being normally distributed, and they were shown as "
        "mean and standard deviation (SD).", 2,
    ),
    (
        "hindawi-PMC4706923.pdf",
        "Small-Bowel Neoplasms: Role of MRI Enteroclysis",
        "10.1155/2016/9686815", 2016,
        "Small-bowel neoplasms are the 3%–6% of all gastrointestinal",
        "Malignant neoplasms were diagnosed in 17 cases: 3 adenocarcinomas, 6 lymphomas, "
        "3 small-bowel metastases, 1 neuroendocrine tumor, and 4 GIST.", 2,
    ),
    (
        "hindawi-PMC4709779.pdf",
        "Autologous Fat Grafting Reduces Pain in Irradiated Breast: A Review of Our Experience",
        "10.1155/2016/2527349", 2016,
        "Introduction. Pain syndromes affect women after conservative and",
        "This inflammatory reaction can induce peripheral and central sensitization with a "
        "failed nociception system leading to pain augmentation.", 3,
    ),
    (
        "hindawi-PMC4735909.pdf",
        "Spectrum of Intracerebral Hemorrhage in Children: A Report from PICU of a Resource "
        "Limited Country",
        "10.1155/2016/9124245", 2016,
        "Intracerebral hemorrhage (ICH) in children is a rare",
        "Seven cases (14%) were due to vascular malformation, 6 cases were due to AVM, and one "
        "case was due to an aneurysm.", 2,
    ),
    (
        "hindawi-PMC4736598.pdf",
        "Bilateral Neck of Femur Fractures in a Bilateral Below-Knee Amputee: A Unique Case",
        "10.1155/2016/7083671", 2016,
        "According to the National Hip Fracture Database, over",
        "These included not crossing the legs or flexing the hip joint to more than 90 "
        "degrees.", 2,
    ),
    (
        "hindawi-PMC4739260.pdf",
        "Manipulation of P2X Receptor Activities by Light Stimulation",
        "10.1155/2016/7852168", 2016,
        "P2X receptors are involved in amplification of inflammatory",
        "Indeed, 365 nm light precisely opened the channel within a short temporal range, "
        "reaching maximal current in almost 1 second.", 3,
    ),
    (
        "hindawi-PMC4745336.pdf",
        "Prevention of Mother-to-Child Transmission of HIV/AIDS: Perception of Health Care "
        "Workers in Rural Areas of Oyo State",
        "10.1155/2016/4257180", 2016,
        "Introduction. Proper implementation of prevention of mother-to-child transmission",
        "Though the knowledge about PMTCT was poor among the respondents, the majority have a "
        "good attitude towards PMTCT.", 3,
    ),
    (
        "mdpi-metabolites-04-00932.pdf",
        "Volatile Metabolite Profiling of Durum Wheat Kernels Contaminated by Fusarium poae",
        "10.3390/metabo4040932", 2014,
        "Volatile metabolites from mold contamination have been proposed",
        "All vials (FT and CT) were plugged with sterile cotton stoppers and were incubated at "
        "23 °C in the dark for 1, 2, 5 and 7 days.", 10,
    ),
    (
        "plos-pone.0115884.pdf",
        "A Novel Reproductive Mode in Frogs: A New Species of Fanged Frog with Internal "
        "Fertilization and Birth of Tadpoles",
        "10.1371/journal.pone.0115884", 2014,
        "We describe a new species of fanged frog",
        "In several instances, we discovered tadpoles in the oviducts while preparing "
        "specimens.", 10,
    ),
]  # fmt: skip
NAMES = [row[0] for row in ARTICLES]


@pytest.fixture(scope="module")
def papers(shared: Path) -> dict[str, Document]:
    folder = shared / "corpus/pdf"
    found = sorted(p.name for p in folder.glob("*.pdf"))
    assert set(NAMES) <= set(found), f"{folder} lacks {sorted(set(NAMES) - set(found))}"
    return {name: next(read_pdf(folder / name)) for name in NAMES}


@pytest.mark.parametrize(("name", "title"), [(row[0], row[1]) for row in ARTICLES])
def test_title_is_the_printed_one(papers: dict[str, Document], name: str, title: str) -> None:
    assert papers[name].title == title


@pytest.mark.parametrize(("name", "doi", "year"), [(r[0], r[2], r[3]) for r in ARTICLES])
def test_doi_and_year(papers: dict[str, Document], name: str, doi: str, year: int) -> None:
    doc = papers[name]
    assert (doc.doi, doc.id, doc.year) == (doi, f"doi:{doi}", year)


@pytest.mark.parametrize(("name", "start"), [(row[0], row[4]) for row in ARTICLES])
def test_abstract_starts_with_its_first_words(
    papers: dict[str, Document], name: str, start: str
) -> None:
    abstract = next(s for s in papers[name].sections if s.heading == "Abstract")
    assert abstract.text.startswith(start)


@pytest.mark.parametrize(("name", "sentence", "page"), [(r[0], r[5], r[6]) for r in ARTICLES])
def test_body_sentence_is_whole_and_on_its_page(
    papers: dict[str, Document], name: str, sentence: str, page: int
) -> None:
    [(section, offset)] = [
        (s, m.start())
        for s in papers[name].sections
        for m in re.finditer(re.escape(sentence), s.text)
    ]
    assert section.page_at(offset) == page


def test_running_headers_footers_and_page_numbers_are_gone(papers: dict[str, Document]) -> None:
    plos, bmc = papers["plos-pone.0115884.pdf"].text, papers["bmc-trials-15-511.pdf"].text
    hindawi = papers["hindawi-PMC4657150.pdf"].text
    assert "PLOS ONE |" not in plos and "A New Tadpole-Bearing Frog" not in plos
    assert "Page 3 of" not in bmc and "trialsjournal.com" not in bmc
    assert "Oxidative Medicine and Cellular Longevity" not in hindawi
    assert "lower border of middle tube" not in plos or "tube A New" not in plos


def test_words_keep_their_spaces(papers: dict[str, Document]) -> None:
    text = papers["hindawi-PMC4657150.pdf"].text
    assert "most deadly cancers of childhood. Fenretinide induces apoptosis in" in text


def test_real_compounds_keep_their_hyphen_across_a_line_break(
    papers: dict[str, Document],
) -> None:
    assert "freeliving" not in papers["plos-pone.0115884.pdf"].text
    assert "selfgoverned" not in papers["cproject-PMC4417228.pdf"].text
    assert "self-governed communities" in papers["cproject-PMC4417228.pdf"].text


def test_broken_words_are_joined(papers: dict[str, Document]) -> None:
    plos = papers["plos-pone.0115884.pdf"].text
    assert "reproduction in any medium" in plos and "repro-duction" not in plos


@pytest.mark.parametrize("name", NAMES)
def test_no_page_number_at_a_page_break(papers: dict[str, Document], name: str) -> None:
    for section in papers[name].sections:
        for offset, page in section.pages:
            before, after = section.text[:offset].rstrip(), section.text[offset:]
            assert not re.search(rf"(?:^|\s){page - 1}$", before), (section.heading, page)
            assert not re.match(rf"{page}\s", after), (section.heading, page)
