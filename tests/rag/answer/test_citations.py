"""Citation markers and the closed loop: one assertion per edge case.

Parsing needs no model. The closed-loop tests use the real embedder (small, local): the support
check is what they show.
"""

from __future__ import annotations

import pytest

from base.settings import AnswerSettings, EmbeddingSettings
from rag.answer.citations import (
    Claim,
    citation_form,
    close_loop,
    expand_marker,
    parse_answer,
    split_sentences,
    strip_markers,
)
from rag.answer.records import Source
from rag.answer.signals import CitationForm
from rag.answer.verify import Verifier
from rag.index.embed.embedder import load_embedder


def test_unknown_marker_is_dropped() -> None:
    assert parse_answer("MDM2 drives HPD [9].", valid=3)[0].cited == ()


def test_repeated_marker_counts_once() -> None:
    assert parse_answer("MDM2 drives HPD [1][1] [1].", valid=3)[0].cited == (1,)


def test_marker_inside_a_word_is_removed_and_the_word_rejoined() -> None:
    assert strip_markers("immuno[1]therapy works.", 3) == ("immunotherapy works.", (1,))


def test_no_markers_cite_nothing() -> None:
    assert parse_answer("MDM2 drives HPD.", valid=3)[0].cited == ()


def test_marker_lists_and_ranges() -> None:
    assert expand_marker("1, 3-5") == [1, 3, 4, 5]


def test_marker_after_the_full_stop_stays_with_its_sentence() -> None:
    claims = parse_answer("MDM2 drives HPD. [2] TP53 is a tumour suppressor [1].", valid=3)
    assert [c.cited for c in claims] == [(2,), (1,)]


