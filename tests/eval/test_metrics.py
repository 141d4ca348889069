"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from eval.metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, recall_at_k

RANKED = ["a", "b", "c", "d"]
GOLD = {"b", "d", "z"}


def test_hit() -> None:
    assert (hit_at_k(RANKED, GOLD, 1), hit_at_k(RANKED, GOLD, 2)) == (0.0, 1.0)


def test_recall() -> None:
    assert recall_at_k(RANKED, GOLD, 4) == pytest.approx(2 / 3)


def test_recall_without_gold_is_zero() -> None:
    assert recall_at_k(RANKED, set(), 4) == 0.0


def test_mrr() -> None:
    assert (mrr_at_k(RANKED, GOLD, 10), mrr_at_k(RANKED, GOLD, 1)) == (0.5, 0.0)


def test_ndcg() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three gold documents
    assert ndcg_at_k(RANKED, GOLD, 4) == pytest.approx(dcg / ideal)


def test_perfect_ndcg() -> None:
    assert ndcg_at_k(["b", "d"], {"b", "d"}, 10) == pytest.approx(1.0)


def test_mean() -> None:
    assert (mean([1.0, 0.0, 0.5]), mean([])) == (0.5, 0.0)
