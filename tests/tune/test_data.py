"""The validation split is by question and deterministic; validation questions never train."""

from __future__ import annotations

from pathlib import Path

from eval.gold import GoldQuestion, load_jsonl
from tune.data import (
    Mined,
    batches_without_repeats,
    gold_kind_of,
    is_validation,
    split,
    training_examples,
    write_validation,
)


def _question(i: int) -> GoldQuestion:
    return GoldQuestion(id=f"q{i}", question=f"question {i}?", type="summary",
                        gold_ids=(f"pmid:{1000 + i}",), snippets=(f"a {i}", f"b {i}"))  # fmt: skip


QUESTIONS = [_question(i) for i in range(400)]


def test_the_split_is_deterministic_and_near_the_fraction() -> None:
    training, validation = split(QUESTIONS, 0.2)
    again_training, again_validation = split(list(reversed(QUESTIONS)), 0.2)
    assert {q.id for q in validation} == {q.id for q in again_validation}
    assert {q.id for q in training} == {q.id for q in again_training}
    assert 50 <= len(validation) <= 110
    assert not {q.id for q in training} & {q.id for q in validation}


def test_the_split_depends_on_the_id_only() -> None:
    twin = GoldQuestion(id="q7", question="reworded", type="yesno", gold_ids=("pmid:1",))
    assert is_validation("q7", 0.2) == is_validation(twin.id, 0.2)
    assert all(not is_validation(q.id, 0.0) for q in QUESTIONS)


def test_validation_questions_make_no_training_pairs() -> None:
    mined = [Mined(q, q.snippets, ("neg 1", "neg 2"), ()) for q in QUESTIONS]
    rows = training_examples(mined, 0.2)
    _, validation = split(QUESTIONS, 0.2)
    held = {q.id for q in validation}
    assert rows and not {r[0] for r in rows} & held
    assert len(rows) == 2 * (len(QUESTIONS) - len(held))  # every snippet of a training question


def test_a_batch_holds_a_question_once() -> None:
    rows = [(f"q{i % 10}", "q", f"p{i}", "n") for i in range(40)]
    for batch in batches_without_repeats(rows, 8):
        assert len({r[0] for r in batch}) == len(batch)


def test_validation_jsonl_reads_back_as_the_jsonl_gold_kind(tmp_path: Path) -> None:
    path = tmp_path / "validation.jsonl"
    write_validation(QUESTIONS[:3], path)
    back = list(load_jsonl(path))
    assert [(q.id, q.question, q.gold_ids) for q in back] == [
        (q.id, q.question, q.gold_ids) for q in QUESTIONS[:3]
    ]
    assert gold_kind_of(path) == "jsonl"
