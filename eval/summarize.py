"""How one answer scores (:func:`score_answer`) and what a run's :class:`Result` records add up
to (:func:`summarize`, a :class:`Summary` of means of the per-question metrics).

Pure but for the process's peak memory, which the latency block reports.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Sequence
from dataclasses import replace

from eval.gold import LABELS, GoldQuestion, gold_kind
from eval.metrics import (
    accuracy,
    citation_precision_recall,
    confusion,
    factoid_lenient,
    hit_at_k,
    list_recall,
    macro_f1,
    majority_baseline,
    mean,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    rouge_l,
)
from eval.records import (
    AnswerFigures,
    AnswerScores,
    CitationFigures,
    Confusion,
    LabelChoice,
    Latency,
    Result,
    RunConfig,
    Stamp,
    Summary,
)

KS = (1, 5, 10, 20)  # the k of hit@k and recall@k; a question retrieves max(KS) documents


def score_answer(q: GoldQuestion, answer: str) -> AnswerScores:
    """ROUGE-L against the ideal answer; for BioASQ factoid and list questions, whether the
    free-text answer names the exact answers (:func:`eval.metrics.factoid_lenient`,
    :func:`eval.metrics.list_recall`)."""
    exact = q.exact_groups if q.type in ("factoid", "list") else ()
    return AnswerScores(
        rouge_l=rouge_l(answer, q.ideal_answer) if q.ideal_answer else None,
        exact_lenient=factoid_lenient(answer, exact) if exact and q.type == "factoid" else None,
        list_recall=list_recall(answer, exact) if exact and q.type == "list" else None,
    )


def summarize(results: Sequence[Result], config: RunConfig, stamp: Stamp) -> Summary:
    """The run's figures over ``results``: the blocks its gold kind measures, answers and
    citations unless the run is retrieval-only, each retriever alone if the run scored them."""
    measures = gold_kind(config.kind).measures
    answering = not config.retrieval_only
    retrieval = _retrieval(results, lambda r: r.retrieved) if "retrieval" in measures else None
    by_mode = None
    if retrieval is not None and config.all_retrievers:
        modes = dict.fromkeys(m for r in results for m in r.retrieved_by_mode or {})
        # With a reranker the run's hits are the "reranked" column and "fused" is the first stage.
        first = {} if "reranked" in modes else {"hybrid": retrieval}
        by_mode = first | {m: _retrieval(results, _ranked_by(m)) for m in modes}
    return Summary(
        n=len(results),
        kind=config.kind,
        retrieval=retrieval,
        retrieval_by_mode=by_mode,
        answers=_answers(results) if answering and "answers" in measures else None,
        citations=_citations(results) if answering and "citations" in measures else None,
        latency=_latency(results),
        stamp=stamp,
    )


def _ranked_by(mode: str) -> Callable[[Result], Sequence[str]]:
    """A result's ranking by one retriever alone."""
    return lambda r: (r.retrieved_by_mode or {}).get(mode, ())


def _retrieval(
    results: Sequence[Result], ranked: Callable[[Result], Sequence[str]]
) -> dict[str, float]:
    scored = [r for r in results if r.gold_ids]
    out: dict[str, float] = {}
    for k in KS:
        out[f"hit@{k}"] = mean([hit_at_k(ranked(r), r.gold_ids, k) for r in scored])
        out[f"recall@{k}"] = mean([recall_at_k(ranked(r), r.gold_ids, k) for r in scored])
    out["mrr@10"] = mean([mrr_at_k(ranked(r), r.gold_ids, 10) for r in scored])
    out["ndcg@10"] = mean([ndcg_at_k(ranked(r), r.gold_ids, 10) for r in scored])
    return {k: round(v, 4) for k, v in out.items()}


def _answers(results: Sequence[Result]) -> AnswerFigures:
    choices = [r.choice for r in results if r.choice is not None]
    answered = [r.answered for r in results if r.answered is not None]
    scores = [a.scores for a in answered]
    modes = [a.mode for a in answered if a.mode]  # results written before modes were recorded
    return replace(
        _labels(choices),
        rouge_l=_mean_of(scores, lambda s: s.rouge_l),
        exact_lenient=_mean_of(scores, lambda s: s.exact_lenient),
        list_recall=_mean_of(scores, lambda s: s.list_recall),
        generated_share=round(mean([float(m == "generate") for m in modes]), 4) if modes else None,
    )


def _labels(choices: Sequence[LabelChoice]) -> AnswerFigures:
    """Accuracy, macro-F1, the majority baseline and the confusion matrix, if any are labelled."""
    if not choices:
        return AnswerFigures()
    gold, pred = [c.label for c in choices], [c.predicted for c in choices]
    labels = [x for x in LABELS if x in gold or x in pred]
    majority, majority_acc = majority_baseline(gold)
    matrix = confusion(pred, gold, labels)
    return AnswerFigures(
        accuracy=round(accuracy(pred, gold), 4),
        macro_f1=round(macro_f1(pred, gold, labels), 4),
        majority_label=majority,
        majority_accuracy=round(majority_acc, 4),
        confusion=Confusion(tuple(labels), tuple(tuple(row) for row in matrix)),
    )


def _mean_of(
    scores: Sequence[AnswerScores], score: Callable[[AnswerScores], float | None]
) -> float | None:
    """The mean of one score over the answers that have it; ``None`` when none has."""
    values = [v for s in scores if (v := score(s)) is not None]
    return round(mean(values), 4) if values else None


def _citations(results: Sequence[Result]) -> CitationFigures:
    precision, recall, supported = [], [], []
    for r in results:
        cited = r.answered.cited_ids if r.answered is not None else ()
        p, rc = citation_precision_recall(cited, r.gold_ids)
        if p is not None:
            precision.append(p)
        if rc is not None:
            recall.append(rc)
        if r.answered is not None:
            supported += [float(s) for s in r.answered.supported]
    abstained = [float(r.answered is not None and r.answered.abstained) for r in results]
    return CitationFigures(
        precision=round(mean(precision), 4) if precision else None,
        recall=round(mean(recall), 4) if recall else None,
        supported=round(mean(supported), 4) if supported else None,
        abstention_rate=round(mean(abstained), 4),
        citations_per_answer=round(len(supported) / max(len(results), 1), 4),
    )


def _latency(results: Sequence[Result]) -> Latency:
    retrieve = [r.retrieve_ms for r in results]
    answered = [r.answered.timings for r in results if r.answered is not None]
    first_token = [t.first_token_ms for t in answered if t.first_token_ms is not None]
    total = [t.total_ms for t in answered]
    return Latency(
        retrieve_p50_ms=percentile(retrieve, 50),
        retrieve_p95_ms=percentile(retrieve, 95),
        first_token_p50_ms=percentile(first_token, 50),
        total_p50_ms=percentile(total, 50),
        total_p95_ms=percentile(total, 95),
        # ru_maxrss is in KiB on Linux
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
