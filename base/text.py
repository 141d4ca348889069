"""One text toolkit: identifiers, words, stop words, stems and sentences, the same everywhere.

Every part of litrag that reads words or sentences takes them from here, so a sentence is split
and stemmed the same way by the chunker, BM25 (the local index and Milvus), citation parsing and
the verifier:

- identifier patterns (:data:`DOI`, :data:`PMCID`) for the readers;
- BM25's words (:func:`bm25_tokenize`, :func:`bm25_words`): bm25s's token pattern, its English
  stop words and the Snowball stemmer; the local index and a Milvus collection index the same
  words, so their BM25 lists agree;
- content words (:func:`content_words`, :func:`content_stems`, :func:`is_claim`): the verifier's
  and citation parsing's words, with bm25s's longer stop-word list (``STOPWORDS_EN_PLUS``), which
  the verifier's weights (rag/answer/verifier.json) were fitted with;
- sentences (:func:`split_sentences`) for answers and the passages the verifier reads, and
  :data:`PASSAGE_BREAK`, the places a chunk may end or its overlap begin (sentence ends, but also
  semicolons and line breaks: a passage is cut at the clause nearest its size, not only at a full
  stop).

The stop-word lists and the stemmer are loaded on first use: the readers use this module's
patterns without loading bm25s.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import bm25s
    import Stemmer

# Identifiers. A DOI runs to the first space, quote or angle bracket.
DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
PMCID = re.compile(r"\bPMC\d{3,9}\b")

# A citation marker: "[1]", "[1, 2]", "[1-3]".
MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[-–]|,)\s*\d{1,3})*)\s*\]")

# Where a chunk may end: a sentence or clause end, or a line break.
PASSAGE_BREAK = re.compile(r"[.?!;]\s+|\n+")

WORD = re.compile(r"[a-z0-9]+")  # a content word, in lower-case text
BM25_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern (bm25s 0.3)
MIN_CLAIM_WORDS = 2  # content words (not numbers) a sentence needs to assert anything

_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "et al", "al", "ref", "refs", "fig", "figs", "vs", "dr", "no", "approx", "ca"}
    | {"cf"}
)
_BOUNDARY = re.compile(r"[.!?](?P<markers>(?:\s*" + MARKER.pattern + r")*)(?=\s+|$)")


@functools.cache
def stemmer() -> Stemmer.Stemmer:
    """The English Snowball stemmer (PyStemmer), one for the process."""
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.cache
def content_stopwords() -> frozenset[str]:
    """Stop words of content words: bm25s's ``STOPWORDS_EN_PLUS``."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


@functools.cache
def bm25_stopwords() -> frozenset[str]:
    """Stop words BM25 drops: bm25s's ``"en"`` list (``STOPWORDS_EN``)."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def stem(word: str) -> str:
    """The Snowball stem of one lower-case word."""
    return str(stemmer().stemWord(word))


def stem_words(words: Iterable[str]) -> list[str]:
    """The Snowball stems of lower-case words, in order."""
    return [str(s) for s in stemmer().stemWords(list(words))]


def content_words(text: str) -> list[str]:
    """The lower-case words of ``text`` that are not stop words, in order."""
    stop = content_stopwords()
    return [w for w in WORD.findall(text.lower()) if w not in stop]


def content_stems(text: str) -> set[str]:
    """Stemmed lower-case words of ``text`` without stop words."""
    return set(stem_words(content_words(text)))


def is_claim(text: str) -> bool:
    """Whether ``text`` can assert anything: it has ``MIN_CLAIM_WORDS`` content words.

    Fragments such as "1.", "But when you need" or "A complete list of" have nothing for a passage
    to support; scored like sentences they could borrow support from a passage's list numbers (a
    bare "3." scored high against a passage with "3" in it).
    """
    return len({w for w in content_words(text) if not w.isdigit()}) >= MIN_CLAIM_WORDS


def bm25_tokenize(texts: list[str], as_ids: bool) -> bm25s.tokenization.Tokenized | list[list[str]]:
    """bm25s tokens: lower case, bm25s's English stop words removed, Snowball-stemmed."""
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=stemmer(), return_ids=as_ids, show_progress=False
    )


def bm25_words(text: str) -> str:
    """``text`` as the words :func:`bm25_tokenize` indexes, space-separated (for an engine that
    only splits on spaces, such as Milvus's standard analyzer)."""
    stop = bm25_stopwords()
    return " ".join(stem_words(w for w in BM25_WORD.findall(text.lower()) if w not in stop))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of one paragraph; markers after a full stop stay with it.

    A full stop after a common abbreviation ("e.g.", "et al.", "Fig.") or before a lower-case
    word ("p. value") ends no sentence.
    """
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
