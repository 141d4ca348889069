"""Gold question sets -> :class:`GoldQuestion` records, and the table of gold kinds.

Three question formats, one loader each, all ``path -> Iterator[GoldQuestion]``: PubMedQA PQA-L
JSON, BioASQ Task B golden JSON, and a JSONL file of our own. A fourth kind holds claims instead
of questions: Citation-Integrity, ``path -> Iterator[ClaimPair]`` (:mod:`eval.claims`).
:data:`KINDS` names each with its loader and what a run on it measures; :func:`load_gold`,
:func:`load_claims`, ``rag eval`` and the runners read the names from there. A file that cannot be
used raises :class:`GoldError` naming the file, the entry (PMID key, question index or line
number) and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from base.errors import GoldError
from corpus.model import normalize_doi, normalize_pmcid, normalize_pmid
from eval.claims import ClaimPair, json_lines, load_citint

LABELS = ("yes", "no", "maybe")


@dataclass(frozen=True, slots=True)
class GoldQuestion:
    """One question with the documents that answer it (ids as litrag makes them: ``pmid:…``).

    ``label`` is the yes/no/maybe answer of a yes/no question ("" otherwise). ``exact_groups``
    keeps BioASQ factoid/list answers as one tuple of synonyms per expected item;
    ``exact_answer`` is the same strings flattened.
    """

    id: str
    question: str
    type: str  # yesno, factoid, list, summary (BioASQ); yesno/no/maybe sets use "yesno"
    gold_ids: tuple[str, ...]
    ideal_answer: str = ""
    exact_answer: tuple[str, ...] = ()
    source: str = ""
    label: str = ""
    exact_groups: tuple[tuple[str, ...], ...] = ()
    snippets: tuple[str, ...] = ()  # BioASQ gold snippets: passages that support the answer


def gold_kind(name: str) -> GoldKind:
    """The entry of :data:`KINDS` called ``name``; a :class:`GoldError` listing them otherwise."""
    kind = KINDS.get(name)
    if kind is None:
        raise GoldError(f"unknown gold kind {name!r}; choose one of: {', '.join(sorted(KINDS))}")
    return kind


def load_gold(kind: str, path: Path) -> list[GoldQuestion]:
    """Every question of the gold set at ``path`` in format ``kind`` (see :data:`KINDS`)."""
    return _load(kind, path, GoldQuestion)


def load_claims(kind: str, path: Path) -> list[ClaimPair]:
    """Every claim–cited-paper pair of the claims file ``path`` in format ``kind``."""
    return _load(kind, path, ClaimPair)


_Record = TypeVar("_Record", GoldQuestion, ClaimPair)


def _load(kind: str, path: Path, record: type[_Record]) -> list[_Record]:
    """The records of ``path``; a :class:`GoldError` when kind ``kind`` holds another sort."""
    entry = gold_kind(kind)
    wanted = "claims" if record is ClaimPair else "questions"
    if entry.holds != wanted:
        raise GoldError(f"the {kind} gold kind holds {entry.holds}, not {wanted}")
    return [r for r in entry.loader(path) if isinstance(r, record)]


def _read_json(path: Path, what: str) -> object:
    if not path.is_file():
        raise GoldError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{path}: not a {what} file ({exc})") from exc


# --- PubMedQA -----------------------------------------------------------------------------------


def load_pubmedqa(path: Path) -> Iterator[GoldQuestion]:
    """PubMedQA PQA-L JSON ``{PMID: {QUESTION, final_decision, LONG_ANSWER, …}}``.

    The gold document is the PMID itself; ``label`` is ``final_decision`` (yes/no/maybe) and
    ``ideal_answer`` the ``LONG_ANSWER``.
    """
    data = _read_json(path, "PubMedQA")
    if not isinstance(data, dict):
        raise GoldError(f"{path}: not a PubMedQA file (expected an object keyed by PMID)")
    for key, entry in data.items():
        yield _pubmedqa_question(str(key), entry, f"{path}#{key}")


def _pubmedqa_question(key: str, entry: object, where: str) -> GoldQuestion:
    pmid = normalize_pmid(key) if key.strip().isdigit() else None
    if pmid is None:
        raise GoldError(f"{where}: the key must be a PMID (digits)")
    if not isinstance(entry, dict) or not isinstance(entry.get("QUESTION"), str):
        raise GoldError(f"{where}: an entry needs a 'QUESTION' string")
    label = entry.get("final_decision")
    if label not in LABELS:
        raise GoldError(f"{where}: 'final_decision' is {label!r}; expected one of {LABELS}")
    long_answer = entry.get("LONG_ANSWER", "")
    if not isinstance(long_answer, str):
        raise GoldError(f"{where}: 'LONG_ANSWER' must be a string")
    return GoldQuestion(
        id=pmid,
        question=entry["QUESTION"],
        type="yesno",
        gold_ids=(f"pmid:{pmid}",),
        ideal_answer=long_answer,
        source=where,
        label=str(label),
    )


# --- BioASQ -------------------------------------------------------------------------------------


def load_bioasq(path: Path) -> Iterator[GoldQuestion]:
    """BioASQ Task B golden JSON: one file, or every ``*.json`` in a folder (sorted)."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise GoldError(f"{path}: no *.json files in this folder")
    else:
        files = [path]
    for file in files:
        data = _read_json(file, "BioASQ golden")
        questions = data.get("questions") if isinstance(data, dict) else None
        if not isinstance(questions, list):
            raise GoldError(f"{file}: not a BioASQ golden file (no 'questions' list)")
        for n, entry in enumerate(questions):
            yield _bioasq_question(entry, f"{file}#{n}")


