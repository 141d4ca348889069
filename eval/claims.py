"""Citation-Integrity claim sets -> :class:`ClaimPair` records: one per claim and cited paper.

A claim set is a folder holding ``corpus.jsonl`` (``{doc_id, title, abstract: [segments]}`` per
line) and ``claims_<split>.jsonl`` (``{id, claim, evidence: {doc_id: [{sentences, label}]},
cited_doc_ids}`` per line). Each cited paper of a claim is one pair: ``SUPPORT`` when its evidence
says so (an accurate citation), ``REFUTE`` when any of its evidence entries refutes the claim, and
``NEI`` (not enough information) when the claim has no evidence entry for it; REFUTE and NEI are
inaccurate citations.

The claims and passages are prepared exactly as ``benchmarks/verifier_data.py`` prepares them for
fitting the verifier (:func:`clean_claim`; the abstract segments joined by spaces; a paper whose
abstract is empty left out), so that ``rag eval citint`` reproduces the dev figures
``benchmarks/fit_verifier.py`` prints. ``tests/eval/test_citint.py`` checks the agreement on the
shared data. A file that cannot be used raises :class:`GoldError` naming the file, the line and the
reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from base.errors import GoldError
from base.text import split_sentences
from rag.answer.citations import MIN_CLAUSE_WORDS
from rag.answer.signals import PLAIN, CitationForm

CORPUS_NAME = "corpus.jsonl"
ClaimLabel = Literal["SUPPORT", "REFUTE", "NEI"]
_EVIDENCE_LABELS = ("SUPPORT", "REFUTE")
_MARK = re.compile(r"<\|(?:cit|multi_cit|other_cit)\|>")
_GROUP = re.compile(r"\[?\s*(?:<\|[a-z_]+\|>[\s,;]*)+\]?")  # adjacent markers, one group


@dataclass(frozen=True, slots=True)
class ClaimPair:
    """One claim against one paper it cites, with the gold verdict on the citation.

    ``claim`` is the citing sentence(s) with citation markers removed (:func:`clean_claim`);
    ``passage`` is the cited paper's abstract; ids are kept as the gold files write them, as text.
    """

    claim_id: str
    claim: str
    doc_id: str
    label: ClaimLabel
    passage: str
    source: str  # file:line of the claim
    form: CitationForm = PLAIN  # how the citing text cites the paper

    @property
    def accurate(self) -> bool:
        """Whether the citation is accurate: the paper supports the claim (``SUPPORT``)."""
        return self.label == "SUPPORT"


def clean_claim(text: str) -> str:
    """The part of a citing text that its target citation backs, markers removed.

    The target citation is ``<|cit|>`` or ``<|multi_cit|>``; ``<|other_cit|>`` marks another
    paper's citation. The claim is the sentence(s) holding the target; when the sentence cites
    other papers too, only its clause ending at the target's marker (from the marker before it),
    if that clause has :data:`MIN_CLAUSE_WORDS` words: "A [<|other_cit|>], and B [<|cit|>]"
    claims B. The markers go, and so do the brackets, numbers and "et al." parentheses they
    leave. ``benchmarks/fit_verifier.py`` prepares its training data with this too.
    """
    # A marker just after a full stop cites the sentence before it: "x.<|cit|> Y", "x. [<|cit|>]"
    text = re.sub(r"(?<!\bal)([.!?])\s*(\[?(?:<\|[a-z_]+\|>[\s,;]*)+\]?)(\s|$)", r" \2\1\3", text)
    if "<|other_cit|>" in text:
        last = 0
        for m in _GROUP.finditer(text):
            if "<|cit|>" in m.group() or "<|multi_cit|>" in m.group():
                clause = _sentences_cleaned(text[last : m.end()])
                if len(clause.split()) >= MIN_CLAUSE_WORDS:
                    return clause
                break
            last = m.end()
    return _sentences_cleaned(text)


def citation_form(text: str) -> CitationForm:
    """How a citing text cites its target: in a group of several papers (``<|multi_cit|>``),
    and whether it cites other papers elsewhere (``<|other_cit|>``)."""
    return CitationForm(with_others="<|multi_cit|>" in text, others="<|other_cit|>" in text)


def _sentences_cleaned(text: str) -> str:
    """The sentences of ``text`` holding the target citation, markers and their debris removed."""
    sentences = [text[a:b] for a, b in split_sentences(text)] or [text]
    keep = [s for s in sentences if "<|cit|>" in s or "<|multi_cit|>" in s] or sentences
    out = _MARK.sub("", " ".join(keep))
    out = re.sub(r"\[[\s,;0-9–\-]*\]", "", out)
    out = re.sub(r"\((?:[^()]*?(?:et al\.?|[0-9]{4})[^()]*?|[\s,;0-9–\-]*)\)", "", out)
    out = re.sub(r"\s+([.,;:])", r"\1", out)
    return re.sub(r"\s+", " ", out).strip()


def claims_file(folder: Path, split: str) -> Path:
    """``folder/<split>.jsonl`` (``split`` as ``claims_dev``); a :class:`GoldError` naming the
    splits the folder has when there is no such file."""
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        found = ", ".join(p.stem for p in sorted(folder.glob("claims_*.jsonl"))) or "none"
        raise GoldError(f"{path}: no such file; the claim splits in {folder} are: {found}")
    return path


def load_citint(path: Path) -> Iterator[ClaimPair]:
    """The pairs of the claims file ``path`` (``claims_<split>.jsonl``), against the papers of
    ``corpus.jsonl`` beside it, in file order; blank lines skipped."""
    passages = _read_corpus(path.parent / CORPUS_NAME)
    for number, entry in json_lines(path):
        yield from _claim_pairs(entry, passages, f"{path}:{number}")


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, JSON value) for each non-blank line of ``path``."""
    if not path.is_file():
        raise GoldError(f"{path}: no such file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot be read ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                raise GoldError(f"{path}:{number}: not a JSON object ({exc})") from exc


def _read_corpus(path: Path) -> dict[str, str]:
    """Each paper's passage by doc id: its abstract segments, stripped, joined by spaces."""
    passages = {}
    for number, entry in json_lines(path):
        abstract = entry.get("abstract") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or "doc_id" not in entry or not isinstance(abstract, list):
            raise GoldError(f"{path}:{number}: a paper needs a 'doc_id' and an 'abstract' list")
        passages[str(entry["doc_id"])] = " ".join(
            s.strip() for s in abstract if isinstance(s, str) and s.strip()
        )
    return passages


def _claim_pairs(entry: object, passages: Mapping[str, str], where: str) -> Iterator[ClaimPair]:
    if not isinstance(entry, dict) or not isinstance(entry.get("claim"), str):
        raise GoldError(f"{where}: a claim needs a 'claim' string")
    cited, evidence = entry.get("cited_doc_ids"), entry.get("evidence") or {}
    if not isinstance(cited, list) or not isinstance(evidence, dict):
        raise GoldError(f"{where}: 'cited_doc_ids' must be a list and 'evidence' an object")
    claim, form = clean_claim(entry["claim"]), citation_form(entry["claim"])
    for doc_id in dict.fromkeys(str(d) for d in cited):
        if doc_id not in passages:
            raise GoldError(f"{where}: cited document {doc_id} is not in {CORPUS_NAME}")
        if passages[doc_id]:  # an empty abstract gives nothing to verify against
            yield ClaimPair(
                claim_id=str(entry.get("id", where)),
                claim=claim,
                doc_id=doc_id,
                label=_label(evidence.get(doc_id), f"{where} (document {doc_id})"),
                passage=passages[doc_id],
                source=where,
                form=form,
            )


def _label(entries: object, where: str) -> ClaimLabel:
    """The verdict of a cited paper's evidence entries: any REFUTE refutes, none is NEI."""
    if not entries:
        return "NEI"
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GoldError(f"{where}: the evidence must be a list of {{sentences, label}} objects")
    labels = {e.get("label") for e in entries}
    if not labels <= set(_EVIDENCE_LABELS):
        bad = sorted(map(str, labels - set(_EVIDENCE_LABELS)))
        raise GoldError(f"{where}: evidence label {bad[0]!r}; expected one of {_EVIDENCE_LABELS}")
    return "REFUTE" if "REFUTE" in labels else "SUPPORT"