def test_lone_marker_sentence_joins_the_previous_one() -> None:
    assert [c.cited for c in parse_answer("MDM2 drives HPD.\n\n[2]", valid=3)] == [(2,)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Drugs, e.g. nivolumab, were used. Vs. placebo nothing changed."
    assert len(split_sentences(text)) == 2


def test_list_numbers_and_bullets_are_formatting_not_sentences() -> None:
    text = "Criteria:\n\n1. MDM2 drives HPD [1].\n2. TP53 is a suppressor.\n* Nivolumab was used."
    claims = parse_answer(text, valid=3)
    assert [c.text for c in claims] == [
        "Criteria:", "MDM2 drives HPD.", "TP53 is a suppressor.", "Nivolumab was used."
    ]  # fmt: skip
    assert claims[1].cited == (1,)


def test_marker_text_is_removed_from_the_sentence() -> None:
    assert parse_answer("MDM2 drives HPD [1, 2].", valid=3)[0].text == "MDM2 drives HPD."


PASSAGES = [
    "Patients with MDM2 amplification are vulnerable to hyperprogressive disease after "
    "immunotherapy. This shortens survival.",
    "The tumour microenvironment consists of immune cells, fibroblasts and extracellular matrix.",
    "Bananas are rich in potassium.",
]
SOURCES = [Source(n, f"pmid:{n}", f"Paper {n}", "Abstract", p, 0.0, str(n)) for n, p in
           enumerate(PASSAGES, start=1)]  # fmt: skip


@pytest.fixture(scope="module")
def checker() -> Verifier:
    """A verifier that flags unsupported sentences instead of removing them."""
    return Verifier(load_embedder(EmbeddingSettings()), AnswerSettings(remove_unsupported=False))


def test_citations_are_renumbered_in_order_of_first_use(checker: Verifier) -> None:
    claims = [Claim("The microenvironment holds fibroblasts and immune cells.", (2,)),
              Claim("MDM2 amplification makes hyperprogressive disease likely.", (1,))]  # fmt: skip
    _, _, citations, _ = close_loop(claims, SOURCES, checker)
    assert [(c.n, c.source.pmid) for c in citations] == [(1, "2"), (2, "1")]


def test_answer_text_carries_the_new_numbers(checker: Verifier) -> None:
    claims = [Claim("The microenvironment holds fibroblasts and immune cells.", (2,))]
    assert close_loop(claims, SOURCES, checker)[0].endswith("immune cells [1].")


def test_citation_list_holds_only_used_sources(checker: Verifier) -> None:
    claims = [Claim("MDM2 amplification makes hyperprogressive disease likely.", (1,))]
    assert [c.source.pmid for c in close_loop(claims, SOURCES, checker)[2]] == ["1"]


def test_supported_citation(checker: Verifier) -> None:
    claims = [Claim("MDM2 amplification makes hyperprogressive disease likely.", (1,))]
    assert close_loop(claims, SOURCES, checker)[2][0].supported


def test_wrong_citation_is_flagged_unsupported(checker: Verifier) -> None:
    claims = [Claim("MDM2 amplification makes hyperprogressive disease likely.", (3,))]
    assert not close_loop(claims, SOURCES, checker)[2][0].supported


def test_evidence_is_the_best_sentence_of_the_passage(checker: Verifier) -> None:
    claims = [Claim("Survival is shorter.", (1,))]
    assert close_loop(claims, SOURCES, checker)[2][0].evidence == "This shortens survival."


def test_uncited_sentence_gets_the_source_that_supports_it(checker: Verifier) -> None:
    claims = [Claim("The tumour microenvironment includes fibroblasts.", ())]
    assert close_loop(claims, SOURCES, checker)[1][0].citations == (1,)


def test_an_uncited_sentence_needs_the_attach_threshold(checker: Verifier) -> None:
    claims = [Claim("The tumour microenvironment includes fibroblasts.", ())]  # 0.885 to source 2
    strict = Verifier(checker.embedder, AnswerSettings(remove_unsupported=False,
                                                       attach_threshold=0.95))  # fmt: skip
    sentence = close_loop(claims, SOURCES, strict)[1][0]
    assert (sentence.citations, sentence.supported) == ((), False)


def test_unsupported_uncited_sentence_stays_uncited_and_flagged(checker: Verifier) -> None:
    claims = [Claim("The 2018 World Cup was won by France.", ())]
    sentence = close_loop(claims, SOURCES, checker)[1][0]
    assert (sentence.citations, sentence.supported) == ((), False)


def test_sentences_keep_their_paragraphs(checker: Verifier) -> None:
    claims = parse_answer(
        "MDM2 amplification makes hyperprogressive disease likely [1].\n\n"
        "The microenvironment holds fibroblasts and immune cells [2].",
        valid=3,
    )
    answer, sentences, _, _ = close_loop(claims, SOURCES, checker)
    assert [s.paragraph for s in sentences] == [0, 1] and "likely [1].\n\nThe micro" in answer


def test_unsupported_sentences_are_removed_by_default() -> None:
    strict = Verifier(load_embedder(EmbeddingSettings()), AnswerSettings())
    claims = [Claim("MDM2 amplification makes hyperprogressive disease likely.", (1,)),
              Claim("The 2018 World Cup was won by France.", (1,))]  # fmt: skip
    answer, sentences, _, removed = close_loop(claims, SOURCES, strict)
    assert [s.text for s in sentences] == [claims[0].text]
    assert [(r.text, r.cited) for r in removed] == [(claims[1].text, (1,))]
    assert "World Cup" not in answer and removed[0].support < strict.settings.support_threshold


def test_passage_memory_keeps_what_is_asked_for(
    checker: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: a passage seen long ago, asked for again with new ones, was evicted mid-call.
    monkeypatch.setattr("rag.answer.verify._REMEMBERED", 2)
    old, a, b, c = "Old passage. Two.", "First new.", "Second new.", "Third new."
    checker.passage_views([old])
    checker.passage_views([a, b])
    assert len(checker.passage_views([old, a, b, c])) == 4


def test_the_citation_form_of_a_sentence() -> None:
    plain = citation_form("Drug X lowers blood pressure [1].", 3)
    assert plain == CitationForm()
    assert citation_form("Drug X lowers blood pressure [1, 2].", 3).with_others
    assert citation_form("Drug X lowers blood pressure [1][2].", 3).with_others  # one group
    apart = citation_form("Drug X lowers blood pressure [1] and heart rate [2].", 3)
    assert apart == CitationForm(with_others=False, others=True)
    assert citation_form("Drug X works [1] in mice [7].", 3) == plain  # [7] names no source
    assert parse_answer("Drug X works [1, 2]. It is safe [3].", 3)[0].form.with_others


def test_markers_apart_give_each_source_its_own_clause() -> None:
    text = (
        "MDM2 amplification makes hyperprogression likely [1], while fibroblasts shape the "
        "tumour microenvironment [2]."
    )
    (claim,) = parse_answer(text, 3)
    assert claim.clauses == (
        (1, "MDM2 amplification makes hyperprogression likely"),
        (2, "while fibroblasts shape the tumour microenvironment"),
    )
    # "and rats" is too short to judge alone: source 2 is judged on the whole sentence.
    assert parse_answer("X acts in mice [1] and rats [2].", 3)[0].clauses == (
        (1, "X acts in mice"),
    )
    assert parse_answer("MDM2 drives HPD in humans [1, 2].", 3)[0].clauses == ()  # one marker


def test_each_source_is_judged_on_its_own_clause(checker: Verifier) -> None:
    text = (
        "Patients with MDM2 amplification are vulnerable to hyperprogressive disease after "
        "immunotherapy [1], and the tumour microenvironment consists of immune cells, "
        "fibroblasts and extracellular matrix [2]."
    )
    _, sentences, citations, _ = close_loop(parse_answer(text, 3), SOURCES, checker)
    assert sentences[0].supported
    assert [c.supported for c in citations] == [True, True]
