"""Evaluation metrics: pure functions, one question at a time unless they take label lists.

Retrieval: ``ranked`` is the retrieved document ids, best first, without duplicates; ``gold``
the relevant ids. Averaging over questions is the caller's (a plain mean). Answers: yes/no/maybe
labels (accuracy, macro-F1, confusion), BioASQ exact answers named in a free-text answer (factoid,
list), ROUGE-L for free text. Citations: precision/recall of cited documents. Verification of
claims (a score and a verdict per claim against a gold true/false): balanced accuracy, per-class
recall, precision, ROC-AUC and calibration. Latency: percentiles.
"""

from __future__ import annotations

import functools
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from typing import NamedTuple

# rouge-score 0.1.2 ships no type information (no py.typed).
from rouge_score import rouge_scorer  # type: ignore[import-untyped]


def hit_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if any of the first ``k`` is relevant, else 0.0."""
    return 1.0 if any(d in gold for d in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Share of the relevant documents found in the first ``k`` (0.0 when there are none)."""
    if not gold:
        return 0.0
    return len(set(ranked[:k]) & set(gold)) / len(set(gold))


def mrr_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1 / rank of the first relevant document within the first ``k``, else 0.0."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance."""
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(set(gold)), k)))
    return dcg / ideal if ideal else 0.0


def mean(values: Sequence[float]) -> float:
    """The plain mean; 0.0 for no values."""
    return sum(values) / len(values) if values else 0.0


# --- Answer labels (yes/no/maybe) ---------------------------------------------------------------


