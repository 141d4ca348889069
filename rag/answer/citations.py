"""Citations as a closed loop: parse ``[n]`` markers, check each sentence against what it cites.

1. :func:`parse_answer` splits the LLM's text into sentences and takes the markers off each
   (``[1]``, ``[1][2]``, ``[1, 2]``, ``[1-3]``); markers naming no source are dropped.
2. :func:`close_loop` has the verifier (:mod:`rag.answer.verify`) judge each sentence against
   the passages it cites, gives uncited sentences the best supporting source (when asked to),
   removes (or flags) unsupported sentences, renumbers the sources in order of first use and
   builds the citation list from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from base.text import MARKER, split_sentences
from rag.answer.records import Citation, Removed, Sentence, Source
from rag.answer.signals import PLAIN, CitationForm

if TYPE_CHECKING:  # annotations only: verify.py loads the embedder and the CrossEncoder
    from rag.answer.verify import Verdict, Verifier

# List formatting, not text: a sentence that is only an enumerator ("1.", "(2)", "*"), split off
# by the sentence splitter from "1. The disease ..." (SmolLM2 writes numbered lists often), and a
# bullet at a sentence start.
_ENUMERATOR = re.compile(r"\(?\d{1,3}[.)]|[-*•]")
_BULLET = re.compile(r"^(?:[-*•]|\(?\d{1,3}\))\s+")
MIN_CLAUSE_WORDS = 4  # words a clause needs to be judged alone (here and in eval.claims)


@dataclass(frozen=True, slots=True)
class Claim:
    """One answer sentence with its markers removed and the source numbers they named."""

    text: str
    cited: tuple[int, ...]  # valid source numbers, in order, without repeats
    paragraph: int = 0
    form: CitationForm = PLAIN  # how its markers cite (one of the verifier's signals)
    clauses: tuple[tuple[int, str], ...] = ()  # (source, its own clause) when markers stand apart


def expand_marker(body: str) -> list[int]:
    """``"1, 3-5"`` -> ``[1, 3, 4, 5]`` (ranges longer than 20 are ignored as not citations)."""
    numbers: list[int] = []
    for part in body.split(","):
        bounds = re.split(r"\s*[-–]\s*", part.strip())
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            if lo <= hi and hi - lo < 20:
                numbers += range(lo, hi + 1)
        elif bounds[0]:
            numbers.append(int(bounds[0]))
    return numbers


def strip_markers(text: str, valid: int) -> tuple[str, tuple[int, ...]]:
    """``text`` without its markers, and the valid (1..``valid``) numbers they named, in order.

    A marker between two letters ("immuno[1]therapy") is removed without leaving a space.
    """
    cited: list[int] = []
    pieces: list[str] = []
    last = 0
    for m in MARKER.finditer(text):
        cited += [n for n in expand_marker(m.group(1)) if 1 <= n <= valid]
        before, after = text[last : m.start()], text[m.end() : m.end() + 1]
        joined = before[-1:].isalnum() and after.isalnum()
        pieces.append(before if joined else before.rstrip() + " ")
        last = m.end()
    pieces.append(text[last:])
    clean = re.sub(r"\s+([.,;:!?])", r"\1", "".join(pieces))
    return re.sub(r"\s+", " ", clean).strip(), tuple(dict.fromkeys(cited))


def _marker_groups(text: str, valid: int) -> list[tuple[int, int, set[int]]]:
    """(start, end, valid numbers) of each run of markers in ``text`` ("[1][2]" is one run)."""
    groups: list[tuple[int, int, set[int]]] = []
    for m in MARKER.finditer(text):
        named = {n for n in expand_marker(m.group(1)) if 1 <= n <= valid}
        if groups and not text[groups[-1][1] : m.start()].strip():
            start, _, before = groups[-1]
            groups[-1] = (start, m.end(), before | named)
        else:
            groups.append((m.start(), m.end(), named))
    return [g for g in groups if g[2]]


def citation_form(text: str, valid: int) -> CitationForm:
    """How the markers of one sentence cite: a marker naming several valid sources ("[1, 2]";
    adjacent markers "[1][2]" count as one), several markers apart ("A [1], B [2].")."""
    groups = _marker_groups(text, valid)
    return CitationForm(with_others=any(len(g[2]) > 1 for g in groups), others=len(groups) > 1)


def cited_clauses(text: str, valid: int) -> tuple[tuple[int, str], ...]:
    """Each source's own clause in a sentence whose markers stand apart ("A [1], and B [2]."):
    from the marker before its own to its own, markers taken off. A source named in two places,
    or whose clause has fewer than :data:`MIN_CLAUSE_WORDS` words, is judged on the whole
    sentence (left out here)."""
    groups = _marker_groups(text, valid)
    if len(groups) < 2:
        return ()
    found: dict[int, str] = {}
    twice: set[int] = set()
    last = 0
    for _, end, named in groups:
        clause = strip_markers(text[last:end], valid)[0].strip(" ,;:")
        twice |= named & found.keys()
        found.update({n: clause for n in named - found.keys()})
        last = end
    return tuple((n, c) for n, c in sorted(found.items())
                 if n not in twice and len(c.split()) >= MIN_CLAUSE_WORDS)  # fmt: skip


def parse_answer(text: str, valid: int) -> list[Claim]:
    """The sentences of an LLM answer with the source numbers each cites (1..``valid``)."""
    claims: list[Claim] = []
    for p, paragraph in enumerate(re.split(r"\n\s*\n", text.strip())):
        for a, b in split_sentences(paragraph):
            clean, cited = strip_markers(paragraph[a:b], valid)
            clean = _BULLET.sub("", clean)
            if _ENUMERATOR.fullmatch(clean):
                continue
            if any(ch.isalnum() for ch in clean):
                raw = paragraph[a:b]
                form, clauses = citation_form(raw, valid), cited_clauses(raw, valid)
                claims.append(Claim(clean, cited, p, form, clauses))
            elif cited and claims:  # a marker alone after the full stop belongs to the last one
                last = claims[-1]
                claims[-1] = replace(last, cited=tuple(dict.fromkeys(last.cited + cited)))
    return claims


def close_loop(
    claims: Sequence[Claim], sources: Sequence[Source], verifier: Verifier, question: str = ""
) -> tuple[str, tuple[Sentence, ...], tuple[Citation, ...], tuple[Removed, ...]]:
    """Verify, attach, remove, renumber: the answer text, its sentences, citations and removals.

    Each claim is judged against the passages it cites, beyond ``question``. With
    ``answer.remove_unsupported`` (the default) a claim no cited passage supports leaves the answer
    and is listed in the removals; otherwise it stays, flagged.
    """
    settings = verifier.settings
    # A source whose marker stands apart from the others' is judged on its own clause.
    parts = [(i, n, clause) for i, c in enumerate(claims) for n, clause in c.clauses]
    texts = [c.text for c in claims] + [clause for _, _, clause in parts]
    forms = [c.form for c in claims] + [claims[i].form for i, _, _ in parts]
    table = verifier.verify(texts, [s.passage for s in sources], question, forms)
    for k, (i, n, _) in enumerate(parts):
        table[i][n - 1] = table[len(claims) + k][n - 1]
    table = table[: len(claims)]
    kept: list[tuple[int, tuple[int, ...], bool]] = []  # (claim index, cited, supported)
    removed: list[Removed] = []
    for i, (claim, row) in enumerate(zip(claims, table, strict=True)):
        cited = claim.cited
        if not cited and settings.attach_citations and row:
            best = max(range(len(row)), key=lambda j: row[j].support)
            attached = row[best].supported and row[best].support >= settings.attach_threshold
            cited = (best + 1,) if attached else ()
        supported = any(row[n - 1].supported for n in cited)
        if supported or not settings.remove_unsupported:
            kept.append((i, cited, supported))
        else:
            considered = cited or range(1, len(row) + 1)  # uncited: the best of all sources
            support = max((row[n - 1].support for n in considered), default=0.0)
            removed.append(Removed(claim.text, cited, support, claim.paragraph))
    order = list(dict.fromkeys(n for _, cited, _ in kept for n in cited))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    sentences = tuple(
        Sentence(claims[i].text, tuple(renumber[n] for n in cited), ok, claims[i].paragraph)
        for i, cited, ok in kept
    )
    citations = tuple(
        citation_for(
            sources[old - 1], renumber[old], [table[i][old - 1] for i, c, _ in kept if old in c]
        )
        for old in order
    )
    return render(sentences), sentences, citations, tuple(removed)


def citation_for(src: Source, n: int, verdicts: Sequence[Verdict]) -> Citation:
    """The citation of ``src`` as number ``n``: supported when it supports every citing sentence."""
    best = max(verdicts, key=lambda v: (v.supported, v.support))
    a, b = best.evidence
    return Citation(
        n=n,
        source=replace(src, n=n),
        supported=all(v.supported for v in verdicts),
        support=best.support,
        evidence=src.passage[a:b],
        evidence_start=a,
        evidence_end=b,
    )


def render(sentences: Sequence[Sentence]) -> str:
    """Sentences joined into their paragraphs, each with its markers before the final stop."""
    out: list[str] = []
    previous = None
    for sentence in sentences:
        marks = "".join(f"[{n}]" for n in sentence.citations)
        body, stop = sentence.split_stop()
        if previous is not None:
            out.append("\n\n" if sentence.paragraph != previous else " ")
        out.append(f"{body} {marks}{stop}" if marks else sentence.text)
        previous = sentence.paragraph
    return "".join(out)
