"""Citations as a closed loop: parse ``[n]`` markers, check each sentence against what it cites.

1. :func:`parse_answer` splits the LLM's text into sentences and takes the markers off each
   (``[1]``, ``[1][2]``, ``[1, 2]``, ``[1-3]``); markers naming no source are dropped.
2. :class:`SupportChecker` scores a sentence against a passage two ways: the share of the
   sentence's content words found in the passage (lexical) and the best cosine similarity
   between the sentence and one of the passage's sentences (embedding).
3. :func:`close_loop` keeps markers whose passage supports the sentence, gives uncited sentences
   the best supporting source (when asked to), flags or removes unsupported sentences,
   renumbers the sources in order of first use and builds the citation list from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from rag.answer import Citation, Sentence, Source
from rag.embeddings import Embedder
from rag.settings import AnswerSettings

MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[-–]|,)\s*\d{1,3})*)\s*\]")
_ABBREVIATIONS = {"e.g", "i.e", "et al", "fig", "figs", "vs", "dr", "no", "approx", "ca", "cf"}
_BOUNDARY = re.compile(r"[.!?](?P<markers>(?:\s*" + MARKER.pattern + r")*)(?=\s+|$)")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(STOPWORDS_EN_PLUS)
_stemmer = Stemmer.Stemmer("english")
_REMEMBERED = 256  # passages whose sentence vectors a checker keeps (a few answers' worth)


@dataclass(frozen=True, slots=True)
class Claim:
    """One answer sentence with its markers removed and the source numbers they named."""

    text: str
    cited: tuple[int, ...]  # valid source numbers, in order, without repeats
    paragraph: int = 0


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


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of one paragraph; markers after a full stop stay with it."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        word = re.search(r"([A-Za-z.]+)$", text[start : m.start()])
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        if text[m.end() :].strip()[:1].islower():
            continue  # "p. value", "approx. three": not a sentence end
        spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in spans]


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


def parse_answer(text: str, valid: int) -> list[Claim]:
    """The sentences of an LLM answer with the source numbers each cites (1..``valid``)."""
    claims: list[Claim] = []
    for p, paragraph in enumerate(re.split(r"\n\s*\n", text.strip())):
        for a, b in split_sentences(paragraph):
            clean, cited = strip_markers(paragraph[a:b], valid)
            if any(ch.isalnum() for ch in clean):
                claims.append(Claim(clean, cited, p))
            elif cited and claims:  # a marker alone after the full stop belongs to the last one
                last = claims[-1]
                claims[-1] = Claim(
                    last.text, tuple(dict.fromkeys(last.cited + cited)), last.paragraph
                )
    return claims


def content_stems(text: str) -> set[str]:
    """Stemmed lower-case words of ``text`` without stop words."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return set(_stemmer.stemWords(words))


def lexical_support(claim: str, passage: str) -> float:
    """Share of the claim's content words (stemmed) that occur in the passage."""
    words = content_stems(claim)
    return len(words & content_stems(passage)) / len(words) if words else 0.0


@dataclass(frozen=True, slots=True)
class Support:
    """How well one passage supports one claim."""

    lexical: float
    embedding: float  # best cosine between the claim and one passage sentence
    evidence: tuple[int, int]  # that sentence's span in the passage
    supported: bool