def accuracy(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Share of positions where the predicted label equals the gold one (0.0 for none)."""
    _same_length(pred, gold)
    return sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold) if gold else 0.0


def macro_f1(
    pred: Sequence[str], gold: Sequence[str], labels: Sequence[str] = ("yes", "no", "maybe")
) -> float:
    """Unweighted mean of per-label F1 over the ``labels`` that occur in ``gold`` or ``pred``.

    Zero division counts as 0: a label never predicted has precision 0, a label never in gold
    has recall 0, and F1 is 0 when precision + recall is 0 (scikit-learn's
    ``zero_division=0``). Labels in neither list are left out of the mean, so predicting only
    "yes" on a yes/no set scores over two labels, not three. A prediction outside ``labels``
    (an abstention, say) is a miss for its gold label and forms no class of its own. 0.0 when
    no label occurs at all.
    """
    _same_length(pred, gold)
    present = [lab for lab in labels if lab in gold or lab in pred]
    scores = []
    for lab in present:
        tp = sum(p == g == lab for p, g in zip(pred, gold, strict=True))
        n_pred, n_gold = sum(p == lab for p in pred), sum(g == lab for g in gold)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        total = precision + recall
        scores.append(2 * precision * recall / total if total else 0.0)
    return mean(scores)


def confusion(pred: Sequence[str], gold: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Counts with one row per gold label and one column per predicted label, in ``labels``
    order (scikit-learn's layout). Pairs with a label outside ``labels`` are not counted."""
    _same_length(pred, gold)
    slot = {lab: i for i, lab in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p, g in zip(pred, gold, strict=True):
        if p in slot and g in slot:
            matrix[slot[g]][slot[p]] += 1
    return matrix


def majority_baseline(gold: Sequence[str]) -> tuple[str, float]:
    """The most frequent gold label and the accuracy of always answering it.

    Ties go to the alphabetically first label, so the answer does not depend on order;
    ``("", 0.0)`` for no gold labels.
    """
    if not gold:
        return "", 0.0
    counts = Counter(gold)
    label = min(counts, key=lambda lab: (-counts[lab], lab))
    return label, counts[label] / len(gold)


def _same_length(pred: Sequence[object], gold: Sequence[object]) -> None:
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predictions for {len(gold)} gold labels")


# --- BioASQ exact answers -----------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower case, punctuation removed (``IL-6`` -> ``il6``), articles dropped, spaces collapsed.

    The SQuAD normalisation; Unicode punctuation (``–``, ``’``) counts as punctuation too.
    """
    kept = "".join(
        c for c in text.lower() if c not in string.punctuation and not _is_punctuation(c)
    )
    return " ".join(_ARTICLES.sub(" ", kept).split())


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def names_item(answer: str, synonyms: Collection[str]) -> bool:
    """Whether the free-text ``answer`` names a gold item: one of its ``synonyms`` occurs in it
    as whole words, both sides normalised by :func:`normalize_answer`.

    ``"Levels of IL-6 rise."`` names ``{"il6"}`` but not ``{"il"}``. A synonym that normalises to
    "" (``"A"``, an article) names nothing.
    """
    text = f" {normalize_answer(answer)} "
    return any(f" {s} " in text for s in map(normalize_answer, synonyms) if s)


def factoid_lenient(answer: str, gold_groups: Sequence[Collection[str]]) -> float:
    """1.0 if ``answer`` names any gold item (:func:`names_item`), else 0.0.

    Lenient by containment: a free-text answer has no ranked candidate list to match in its
    first five, as BioASQ's own lenient accuracy does. Each group is one item's synonyms.
    """
    return 1.0 if any(names_item(answer, group) for group in gold_groups) else 0.0


def list_recall(answer: str, gold_groups: Sequence[Collection[str]]) -> float:
    """Share of the gold items (each a group of synonyms) that ``answer`` names; 0.0 for none.

    Recall only: a free-text answer has no list of predicted items to take a precision over.
    """
    if not gold_groups:
        return 0.0
    return sum(names_item(answer, group) for group in gold_groups) / len(gold_groups)


# --- Verification: a score and a true/false verdict per item against a gold true/false --------


def class_recall(pred: Sequence[bool], gold: Sequence[bool], cls: bool) -> float | None:
    """Share of the items whose gold is ``cls`` that are predicted ``cls``; ``None`` for none.

    ``cls=True`` is the recall (true positive rate), ``cls=False`` the specificity (true
    negative rate).
    """
    _same_length(pred, gold)
    hits = [p == g for p, g in zip(pred, gold, strict=True) if g == cls]
    return sum(hits) / len(hits) if hits else None


def precision(pred: Sequence[bool], gold: Sequence[bool]) -> float | None:
    """Share of the items predicted true that are true; ``None`` when none is predicted true."""
    _same_length(pred, gold)
    hits = [g for p, g in zip(pred, gold, strict=True) if p]
    return sum(hits) / len(hits) if hits else None


def balanced_accuracy(pred: Sequence[bool], gold: Sequence[bool]) -> float | None:
    """The mean of the recall of each gold class that occurs (scikit-learn's
    ``balanced_accuracy_score``); ``None`` for no items."""
    recalls = [r for cls in (True, False) if (r := class_recall(pred, gold, cls)) is not None]
    return mean(recalls) if recalls else None


def roc_auc(scores: Sequence[float], gold: Sequence[bool]) -> float | None:
    """Area under the ROC curve: the chance that a true item scores above a false one, ties
    counting half (the Mann-Whitney U form); ``None`` unless both classes occur."""
    if len(scores) != len(gold):
        raise ValueError(f"{len(scores)} scores for {len(gold)} gold labels")
    positives = sum(gold)
    negatives = len(gold) - positives
    if not positives or not negatives:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum, start = 0.0, 0
    while start < len(order):  # 1-based ranks, tied scores sharing their mean rank
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        rank_sum += rank * sum(gold[i] for i in order[start : end + 1])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


class Bin(NamedTuple):
    """One bin of a reliability diagram: scores in ``[lo, hi)`` (the last bin holds 1.0 too)."""

    lo: float
    hi: float
    n: int
    positives: int  # items in the bin whose gold is true
    mean_score: float


def reliability(scores: Sequence[float], gold: Sequence[bool], bins: int = 10) -> list[Bin]:
    """The non-empty ones of ``bins`` equal-width bins of [0, 1], in order: how many items
    each holds, how many of them are true, and their mean score.

    A calibrated score has ``positives / n`` close to ``mean_score`` in every bin. Scores
    outside [0, 1] raise :class:`ValueError`.
    """
    if len(scores) != len(gold):
        raise ValueError(f"{len(scores)} scores for {len(gold)} gold labels")
    if bins < 1 or any(not 0 <= s <= 1 for s in scores):
        raise ValueError("reliability needs bins >= 1 and scores in [0, 1]")
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, s in enumerate(scores):
        members[min(int(s * bins), bins - 1)].append(i)
    return [
        Bin(k / bins, (k + 1) / bins, len(m), sum(gold[i] for i in m),
            mean([scores[i] for i in m]))
        for k, m in enumerate(members)
        if m
    ]  # fmt: skip


def calibration_error(bins: Sequence[Bin]) -> float | None:
    """Expected calibration error: the mean over items of their bin's ``|share true - mean
    score|`` (bins from :func:`reliability`); ``None`` for no items."""
    total = sum(b.n for b in bins)
    if not total:
        return None
    return sum(abs(b.positives - b.n * b.mean_score) for b in bins) / total


# --- Free text, citations, latency --------------------------------------------------------------


@functools.cache
def _rouge() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence, Porter-stemmed tokens) from ``rouge-score``.

    0.0 when either text has no tokens.
    """
    return float(_rouge().score(reference, prediction)["rougeL"].fmeasure)


def citation_precision_recall(
    cited_ids: Collection[str], gold_ids: Collection[str]
) -> tuple[float | None, float | None]:
    """(precision, recall) of the documents an answer cites against the gold documents.

    Precision = cited gold / cited, ``None`` when nothing is cited (undefined: an abstention is
    neither right nor wrong; average over the answers that cite). Recall = cited gold / gold,
    0.0 when nothing is cited, ``None`` when there is no gold document. Duplicates count once.
    """
    cited, gold = set(cited_ids), set(gold_ids)
    found = len(cited & gold)
    precision = found / len(cited) if cited else None
    recall = found / len(gold) if gold else None
    return precision, recall


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by the nearest-rank method; ``None`` for no values.

    Nearest rank returns an observed value: the smallest one with at least ``q`` % of the
    values at or below it (``q=50`` of ``[1, 2, 3, 4]`` is 2, not numpy's interpolated 2.5).
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]
