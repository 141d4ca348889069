"""The citation verifier: its weights file, its shape of answer, and the textbook cases with the
real embedder (a claim that restates the question and invents the rest, a copied sentence, a
paraphrase, a changed number, a flipped negation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from base.settings import AnswerSettings, EmbeddingSettings
from rag.answer.signals import SIGNALS, CitationForm, entities, numbers
from rag.answer.verify import WEIGHTS_FILE, Verifier, load_weights
from rag.index.embed.embedder import load_embedder

QUESTION = (
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?"
)
INVENTED = (
    "Patients with MDM2 amplification are at risk during immune checkpoint inhibitor therapy due "
    "to their increased susceptibility to chemotherapy side effects such as toxicity to other "
    "medications used to treat them."
)
TRIAL = (
    "In the phase III trial, 412 patients with metastatic melanoma were randomised to nivolumab "
    "plus ipilimumab or to ipilimumab alone. The objective response rate was 58% with the "
    "combination and 19% with ipilimumab alone. Grade 3 or 4 adverse events occurred in 55% of "
    "the patients who received the combination."
)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(load_embedder(EmbeddingSettings()), AnswerSettings())


@pytest.fixture(scope="module")
def abstract(shared: Path) -> str:
    """The abstract of PMID 38281981 (MDM2 and hyperprogressive disease) from the seed file."""
    seed = next(p for p in (shared / "corpus" / "seeds").iterdir() if "38281981" in p.read_text())
    return seed.read_text().split("ABSTRACT\n", 1)[1].split("\n", 1)[0]


def support(verifier: Verifier, claim: str, passage: str, question: str = "") -> bool:
    return verifier.verify([claim], [passage], question)[0][0].supported


def test_weights_name_the_signals_the_code_computes() -> None:
    doc = json.loads(WEIGHTS_FILE.read_text())
    assert doc["features"] == list(SIGNALS)
    assert len(doc["mean"]) == len(doc["scale"]) == len(doc["coef"]) == len(SIGNALS)
    assert {"data", "date"} <= set(doc["fitted"])


def test_the_settings_default_is_the_tuned_threshold() -> None:
    assert AnswerSettings().support_threshold == pytest.approx(load_weights().threshold)


def test_numbers_ignore_gene_names() -> None:
    assert numbers("p53 and IL-6 rose by 25.0% in 12 of 40 mice") == {"25", "12", "40"}


def test_entities_are_genes_and_acronyms() -> None:
    assert entities("MDM2 drives HPD via miR-211 in Patients") == {"mdm2", "hpd", "mir211"}


def test_one_verdict_per_claim_and_passage(verifier: Verifier) -> None:
    table = verifier.verify(["A.", "B."], ["One. Two.", "Three."])
    assert [len(row) for row in table] == [2, 2]


def test_no_passages_no_verdicts(verifier: Verifier) -> None:
    assert verifier.verify(["A claim."], []) == [[]]


def test_evidence_is_the_best_sentence(verifier: Verifier) -> None:
    verdict = verifier.verify(["The response rate was 58% with the combination."], [TRIAL])[0][0]
    a, b = verdict.evidence
    assert TRIAL[a:b].startswith("The objective response rate was 58%")
    assert set(SIGNALS) <= set(verdict.signals)
    assert 0.0 < verdict.support < 1.0


def test_passages_are_read_once(verifier: Verifier) -> None:
    first = verifier.passage_views([TRIAL])[0]
    assert verifier.passage_views([TRIAL, "Other."])[0] is first


def test_judge_moves_the_score(verifier: Verifier) -> None:
    claim = "The response rate was 58% with the combination."
    settings = AnswerSettings()
    embedder = verifier.embedder
    yes = Verifier(embedder, settings, judge=lambda c, p: 0.95).verify([claim], [TRIAL])[0][0]
    no = Verifier(embedder, settings, judge=lambda c, p: 0.05).verify([claim], [TRIAL])[0][0]
    assert yes.support > no.support
    assert yes.signals["judge"] == pytest.approx(0.95)


@pytest.mark.integration
def test_restated_question_with_invented_reason_is_not_supported(
    verifier: Verifier, abstract: str
) -> None:
    assert not support(verifier, INVENTED, abstract, QUESTION)


@pytest.mark.integration
def test_copied_sentence_is_supported(verifier: Verifier, abstract: str) -> None:
    copied = (
        "Patients who have MDM2 amplification are vulnerable to the development of "
        "hyperprogressive disease (HPD) following anticancer immunotherapy."
    )
    assert support(verifier, copied, abstract, QUESTION)


@pytest.mark.integration
def test_restated_question_with_the_abstract_reason_is_supported(
    verifier: Verifier, abstract: str
) -> None:
    answer = (
        "Patients with MDM2 amplification are at risk during immune checkpoint inhibitor therapy "
        "because they may develop hyperprogressive disease, which shortens survival."
    )
    assert support(verifier, answer, abstract, QUESTION)


@pytest.mark.integration
def test_paraphrase_is_supported(verifier: Verifier, abstract: str) -> None:
    paraphrase = (
        "Inhibitors of MDM2 can relieve the immune suppression that MDM2 causes in tumours."
    )
    assert support(verifier, paraphrase, abstract)


def test_number_kept_is_supported_number_changed_is_not(verifier: Verifier) -> None:
    kept = "The objective response rate was 58% with nivolumab plus ipilimumab."
    changed = "The objective response rate was 85% with nivolumab plus ipilimumab."
    verdicts = verifier.verify([kept, changed], [TRIAL])
    assert verdicts[0][0].supported
    assert not verdicts[1][0].supported


@pytest.mark.integration
def test_negation_flipped_is_not_supported(verifier: Verifier, abstract: str) -> None:
    flipped = (
        "Patients who have MDM2 amplification are not vulnerable to the development of "
        "hyperprogressive disease following anticancer immunotherapy."
    )
    assert not support(verifier, flipped, abstract)


def test_a_fragment_that_asserts_nothing_is_not_supported(verifier: Verifier) -> None:
    # Session 5's hand check: "3." scored 0.86 against a passage with a "3" in it, and was kept.
    passage = "Results: 3. The objective response rate was 58% in 3 of 5 cohorts."
    claims = ["3.", "But when you need", "The objective response rate was 58%."]
    table = verifier.verify(claims, [passage])
    assert [row[0].supported for row in table] == [False, False, True]
    assert table[0][0].support == table[1][0].support == 0.0


def test_support_is_a_probability_for_every_pair(verifier: Verifier) -> None:
    table = verifier.verify(["The trial randomised 412 patients.", "Mice grew wings."], [TRIAL])
    scores = np.array([[v.support for v in row] for row in table])
    assert ((scores > 0) & (scores < 1)).all()
    assert scores[0, 0] > scores[1, 0]


def test_a_sentence_citing_several_sources_needs_more_from_each(verifier: Verifier) -> None:
    """The citation's form is a signal: one source alone carries a synthesis of several less
    often (Citation-Integrity train), so the same sentence cited with others scores lower."""
    claim = "The objective response rate was 58% with the combination."
    plain, shared, apart = (
        verifier.verify([claim], [TRIAL], forms=[form])[0][0]
        for form in (CitationForm(), CitationForm(with_others=True), CitationForm(others=True))
    )
    assert plain.supported
    assert shared.support < plain.support
    assert plain.signals["cited_with_others"] == 0 and shared.signals["cited_with_others"] == 1
    assert apart.signals["cites_others"] == 1  # its weight is fitted: a clause judged alone
