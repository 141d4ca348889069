"""The conflict cues of rag.answer.conflicts, read off real sentences (no model needed)."""

from __future__ import annotations

from collections import defaultdict

from rag.answer.conflicts import CONFLICT_SIGNALS, claim_cues, conflict_signals, read_cues
from rag.answer.signals import _STOP, _WORD, stem

PASSAGE = [
    "Fifty patients scheduled for total hip replacement were allocated to two groups.",
    "The perioperative blood loss increased by 45% in the ibuprofen group compared with placebo.",
    "Adverse effects were not different between the groups.",
]
IDF: defaultdict[str, float] = defaultdict(lambda: 5.0)


def signals(claim: str) -> dict[str, float]:
    stems = {stem(w): 5.0 for w in _WORD.findall(claim.lower()) if w not in _STOP}
    sentence_stems = [
        frozenset(stem(w) for w in _WORD.findall(s.lower()) if w not in _STOP) for s in PASSAGE
    ]
    cues = [read_cues(s) for s in PASSAGE]
    values = conflict_signals(
        claim_cues(claim, _STOP, IDF), stems, cues, sentence_stems,
        frozenset().union(*sentence_stems), frozenset().union(*(c.numbers for c in cues)),
        [0.5, 0.5, 0.5],
    )  # fmt: skip
    return dict(zip(CONFLICT_SIGNALS, values, strict=True))


def test_cues_read_negation_direction_valence_and_null() -> None:
    up = read_cues("Blood loss increased in the ibuprofen group.")
    assert (up.negated, up.direction, up.valence, up.null) == (False, 1, 0, False)
    assert read_cues("Blood loss did not increase.").direction == -1  # a negation flips it
    assert read_cues("Survival was worse after surgery.").valence == -1
    assert read_cues("The groups did not differ significantly.").null
    assert read_cues("Rates were 15.0% and 3%.").numbers == {"15", "3"}


def test_a_true_paraphrase_raises_no_conflict() -> None:
    found = signals("Ibuprofen increased perioperative blood loss by 45% compared with placebo.")
    assert not any(found.values())


def test_a_reversed_finding_is_a_direction_conflict() -> None:
    found = signals("Ibuprofen decreased perioperative blood loss by 45% compared with placebo.")
    assert found["direction_mismatch"] > 0.5


def test_a_negated_finding_is_a_negation_conflict() -> None:
    found = signals("Ibuprofen did not increase perioperative blood loss compared with placebo.")
    assert found["negation_mismatch"] > 0.5


def test_a_changed_number_is_a_number_conflict() -> None:
    found = signals("Ibuprofen increased perioperative blood loss by 15% compared with placebo.")
    assert found["number_mismatch"] > 0.5 and not found["direction_mismatch"]


def test_an_effect_claimed_where_none_was_found_is_a_null_conflict() -> None:
    found = signals("Adverse effects were more frequent between the ibuprofen groups.")
    assert found["null_mismatch"] > 0


def test_an_invented_reason_is_unsupported_and_a_given_one_is_not() -> None:
    invented = signals("Ibuprofen increased blood loss because it raised arterial pressure.")
    given = signals("Blood loss was higher because of ibuprofen.")
    assert invented["reason_unsupported"] > 0.5
    assert given["reason_unsupported"] == 0.0


def test_a_claim_sharing_only_a_topic_word_is_not_penalised() -> None:
    found = signals("Hip fractures did not heal in elderly women treated with bisphosphonates.")
    assert found["negation_mismatch"] == 0.0