def _bioasq_question(entry: object, where: str) -> GoldQuestion:
    if not isinstance(entry, dict) or not isinstance(entry.get("body"), str):
        raise GoldError(f"{where}: a question needs a 'body' string")
    docs = entry.get("documents") or []
    if not isinstance(docs, list):
        raise GoldError(f"{where}: 'documents' must be a list of PubMed URLs")
    ideal = entry.get("ideal_answer") or ""
    exact = entry.get("exact_answer") or ()
    kind = str(entry.get("type") or "summary")
    groups = _exact_groups(exact)
    label = groups[0][0].strip().lower() if kind == "yesno" and groups else ""
    return GoldQuestion(
        id=str(entry.get("id") or where),
        question=entry["body"],
        type=kind,
        gold_ids=tuple(
            dict.fromkeys(f"pmid:{str(u).rstrip('/').rsplit('/', 1)[-1]}" for u in docs)
        ),
        ideal_answer=ideal[0] if isinstance(ideal, list) and ideal else str(ideal),
        exact_answer=tuple(_flatten(exact)),
        source=where,
        label=label if label in LABELS else "",
        exact_groups=groups,
        snippets=tuple(
            str(s["text"])
            for s in entry.get("snippets") or ()
            if isinstance(s, dict) and s.get("text")
        ),
    )


def _exact_groups(exact: object) -> tuple[tuple[str, ...], ...]:
    """``"yes"`` -> (("yes",),); ``[["a", "A"], ["b"]]`` -> (("a", "A"), ("b",)).

    A flat list of strings is one item's synonyms, as factoid answers of early BioASQ tasks
    were written.
    """
    if isinstance(exact, list | tuple) and any(isinstance(x, list | tuple) for x in exact):
        groups = (tuple(_flatten(item)) for item in exact)
        return tuple(g for g in groups if g)
    flat = tuple(_flatten(exact))
    return (flat,) if flat else ()


def _flatten(value: object) -> Iterator[str]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value not in (None, ""):
        yield str(value)


# --- JSONL --------------------------------------------------------------------------------------


def load_jsonl(path: Path) -> Iterator[GoldQuestion]:
    """A question set of our own: one JSON object per line, blank lines skipped.

    ``{"question": str, "gold_ids"?: [PMID or litrag id], "answer"?: str, "type"?: str,
    "id"?: str, "label"?: "yes"|"no"|"maybe"}``. Bare PMIDs become ``pmid:…``. ``type``
    defaults to "yesno" when there is a label, else "summary"; ``id`` to ``<file name>:<line>``.
    """
    for number, entry in json_lines(path):
        where = f"{path}:{number}"
        yield _jsonl_question(entry, where, default_id=f"{path.name}:{number}")


def _jsonl_question(entry: object, where: str, default_id: str) -> GoldQuestion:
    if not isinstance(entry, dict):
        raise GoldError(f"{where}: each line must be a JSON object")
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip():
        raise GoldError(f"{where}: a line needs a non-empty 'question' string")
    gold = entry.get("gold_ids", [])
    if not isinstance(gold, list):
        raise GoldError(f"{where}: 'gold_ids' must be a list")
    answer, label, kind = entry.get("answer", ""), entry.get("label", ""), entry.get("type")
    if not isinstance(answer, str):
        raise GoldError(f"{where}: 'answer' must be a string")
    if label != "" and label not in LABELS:
        raise GoldError(f"{where}: 'label' is {label!r}; expected one of {LABELS}")
    if kind is not None and not isinstance(kind, str):
        raise GoldError(f"{where}: 'type' must be a string")
    return GoldQuestion(
        id=str(entry.get("id") or default_id),
        question=question,
        type=kind or ("yesno" if label else "summary"),
        gold_ids=tuple(dict.fromkeys(_gold_id(g, where) for g in gold)),
        ideal_answer=answer,
        source=where,
        label=str(label),
    )


