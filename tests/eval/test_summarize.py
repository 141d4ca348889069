"""score_answer and summarize: hand-made results with figures worked out by hand, and the
summaries the dict-based runner wrote (fixtures/runs, see test_records.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldQuestion
from eval.records import Answered, AnswerScores, LabelChoice, Result, RunConfig, Stamp, Summary
from eval.summarize import score_answer, summarize
from rag.answer.records import Timings

RUNS = Path(__file__).parent / "fixtures" / "runs"
STAMP = Stamp("fp", "model", "extractive", "abc", "gold.json", "pubmedqa", "2026-01-01T00:00:00")
PUBMEDQA = RunConfig("pubmedqa", "gold.json", "index", mode="extractive")


def cite(supported: bool) -> dict[str, object]:
    return {"n": 1, "doc_id": "pmid:1", "supported": supported}


def result(
    n: int,
    gold: tuple[str, ...],
    retrieved: tuple[str, ...],
    choice: tuple[str, str] | None = None,
    cited: tuple[str, ...] = (),
    supported: tuple[bool, ...] = (),
    abstained: bool = False,
    total_ms: float = 100.0,
    scores: AnswerScores = AnswerScores(),  # noqa: B008 (frozen: shared safely)
) -> Result:
    answered = Answered(
        answer="text", abstained=abstained, citations=tuple(cite(s) for s in supported),
        cited_ids=cited, warnings=(), timings=Timings(total_ms=total_ms), scores=scores,
    )  # fmt: skip
    label = LabelChoice(choice[0], choice[1], {}) if choice else None
    return Result(str(n), "q?", "yesno", gold, retrieved, float(10 * n), choice=label,
                  answered=answered)  # fmt: skip


# Three questions: labels yes->yes, no->yes, yes->yes; the third has no gold document.
HAND = [
    result(1, ("a",), ("a", "b"), ("yes", "yes"), cited=("a", "b"), supported=(True, False),
           total_ms=100.0, scores=AnswerScores(rouge_l=0.5)),
    result(2, ("c", "d"), ("b", "c"), ("no", "yes"), cited=(), abstained=True, total_ms=300.0,
           scores=AnswerScores(rouge_l=0.25, exact_lenient=1.0)),
    result(3, (), ("e",), ("yes", "yes"), cited=("e",), supported=(True,), total_ms=200.0),
]  # fmt: skip


@pytest.fixture(scope="module")
def hand() -> Summary:
    return summarize(HAND, PUBMEDQA, STAMP)


def test_retrieval_over_questions_with_gold(hand: Summary) -> None:
    # Question 3 has no gold: means over 1 and 2. recall@1: (1 + 0) / 2; recall@5: (1 + 1/2) / 2;
    # MRR@10: (1 + 1/2) / 2.
    assert hand.retrieval is not None
    assert (hand.retrieval["recall@1"], hand.retrieval["recall@5"], hand.retrieval["mrr@10"]) == (
        0.5, 0.75, 0.75,
    )  # fmt: skip


def test_label_figures(hand: Summary) -> None:
    # gold yes, no, yes; predicted yes, yes, yes. yes: P 2/3, R 1, F1 0.8; no: F1 0.
    assert hand.answers is not None and hand.answers.confusion is not None
    assert (hand.answers.accuracy, hand.answers.macro_f1) == (0.6667, 0.4)
    assert (hand.answers.majority_label, hand.answers.majority_accuracy) == ("yes", 0.6667)
    assert hand.answers.confusion.labels == ("yes", "no")
    assert hand.answers.confusion.matrix == ((2, 0), (1, 0))


def test_answer_scores_average_over_the_answers_that_have_them(hand: Summary) -> None:
    assert hand.answers is not None
    assert (hand.answers.rouge_l, hand.answers.exact_lenient, hand.answers.list_recall) == (
        0.375, 1.0, None,
    )  # fmt: skip


def test_citation_figures(hand: Summary) -> None:
    # Precision over answers that cite: q1 1/2, q3 0/1 -> 0.25. Recall over questions with gold:
    # q1 1, q2 0 -> 0.5. Supported: 2 of 3 citations. One abstention in three; 3 citations / 3.
    assert hand.citations is not None
    assert hand.citations.to_json() == {
        "precision": 0.25, "recall": 0.5, "supported": 0.6667, "abstention_rate": 0.3333,
        "citations_per_answer": 1.0,
    }  # fmt: skip


def test_latency_nearest_rank(hand: Summary) -> None:
    # retrieve 10, 20, 30 ms; total 100, 300, 200 ms. p50 = 2nd smallest, p95 = largest.
    assert (hand.latency.retrieve_p50_ms, hand.latency.retrieve_p95_ms) == (20.0, 30.0)
    assert (hand.latency.total_p50_ms, hand.latency.total_p95_ms) == (200.0, 300.0)
    assert hand.latency.first_token_p50_ms is None and "first_token_p50_ms" not in (
        hand.latency.to_json()
    )


def test_retrieval_only_has_no_answer_blocks() -> None:
    config = RunConfig("bioasq", "g", "i", retrieval_only=True)
    summary = summarize(HAND, config, STAMP)
    assert (summary.answers, summary.citations, summary.retrieval_by_mode) == (None, None, None)


def test_a_reranked_run_shows_the_fused_first_stage_beside_the_reranked_hits() -> None:
    from dataclasses import replace

    modes = {"bm25": ("b",), "dense": ("a",), "fused": ("b", "a"), "reranked": ("a", "b")}
    results = [replace(r, retrieved=("a", "b"), retrieved_by_mode=modes) for r in HAND[:1]]
    config = RunConfig("bioasq", "g", "i", retrieval_only=True, all_retrievers=True)
    by_mode = summarize(results, config, STAMP).retrieval_by_mode or {}
    assert list(by_mode) == ["bm25", "dense", "fused", "reranked"]
    assert by_mode["reranked"]["mrr@10"] == 1.0 and by_mode["fused"]["mrr@10"] < 1.0


@pytest.mark.parametrize(
    ("folder", "config"),
    [
        ("pubmedqa", PUBMEDQA),
        ("bioasq_retrieval", RunConfig("bioasq", "g", "i", retrieval_only=True,
                                       all_retrievers=True)),
    ],
)  # fmt: skip
def test_same_figures_as_the_dict_based_runner(folder: str, config: RunConfig) -> None:
    expected = json.loads((RUNS / folder / "summary.json").read_text())
    lines = (RUNS / folder / "results.jsonl").read_text().splitlines()
    results = [Result.from_json(json.loads(line)) for line in lines]
    summary = summarize(results, config, Summary.from_json(expected).stamp).to_json()
    summary["latency"]["peak_rss_mb"] = expected["latency"]["peak_rss_mb"]
    assert json.dumps(summary, indent=2) == json.dumps(expected, indent=2)


# --- score_answer -------------------------------------------------------------------------------


def question(type_: str, groups: tuple[tuple[str, ...], ...], ideal: str = "") -> GoldQuestion:
    return GoldQuestion("q", "?", type_, (), ideal_answer=ideal, exact_groups=groups)


def test_factoid_answer_is_scored_leniently() -> None:
    q = question("factoid", (("IL-6", "interleukin 6"),))
    assert score_answer(q, "Interleukin-6? No: IL-6.") == AnswerScores(exact_lenient=1.0)


def test_list_answer_gets_recall() -> None:
    q = question("list", (("casirivimab",), ("imdevimab",), ("sotrovimab",)))
    assert score_answer(q, "Casirivimab and imdevimab.").list_recall == pytest.approx(2 / 3)


def test_yesno_answer_gets_only_rouge() -> None:
    q = question("yesno", (("yes",),), ideal="Yes, it does.")
    scores = score_answer(q, "Yes, it does.")
    assert (scores.rouge_l, scores.exact_lenient, scores.list_recall) == (1.0, None, None)


def test_factoid_without_exact_answer_gets_no_exact_score() -> None:
    assert score_answer(question("factoid", ()), "anything") == AnswerScores()
