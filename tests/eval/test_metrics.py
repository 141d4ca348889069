"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

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
    names_item,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    rouge_l,
)

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


# --- labels: yes/no/maybe -------------------------------------------------------------------------

# Hand-worked: yes P=2/2 R=2/3 F1=0.8; no P=1/2 R=1/2 F1=0.5; maybe P=1/2 R=1/1 F1=2/3.
GOLD_LABELS = ["yes", "yes", "yes", "no", "no", "maybe"]
PRED_LABELS = ["yes", "yes", "no", "no", "maybe", "maybe"]


def test_accuracy() -> None:
    assert accuracy(PRED_LABELS, GOLD_LABELS) == pytest.approx(4 / 6)


def test_accuracy_of_nothing_is_zero() -> None:
    assert accuracy([], []) == 0.0


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 gold labels"):
        accuracy(["yes", "no"], ["yes"])


def test_macro_f1() -> None:
    assert macro_f1(PRED_LABELS, GOLD_LABELS) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_macro_f1_reproduces_published_majority_class() -> None:
    gold = ["yes"] * 552 + ["no"] * 338 + ["maybe"] * 110  # PubMedQA test: 55.2 % yes
    assert round(100 * macro_f1(["yes"] * 1000, gold), 1) == 23.7


def test_macro_f1_label_never_predicted_scores_zero() -> None:
    # yes: P=1/2 R=1 F1=2/3; no: never predicted -> 0; maybe: in neither list -> left out.
    assert macro_f1(["yes", "yes"], ["yes", "no"]) == pytest.approx(1 / 3)


def test_macro_f1_prediction_outside_labels_is_a_miss() -> None:
    assert macro_f1(["yes", "unknown"], ["yes", "no"]) == pytest.approx(0.5)


def test_macro_f1_of_nothing_is_zero() -> None:
    assert macro_f1([], []) == 0.0


def test_confusion_rows_are_gold() -> None:
    assert confusion(PRED_LABELS, GOLD_LABELS, ("yes", "no", "maybe")) == [
        [2, 1, 0],
        [0, 1, 1],
        [0, 0, 1],
    ]


def test_confusion_ignores_labels_outside_the_list() -> None:
    assert confusion(["yes", "unknown"], ["yes", "no"], ("yes", "no")) == [[1, 0], [0, 0]]


def test_majority_baseline() -> None:
    assert majority_baseline(["no", "yes", "yes"]) == ("yes", 2 / 3)


def test_majority_baseline_tie_goes_alphabetically() -> None:
    assert majority_baseline(["yes", "no"]) == ("no", 0.5)


def test_majority_baseline_of_nothing() -> None:
    assert majority_baseline([]) == ("", 0.0)


# --- BioASQ exact answers -------------------------------------------------------------------------


def test_normalize_answer() -> None:
    assert normalize_answer("  The IL-6   receptor. ") == "il6 receptor"


def test_normalize_answer_unicode_punctuation() -> None:
    assert normalize_answer("TNF–α’s") == "tnfαs"


# The one lenient match: a gold item is named when one of its synonyms occurs in the normalised
# answer as whole words.


def test_names_item_by_whole_words_after_normalising() -> None:
    # "Levels of IL-6 rise." -> "levels of il6 rise"; "IL6" -> "il6" occurs between spaces.
    assert names_item("Levels of IL-6 rise.", ["IL6"])


def test_names_item_not_inside_a_longer_word() -> None:
    # "il" occurs in "il6" but not as a word of its own.
    assert not names_item("Levels of IL-6 rise.", ["IL"])


def test_names_item_any_synonym() -> None:
    assert names_item("It inhibits factor XIa, the target.", ["FXIa", "factor XIa"])


def test_names_item_multiword_synonym_with_article_dropped() -> None:
    # Both sides lose "the": "the spike protein" -> "spike protein".
    assert names_item("It binds to the spike protein", ["spike the protein"])


def test_synonym_normalising_to_nothing_names_nothing() -> None:
    # "A" (vitamin A, in BioASQ 5e5e4fdb…) normalises to "": it matches no answer, "" included.
    assert (names_item("Vitamin A.", ["A"]), names_item("", ["A"])) == (False, False)


GROUPS = [["casirivimab", "REGN10933"], ["imdevimab", "REGN10987"]]


def test_factoid_lenient_any_item_named() -> None:
    assert factoid_lenient("It is REGN10987 (imdevimab).", GROUPS) == 1.0


def test_factoid_lenient_nothing_named() -> None:
    assert factoid_lenient("Sotrovimab binds it.", GROUPS) == 0.0


def test_factoid_lenient_without_gold_is_zero() -> None:
    assert factoid_lenient("casirivimab", []) == 0.0


def test_list_recall_share_of_items_named() -> None:
    # Item 1 named twice (two synonyms) counts once; item 2 not named: 1/2.
    assert list_recall("Casirivimab (REGN10933) and sotrovimab.", GROUPS) == 0.5


def test_list_recall_every_item() -> None:
    assert list_recall("REGN10987 with casirivimab", GROUPS) == 1.0


def test_list_recall_three_items_two_named() -> None:
    groups = [["IL-6"], ["TNF-α", "TNF alpha"], ["IL-1β"]]
    assert list_recall("IL6 and TNF alpha rise.", groups) == pytest.approx(2 / 3)


def test_list_recall_without_gold_is_zero() -> None:
    assert list_recall("x", []) == 0.0


# --- ROUGE-L, citations, percentiles --------------------------------------------------------------


def test_rouge_l_identical() -> None:
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)


def test_rouge_l_stems() -> None:
    # Stemmed: [the, cat, are, run] vs [the, cat, ran, quickli]; LCS 2 -> P = R = 1/2.
    assert rouge_l("the cats are running", "the cat ran quickly") == pytest.approx(0.5)


def test_rouge_l_short_prediction() -> None:
    # LCS 2 of 2 predicted and 6 reference tokens: P = 1, R = 1/3, F = 0.5.
    assert rouge_l("the cat", "the cat sat on the mat") == pytest.approx(0.5)


def test_rouge_l_empty_is_zero() -> None:
    assert rouge_l("", "the cat") == 0.0


def test_citation_precision_recall() -> None:
    precision, recall = citation_precision_recall(["a", "b", "c"], ["b", "d"])
    assert (precision, recall) == (1 / 3, 0.5)


def test_citation_nothing_cited() -> None:
    assert citation_precision_recall([], ["b"]) == (None, 0.0)


def test_citation_no_gold() -> None:
    assert citation_precision_recall(["a"], []) == (0.0, None)


def test_citation_duplicates_count_once() -> None:
    assert citation_precision_recall(["b", "b"], ["b", "d"]) == (1.0, 0.5)


NEAREST_RANK = [35.0, 20.0, 50.0, 15.0, 40.0]  # Wikipedia's worked example, shuffled


@pytest.mark.parametrize(
    ("q", "expected"), [(0, 15.0), (5, 15.0), (30, 20.0), (40, 20.0), (50, 35.0), (100, 50.0)]
)
def test_percentile_nearest_rank(q: float, expected: float) -> None:
    assert percentile(NEAREST_RANK, q) == expected


def test_percentile_does_not_interpolate() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


def test_percentile_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside 0-100"):
        percentile([1.0], 101)
