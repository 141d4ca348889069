"""Our retrieval metrics agree with ranx (0.3) on hand-made runs and on a seeded random one.

ranx names: ``hit_rate@k`` is our hit@k; its ``ndcg@k`` uses the gain ``rel`` (Järvelin and
Kekäläinen), which is ours for binary relevance. A question our ranking leaves empty is absent
from the ranx run; ``make_comparable`` scores it 0, as we do.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Mapping, Sequence

import pytest
from ranx import Qrels, Run, evaluate

from eval.metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, recall_at_k

# ranx 0.3.21 warns of a uint64 -> int64 cast inside its numba kernels; nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:unsafe cast")

Metric = Callable[[Sequence[str], Collection[str], int], float]
Case = tuple[list[str], set[str]]  # (ranked ids, best first; relevant ids)

OURS: dict[str, Metric] = {
    "hit_rate": hit_at_k,
    "recall": recall_at_k,
    "mrr": mrr_at_k,
    "ndcg": ndcg_at_k,
}
KS = (1, 3, 5, 10, 20)
NAMES = [f"{name}@{k}" for name in OURS for k in KS]

HAND: dict[str, Case] = {
    "first is relevant": (["a", "b", "c"], {"a"}),
    "late and partial": (["x", "y", "a", "z", "b"], {"a", "b", "c"}),
    "nothing relevant found": (["x", "y"], {"a"}),
    "nothing retrieved": ([], {"a", "b"}),
    "all relevant": (["a", "b"], {"a", "b"}),
    "more relevant than k": (["a", "x", "b", "c", "d", "e"], {"a", "b", "c", "d", "e", "f"}),
    "relevant only past 20": ([f"x{i}" for i in range(25)] + ["a"], {"a"}),
}


def random_cases(seed: int = 20241122, questions: int = 300) -> dict[str, Case]:
    """Rankings of up to 30 of 60 documents against 1-8 relevant ones, some rankings empty."""
    rng = random.Random(seed)
    pool = [f"d{i}" for i in range(60)]
    cases = {}
    for q in range(questions):
        gold = set(rng.sample(pool, rng.randint(1, 8)))
        cases[f"q{q}"] = (rng.sample(pool, rng.randint(0, 30)), gold)
    return cases


def ranx_scores(cases: Mapping[str, Case]) -> dict[str, dict[str, float]]:
    """metric -> question -> ranx's score."""
    qrels = Qrels({q: dict.fromkeys(gold, 1) for q, (_, gold) in cases.items()})
    run = Run(
        {
            q: {doc: float(len(ranked) - i) for i, doc in enumerate(ranked)}  # distinct scores
            for q, (ranked, _) in cases.items()
            if ranked
        }
    )
    evaluate(qrels, run, NAMES, make_comparable=True)
    return {name: {q: float(v) for q, v in run.scores[name].items()} for name in NAMES}


def our_scores(cases: Mapping[str, Case]) -> dict[str, dict[str, float]]:
    """metric -> question -> our score."""
    out: dict[str, dict[str, float]] = {}
    for name in NAMES:
        metric, k = OURS[name.split("@")[0]], int(name.split("@")[1])
        out[name] = {q: metric(ranked, gold, k) for q, (ranked, gold) in cases.items()}
    return out


@pytest.fixture(scope="module")
def hand() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    return our_scores(HAND), ranx_scores(HAND)


@pytest.fixture(scope="module")
def randomized() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    cases = random_cases()
    return our_scores(cases), ranx_scores(cases)


@pytest.mark.parametrize("name", NAMES)
def test_hand_made_runs_agree_per_question(
    name: str, hand: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]
) -> None:
    ours, theirs = hand
    assert ours[name] == pytest.approx(theirs[name], abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_random_run_agrees_per_question_and_in_the_mean(
    name: str, randomized: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]
) -> None:
    ours, theirs = randomized
    assert ours[name] == pytest.approx(theirs[name], abs=1e-9)
    assert mean(list(ours[name].values())) == pytest.approx(mean(list(theirs[name].values())))


def test_random_run_is_not_trivial(
    randomized: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]],
) -> None:
    # Agreement means little if every score were 0 or 1.
    ndcg = randomized[0]["ndcg@10"].values()
    assert any(0 < v < 1 for v in ndcg) and any(v == 0 for v in ndcg)


def test_hand_made_values() -> None:
    # Beside ranx, by hand: relevant at ranks 3 and 5 of 3 relevant documents.
    ranked, gold = HAND["late and partial"]
    dcg = 1 / math.log2(4) + 1 / math.log2(6)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert (recall_at_k(ranked, gold, 5), mrr_at_k(ranked, gold, 10)) == (2 / 3, 1 / 3)
    assert ndcg_at_k(ranked, gold, 10) == pytest.approx(dcg / ideal)
