"""``rag verify`` judges each clause: a true statement cannot carry an invented reason."""

from __future__ import annotations

from rag.answer.lookup import clauses


def test_a_reason_is_its_own_clause() -> None:
    claim = "MDM2 amplification raises the risk of hyperprogression due to loss of p53 function."
    assert clauses(claim) == [
        "MDM2 amplification raises the risk of hyperprogression",
        "loss of p53 function",
    ]


def test_examples_are_their_own_clause() -> None:
    claim = "Checkpoint inhibitors cause adverse events, such as immune colitis and hepatitis."
    assert clauses(claim)[1] == "immune colitis and hepatitis"


def test_a_plain_sentence_is_one_clause_and_short_tails_are_dropped() -> None:
    assert clauses("Survival was shorter in patients with MDM2 amplification.") == [
        "Survival was shorter in patients with MDM2 amplification"
    ]
    assert len(clauses("Tumours grew quickly in treated patients because of it.")) == 1