_ID_NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "pmid": normalize_pmid,
    "pmcid": normalize_pmcid,
    "doi": normalize_doi,
    "hash": lambda h: h if h.isalnum() else None,
}


def _gold_id(raw: object, where: str) -> str:
    """``123`` or ``"123"`` -> ``"pmid:123"``; a litrag id (``pmid:``, ``pmcid:``, ``doi:``,
    ``hash:``) in its canonical form; anything else is a :class:`GoldError`."""
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    prefix, _, value = text.partition(":") if ":" in text else ("pmid", ":", text)
    prefix = prefix.lower()
    normalize = _ID_NORMALIZERS.get(prefix)
    canonical = None
    if normalize is not None and (prefix != "pmid" or value.isdigit()):
        canonical = normalize(value)
    if canonical is None:
        choices = ", ".join(f"{p}:…" for p in _ID_NORMALIZERS)
        raise GoldError(f"{where}: gold id {raw!r} is neither a PMID nor a litrag id ({choices})")
    return f"{prefix}:{canonical}"


# --- The table of kinds -------------------------------------------------------------------------

# A summary.json block a kind's runs write beside "latency" and "stamp" (see eval.records.Summary);
# a kind with a block of its own adds its name here. "verification": claims checked against the
# papers they cite (eval.citint runs it).
Measure = Literal["retrieval", "answers", "citations", "verification"]
_QA: tuple[Measure, ...] = ("retrieval", "answers", "citations")


@dataclass(frozen=True, slots=True)
class Published:
    """A published result on a gold set, shown beside ours in report.md (percent)."""

    system: str
    accuracy: float
    macro_f1: float


@dataclass(frozen=True, slots=True)
class GoldKind:
    """One ``rag eval KIND``: how its gold file is read and what a run on it measures.

    ``loader`` reads a gold file into questions or, for a kind that measures verification, into
    claim pairs (see :attr:`holds`). ``labels`` are the choices the LLM picks from for a question
    with a yes/no(/maybe) label. ``measures`` names the summary.json blocks its runs write; a kind
    that does not measure retrieval needs no index. ``published`` (with ``published_note`` saying
    on what data) are reference figures the report sets beside ours.
    """

    name: str
    title: str
    loader: Callable[[Path], Iterator[GoldQuestion | ClaimPair]]
    description: str  # the format, for `rag eval --help`
    labels: tuple[str, ...] = LABELS
    measures: tuple[Measure, ...] = _QA
    published: tuple[Published, ...] = ()
    published_note: str = ""

    @property
    def needs_index(self) -> bool:
        """Whether a run retrieves from an index (``--index``)."""
        return "retrieval" in self.measures

    @property
    def holds(self) -> Literal["questions", "claims"]:
        """What its loader yields: claim pairs for a kind that measures verification."""
        return "claims" if "verification" in self.measures else "questions"


# Adding a kind is one entry here (plus its loader, and its runner if its runs do not retrieve and
# answer, as eval/citint.py for claims): the CLI's `rag eval KIND` choices and help come from this
# table.
KINDS: dict[str, GoldKind] = {
    kind.name: kind
    for kind in (
        GoldKind(
            "pubmedqa",
            "PubMedQA",
            load_pubmedqa,
            "PubMedQA PQA-L JSON: yes/no/maybe questions, one gold PMID each",
            published=(
                # Jin et al., 2019: reasoning-required setting, test set.
                Published("Majority class (published)", 55.2, 23.7),
                Published("BioBERT (published)", 68.1, 52.7),
                Published("Human (published)", 78.0, 72.2),
            ),
            published_note="Published figures are for the reasoning-required setting on the "
            "PubMedQA test set; ours are on the gold set named above, so they compare only "
            "roughly.",
        ),
        GoldKind(
            "bioasq",
            "BioASQ",
            load_bioasq,
            "BioASQ Task B golden JSON, a file or a folder: yes/no, factoid, list, summary",
            labels=("yes", "no"),
        ),
        GoldKind(
            "jsonl",
            "JSONL",
            load_jsonl,
            "our own: one JSON question per line",
        ),
        GoldKind(
            "citint",
            "Citation-Integrity",
            load_citint,
            "Citation-Integrity claims (a folder with corpus.jsonl and claims_*.jsonl; --split "
            "names the file): does each cited paper support its claim? No index",
            labels=(),
            measures=("verification",),
        ),
    )
}