class SupportChecker:
    """Scores claims against passages with the index's embedder and the tuned thresholds."""

    def __init__(self, embedder: Embedder, settings: AnswerSettings) -> None:
        self.embedder = embedder
        self.settings = settings
        self._seen: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def sentence_vectors(
        self, passages: Sequence[str]
    ) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Each passage's sentence spans and their vectors (one batch for the passages not seen).

        An answer embeds its passages' sentences once: the prompt excerpts, the extractive pick
        and the support check all ask for the same passages, so the last few are remembered.
        """
        for p in dict.fromkeys(passages):  # the least recently asked for go first
            if p in self._seen:
                self._seen[p] = self._seen.pop(p)
        missing = list(dict.fromkeys(p for p in passages if p not in self._seen))
        spans = [split_sentences(p) or [(0, len(p))] for p in missing]
        texts = [p[a:b] for p, ss in zip(missing, spans, strict=True) for a, b in ss]
        vectors = self.embedder.embed_documents(texts) if texts else np.zeros((0, 1))
        i = 0
        for passage, ss in zip(missing, spans, strict=True):
            self._seen[passage] = (ss, vectors[i : i + len(ss)])
            i += len(ss)
        found = [self._seen[p] for p in passages]
        while len(self._seen) > max(_REMEMBERED, len(passages)):
            self._seen.pop(next(iter(self._seen)))
        return found

    def check(self, claims: Sequence[str], passages: Sequence[str]) -> list[list[Support]]:
        """``result[i][j]``: how passage ``j`` supports claim ``i``."""
        if not claims or not passages:
            return [[] for _ in claims]
        claim_vectors = self.embedder.embed_documents(list(claims))
        per_passage = self.sentence_vectors(passages)
        table: list[list[Support]] = []
        for claim, cv in zip(claims, claim_vectors, strict=True):
            row = []
            for passage, (spans, vectors) in zip(passages, per_passage, strict=True):
                sims = vectors @ cv
                best = int(np.argmax(sims))
                lex = lexical_support(claim, passage)
                emb = float(sims[best])
                ok = emb >= self.settings.support_embedding or lex >= self.settings.support_lexical
                row.append(Support(lex, emb, spans[best], ok))
            table.append(row)
        return table


def close_loop(
    claims: Sequence[Claim], sources: Sequence[Source], checker: SupportChecker
) -> tuple[str, tuple[Sentence, ...], tuple[Citation, ...]]:
    """Check, attach, renumber: the final answer text, its sentences and its citations."""
    settings = checker.settings
    table = checker.check([c.text for c in claims], [s.passage for s in sources])
    kept: list[tuple[int, tuple[int, ...], bool]] = []  # (claim index, cited, supported)
    for i, (claim, row) in enumerate(zip(claims, table, strict=True)):
        cited = claim.cited
        if not cited and settings.attach_citations and row:
            best = max(range(len(row)), key=lambda j: (row[j].supported, row[j].embedding))
            cited = (best + 1,) if row[best].supported else ()
        supported = any(row[n - 1].supported for n in cited)
        if supported or not settings.remove_unsupported:
            kept.append((i, cited, supported))
    order = list(dict.fromkeys(n for _, cited, _ in kept for n in cited))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    sentences = tuple(
        Sentence(claims[i].text, tuple(renumber[n] for n in cited), ok) for i, cited, ok in kept
    )
    citations = tuple(
        citation_for(
            sources[old - 1], renumber[old], [table[i][old - 1] for i, c, _ in kept if old in c]
        )
        for old in order
    )
    return render(sentences, [claims[i].paragraph for i, _, _ in kept]), sentences, citations


def citation_for(src: Source, n: int, checks: Sequence[Support]) -> Citation:
    """The citation of ``src`` as number ``n``: supported when it supports every citing sentence."""
    best = max(checks, key=lambda s: (s.supported, s.embedding))
    a, b = best.evidence
    return Citation(
        n=n,
        source=replace(src, n=n),
        supported=all(s.supported for s in checks),
        support=best.embedding,
        evidence=src.passage[a:b],
        evidence_start=a,
        evidence_end=b,
    )


def render(sentences: Sequence[Sentence], paragraphs: Sequence[int]) -> str:
    """Sentences joined into paragraphs, each with its markers before the final stop."""
    out: list[str] = []
    previous = None
    for sentence, paragraph in zip(sentences, paragraphs, strict=True):
        marks = "".join(f"[{n}]" for n in sentence.citations)
        text = sentence.text
        if marks:
            stop = text[-1] if text[-1:] in ".!?" else ""
            text = f"{text[: len(text) - len(stop)].rstrip()} {marks}{stop}"
        if previous is not None:
            out.append("\n\n" if paragraph != previous else " ")
        out.append(text)
        previous = paragraph
    return "".join(out)
