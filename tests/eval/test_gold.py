"""Gold loaders: BioASQ, PubMedQA and our JSONL, against small fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from base.errors import GoldError
from eval.gold import (
    KINDS,
    LABELS,
    GoldKind,
    GoldQuestion,
    gold_kind,
    load_bioasq,
    load_gold,
    load_jsonl,
    load_pubmedqa,
)

FIXTURES = Path(__file__).parent / "fixtures"
ENTRY = {
    "id": "q1",
    "body": "Is X a Y?",
    "type": "yesno",
    "documents": [
        "http://www.ncbi.nlm.nih.gov/pubmed/123",
        "http://www.ncbi.nlm.nih.gov/pubmed/456",
    ],
    "ideal_answer": ["Yes, X is a Y."],
    "exact_answer": "yes",
}


def write(tmp_path: Path, data: object, name: str = "1B1_golden.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_bioasq_question(tmp_path: Path) -> None:
    (q,) = load_bioasq(write(tmp_path, {"questions": [ENTRY]}))
    assert (q.id, q.type, q.gold_ids, q.ideal_answer, q.exact_answer) == (
        "q1", "yesno", ("pmid:123", "pmid:456"), "Yes, X is a Y.", ("yes",),
    )  # fmt: skip


def test_nested_exact_answers_are_flattened(tmp_path: Path) -> None:
    entry = {**ENTRY, "type": "list", "exact_answer": [["a", "A"], ["b"]]}
    (q,) = load_bioasq(write(tmp_path, {"questions": [entry]}))
    assert q.exact_answer == ("a", "A", "b")


def test_folder_of_files(tmp_path: Path) -> None:
    write(tmp_path, {"questions": [ENTRY]}, "a.json")
    write(tmp_path, {"questions": [ENTRY, ENTRY]}, "b.json")
    assert len(list(load_bioasq(tmp_path))) == 3


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, {"questions": [ENTRY, {"type": "yesno"}]})
    with pytest.raises(GoldError, match=r"1B1_golden\.json#1: a question needs a 'body'"):
        list(load_bioasq(path))


def test_not_a_golden_file(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="not a BioASQ golden file"):
        list(load_bioasq(write(tmp_path, [1, 2])))


# --- BioASQ fixtures and errors -------------------------------------------------------------------


def test_bioasq_fixture_keeps_synonym_groups() -> None:
    questions = {q.id: q for q in load_bioasq(FIXTURES / "bioasq_small.json")}
    assert questions["b2"].exact_groups == (
        ("casirivimab", "REGN10933"),
        ("imdevimab", "REGN10987"),
    )


def test_bioasq_factoid_is_one_synonym_group() -> None:
    (q,) = (q for q in load_bioasq(FIXTURES / "bioasq_small.json") if q.id == "b3")
    assert q.exact_groups == (("XIa", "factor XIa"),)


def test_bioasq_yesno_has_a_label(tmp_path: Path) -> None:
    (q,) = load_bioasq(write(tmp_path, {"questions": [{**ENTRY, "exact_answer": "No"}]}))
    assert q.label == "no"


def test_bioasq_summary_has_no_label_or_exact_answer() -> None:
    (q,) = (q for q in load_bioasq(FIXTURES / "bioasq_small.json") if q.id == "b4")
    assert (q.label, q.exact_answer, q.exact_groups, q.gold_ids) == ("", (), (), ())


def test_bioasq_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"nope\.json: no such file"):
        list(load_bioasq(tmp_path / "nope.json"))


def test_bioasq_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"no \*\.json files"):
        list(load_bioasq(tmp_path))


def test_bioasq_invalid_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"questions": [')
    with pytest.raises(GoldError, match=r"bad\.json: not a BioASQ golden file"):
        list(load_bioasq(path))


# --- PubMedQA -------------------------------------------------------------------------------------


def test_pubmedqa_question() -> None:
    q = next(load_pubmedqa(FIXTURES / "pqal_small.json"))
    assert q == GoldQuestion(
        id="10808977",
        question="Can tailored interventions increase mammography use among HMO women?",
        type="yesno",
        gold_ids=("pmid:10808977",),
        ideal_answer="The effects of the intervention were most pronounced after the first one.",
        source=f"{FIXTURES / 'pqal_small.json'}#10808977",
        label="yes",
    )


def test_pubmedqa_labels_in_file_order() -> None:
    labels = [q.label for q in load_pubmedqa(FIXTURES / "pqal_small.json")]
    assert labels == ["yes", "no", "maybe"]


def test_pubmedqa_bad_label_names_pmid_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, {"123": {"QUESTION": "Q?", "final_decision": "perhaps"}}, "p.json")
    with pytest.raises(GoldError, match=r"p\.json#123: 'final_decision' is 'perhaps'.*'maybe'"):
        list(load_pubmedqa(path))


def test_pubmedqa_missing_question(tmp_path: Path) -> None:
    path = write(tmp_path, {"123": {"final_decision": "yes"}}, "p.json")
    with pytest.raises(GoldError, match=r"p\.json#123: an entry needs a 'QUESTION'"):
        list(load_pubmedqa(path))


def test_pubmedqa_key_must_be_a_pmid(tmp_path: Path) -> None:
    path = write(tmp_path, {"abc": {"QUESTION": "Q?", "final_decision": "yes"}}, "p.json")
    with pytest.raises(GoldError, match=r"p\.json#abc: the key must be a PMID"):
        list(load_pubmedqa(path))


def test_pubmedqa_long_answer_must_be_text(tmp_path: Path) -> None:
    entry = {"QUESTION": "Q?", "final_decision": "yes", "LONG_ANSWER": ["a"]}
    with pytest.raises(GoldError, match=r"#123: 'LONG_ANSWER' must be a string"):
        list(load_pubmedqa(write(tmp_path, {"123": entry}, "p.json")))


def test_pubmedqa_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"p\.json: not a PubMedQA file"):
        list(load_pubmedqa(write(tmp_path, [1], "p.json")))


def test_pubmedqa_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"absent\.json: no such file"):
        list(load_pubmedqa(tmp_path / "absent.json"))


# --- JSONL ----------------------------------------------------------------------------------------


def custom() -> list[GoldQuestion]:
    return list(load_jsonl(FIXTURES / "custom.jsonl"))


def test_jsonl_skips_blank_lines() -> None:
    assert [q.id for q in custom()] == ["c1", "custom.jsonl:3", "custom.jsonl:4"]


def test_jsonl_bare_pmids_become_litrag_ids() -> None:
    assert custom()[0].gold_ids == ("pmid:38281981", "pmid:29768149")


def test_jsonl_litrag_ids_are_canonical() -> None:
    assert custom()[1].gold_ids == ("pmid:38281981", "pmcid:PMC7654321", "doi:10.1000/abc.1")


def test_jsonl_label_answer_and_default_type() -> None:
    q = custom()[0]
    assert (q.type, q.label, q.ideal_answer) == ("yesno", "maybe", "Possibly.")


def test_jsonl_given_type_is_kept() -> None:
    assert custom()[1].type == "list"


def test_jsonl_without_label_or_gold_is_a_summary_question() -> None:
    q = custom()[2]
    assert (q.type, q.label, q.gold_ids, q.source) == (
        "summary", "", (), f"{FIXTURES / 'custom.jsonl'}:4",
    )  # fmt: skip


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_bad_json_names_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path, '{"question": "Q?"}', "{oops")
    with pytest.raises(GoldError, match=r"set\.jsonl:2: not a JSON object"):
        list(load_jsonl(path))


def test_jsonl_line_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"set\.jsonl:1: each line must be a JSON object"):
        list(load_jsonl(write_lines(tmp_path, '["Q?"]')))


def test_jsonl_question_is_required(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"set\.jsonl:1: a line needs a non-empty 'question'"):
        list(load_jsonl(write_lines(tmp_path, '{"gold_ids": ["1"]}')))


def test_jsonl_gold_ids_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"set\.jsonl:1: 'gold_ids' must be a list"):
        list(load_jsonl(write_lines(tmp_path, '{"question": "Q?", "gold_ids": "123"}')))


def test_jsonl_unknown_id_scheme(tmp_path: Path) -> None:
    line = '{"question": "Q?", "gold_ids": ["arxiv:2101.1"]}'
    with pytest.raises(GoldError, match=r"set\.jsonl:1: gold id 'arxiv:2101.1' is neither.*pmcid:"):
        list(load_jsonl(write_lines(tmp_path, line)))


def test_jsonl_pmid_prefix_needs_digits(tmp_path: Path) -> None:
    line = '{"question": "Q?", "gold_ids": ["pmid:abc"]}'
    with pytest.raises(GoldError, match=r"gold id 'pmid:abc' is neither"):
        list(load_jsonl(write_lines(tmp_path, line)))


def test_jsonl_bad_label_lists_choices(tmp_path: Path) -> None:
    line = '{"question": "Q?", "label": "Yes"}'
    with pytest.raises(GoldError, match=r"set\.jsonl:1: 'label' is 'Yes'; expected one of"):
        list(load_jsonl(write_lines(tmp_path, line)))


def test_jsonl_answer_must_be_text(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"set\.jsonl:1: 'answer' must be a string"):
        list(load_jsonl(write_lines(tmp_path, '{"question": "Q?", "answer": 1}')))


def test_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"gone\.jsonl: no such file"):
        list(load_jsonl(tmp_path / "gone.jsonl"))


# --- load_gold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "count"),
    [
        ("pubmedqa", "pqal_small.json", 3),
        ("bioasq", "bioasq_small.json", 4),
        ("jsonl", "custom.jsonl", 3),
    ],
)
def test_load_gold_dispatches(kind: str, name: str, count: int) -> None:
    assert len(load_gold(kind, FIXTURES / name)) == count


def test_load_gold_unknown_kind_lists_choices() -> None:
    with pytest.raises(
        GoldError, match="unknown gold kind 'squad'; choose one of: bioasq, citint, jsonl, pubmedqa"
    ):
        load_gold("squad", FIXTURES / "custom.jsonl")


# --- The table of kinds ---------------------------------------------------------------------------


def test_every_kind_is_named_by_its_key() -> None:
    assert [(key, kind.name) for key, kind in KINDS.items()] == [
        ("pubmedqa", "pubmedqa"), ("bioasq", "bioasq"), ("jsonl", "jsonl"), ("citint", "citint"),
    ]  # fmt: skip


def test_bioasq_labels_are_yes_or_no() -> None:
    assert (KINDS["bioasq"].labels, KINDS["pubmedqa"].labels) == (("yes", "no"), LABELS)


def test_only_pubmedqa_has_published_figures() -> None:
    assert [k.name for k in KINDS.values() if k.published] == ["pubmedqa"]


def test_a_kind_that_does_not_retrieve_needs_no_index() -> None:
    # The shape a claim-verification kind would take: its own loader and measures.
    kind = GoldKind("claims", "Claims", load_jsonl, "claims", measures=("answers",))
    assert (kind.needs_index, KINDS["jsonl"].needs_index) == (False, True)


def test_gold_kind_unknown_lists_choices() -> None:
    with pytest.raises(GoldError, match="choose one of: bioasq, citint, jsonl, pubmedqa"):
        gold_kind("squad")
