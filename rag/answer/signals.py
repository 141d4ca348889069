"""Cheap signals of whether a passage supports a claim, for :mod:`rag.answer.verify`.

A claim is read for what it asserts *beyond the question*: its content words whose stems occur in
the question are set aside (when none are left, the whole claim is read: it then asserts what the
question asks, e.g. a yes/no answer). A passage is read sentence by sentence. Both pass through the
embedder once: one forward pass gives a text's sentence vector and its words' vectors (the mean of
each word's word pieces), which the word-level alignment (BERTScore-like precision) uses.

:func:`pair_signals` turns one claim and one passage into the named values of :data:`SIGNALS`;
the verifier weighs them with fitted weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from base.text import content_stopwords, stem, stemmer
from rag.answer.conflicts import (
    CONFLICT_SIGNALS,
    ClaimCues,
    Cues,
    claim_cues,
    conflict_signals,
    read_cues,
)
from rag.index.embed.embedder import Embedder

SIGNALS: tuple[str, ...] = (
    "coverage",  # IDF-weighted share of the claim's novel words found in the passage
    "coverage_best",  # the same share in the best single sentence
    "missing_idf",  # log(1 + IDF mass of the novel words the passage lacks)
    "entities_missing",  # claim entities (MDM2, miR-211, IL-6) absent from the passage, <= 3
    "cos_best",  # best cosine between the claim and one passage sentence
    "cos_second",  # the second best
    "cos_passage",  # cosine to the passage's mean sentence vector
    "align_mean",  # IDF-weighted mean over novel words of their best cosine to a passage word
    "align_min",  # the worst-aligned novel word
    "align_low",  # IDF share of novel words whose best cosine is below 0.6
    "claim_words",  # log(1 + number of novel content words)
    # The conflicts: a near copy of the passage (see CONFLICT_GATE) that changes a number, its
    # negation or its direction. Elsewhere these cues say little: in Citation-Integrity a
    # supported claim lacks one of its numbers in the cited text as often as an unsupported one.
    "number_conflict",  # a claim number absent from the passage, times the gate
    "negation_conflict",  # the claim and its best sentence disagree on negation, times the gate
    "direction_conflict",  # ... on direction (increase vs decrease), times the gate
    # The citation's form (:class:`CitationForm`), not its content: a claim that cites several
    # papers at once is a synthesis one paper alone carries less often (Citation-Integrity
    # train: 53% of such citations are accurate against 76% of single ones).
    "cited_with_others",  # the marker citing the passage names other sources too: [1, 2]
    "cites_others",  # the sentence cites other sources in markers of their own
    # Conflicts with the best-matching sentence that count without a near copy
    # (:mod:`rag.answer.conflicts`).
    *CONFLICT_SIGNALS,
)
# Fitted on perturbed claims (benchmarks/fit_verifier.py).
CONFLICTS = ("number_conflict", "negation_conflict", "direction_conflict", *CONFLICT_SIGNALS)
# The alignment (align_mean without the claim's numbers) from which a cue starts to count, and
# from which it counts fully.
CONFLICT_GATE = (0.8, 0.9)

_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = content_stopwords()
_stemmer = stemmer()


def _split(words: str) -> list[str]:
    """A word list written as one string."""
    return words.split()


_NUMBER = re.compile(r"(?<![A-Za-z0-9.\-])\d+(?:[.,]\d+)?")
_ENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/α-ωΑ-Ω]*[A-Za-z0-9α-ωΑ-Ω]")
_NEGATION = frozenset(
    _split(
        "not no never none neither nor without cannot lack lacks lacking lacked absent absence "
        "fail fails failed unable"
    )
)
_UP = frozenset(
    _stemmer.stemWords(
        _split(
            "increase increases increased increasing higher high elevated elevation upregulated "
            "upregulation enhance enhanced enhances promote promotes promoted raise raised rise "
            "augment augmented induce induced induces activate activates activated stimulate "
            "stimulates stimulated improve improved improves greater more gain accumulation boost "
            "exacerbate exacerbated worsen worsened"
        )
    )
)
_DOWN = frozenset(
    _stemmer.stemWords(
        _split(
            "decrease decreases decreased decreasing lower low reduced reduce reduces reduction "
            "downregulated downregulation inhibit inhibits inhibited inhibition suppress "
            "suppresses suppressed suppression diminish diminished decline declined attenuate "
            "attenuated impair impaired block blocks blocked prevent prevents prevented less "
            "fewer loss lose abolish abolished abrogate abrogated drop dropped"
        )
    )
)
ALIGN_LOW = 0.6  # a novel word whose best match in the passage is below this counts as unaligned
REASON_ALIGN = 0.75  # a reason's word this close to a passage word counts as said by the passage


@dataclass(frozen=True, slots=True)
class Encoded:
    """A text as the embedder sees it: its unit vector and its words' unit vectors."""

    vector: np.ndarray  # (d,)
    words: tuple[str, ...]  # lower-case words ([A-Za-z0-9]+) in order
    word_vectors: np.ndarray  # (len(words), d); zero rows for words cut off by truncation


@dataclass(frozen=True, slots=True)
class PassageView:
    """What the verifier remembers of one passage."""

    spans: tuple[tuple[int, int], ...]  # its sentences' character spans
    vectors: np.ndarray  # (sentences, d) unit rows
    mean: np.ndarray  # (d,) unit mean of the sentence vectors
    word_vectors: np.ndarray  # (content words, d) unit rows
    stems: frozenset[str]
    sentence_stems: tuple[frozenset[str], ...]
    numbers: frozenset[str]
    entities: frozenset[str]
    negated: tuple[bool, ...]  # per sentence
    direction: tuple[int, ...]  # per sentence: +1 up, -1 down, 0 neither or both
    cues: tuple[Cues, ...] = ()  # per sentence, for rag.answer.conflicts


@dataclass(frozen=True, slots=True)
class CitationForm:
    """How a sentence cites the source it is judged against (both False: one plain marker)."""

    with_others: bool = False  # its marker names other sources too ("[1, 2]", "[1][2]")
    others: bool = False  # the sentence also cites other sources in markers of their own


PLAIN = CitationForm()  # one marker naming one source (or none)


@dataclass(frozen=True, slots=True)
class ClaimView:
    """What a claim asserts beyond the question, ready to be compared with passages."""

    vector: np.ndarray  # (d,) of the claim's novel part
    stems: Mapping[str, float]  # novel content stems -> IDF
    word_vectors: np.ndarray  # (novel content words, d)
    word_weights: np.ndarray  # their IDF
    word_numeric: np.ndarray  # which of them are numbers (left out of the conflict gate)
    numbers: frozenset[str]
    entities: frozenset[str]
    negated: bool
    direction: int
    form: CitationForm
    cues: ClaimCues | None = None  # for rag.answer.conflicts
    word_stems: tuple[str, ...] = ()  # the stem of each row of word_vectors


def numbers(text: str) -> frozenset[str]:
    """Stand-alone numbers in ``text`` ("25.0" and "25" alike; not the 53 of p53 or IL-6)."""
    found = (m.group().replace(",", ".") for m in _NUMBER.finditer(text))
    return frozenset(n.rstrip("0").rstrip(".") if "." in n else n for n in found)


def entities(text: str) -> frozenset[str]:
    """Names that look like genes, proteins or acronyms (MDM2, miR-211, TNBC, lncRNA), folded."""
    found = set()
    for m in _ENTITY.finditer(text):
        token = m.group()
        has_digit = any(c.isdigit() for c in token)
        has_alpha = any(c.isalpha() for c in token)
        upper_inside = any(c.isupper() for c in token[1:])
        if has_alpha and (has_digit or upper_inside):
            found.add(re.sub(r"[\-/]", "", token.lower()))
    return frozenset(found)


def negated(words: Sequence[str], text: str) -> bool:
    """True when the text has a negation cue (not, no, without, fails, ...n't)."""
    return any(w in _NEGATION for w in words) or "n't" in text


def direction(stems: Sequence[str]) -> int:
    """+1 when the text speaks only of increase, -1 only of decrease, else 0."""
    up = any(s in _UP for s in stems)
    down = any(s in _DOWN for s in stems)
    return int(up) - int(down)


def encode(embedder: Embedder, texts: Sequence[str]) -> list[Encoded]:
    """Sentence vectors and word vectors of ``texts`` from one forward pass."""
    if not texts:
        return []
    outputs = embedder.embed_tokens(texts)
    with embedder.lock:  # the tokenizer's settings are shared state (see Embedder.lock)
        tokens = embedder.model.tokenizer(
            list(texts),
            return_offsets_mapping=True,
            truncation=True,
            max_length=embedder.max_tokens,
            verbose=False,
        )
    encoded = []
    for i, (text, (vector, pieces)) in enumerate(zip(texts, outputs, strict=True)):
        length = len(pieces)
        offsets = tokens["offset_mapping"][i]
        if len(offsets) != length:
            raise ValueError(f"the tokenizer and the model disagree on {text[:60]!r}")
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        owner = np.full(len(text) + 1, -1)
        for w, (a, b) in enumerate(spans):
            owner[a:b] = w
        sums = np.zeros((len(spans), pieces.shape[1]), dtype=np.float32)
        for (a, b), vec in zip(offsets, pieces, strict=True):
            if b > a and owner[a] >= 0:
                sums[owner[a]] += vec
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        word_vectors = sums / np.maximum(norms, 1e-9)
        encoded.append(Encoded(vector, tuple(text[a:b].lower() for a, b in spans), word_vectors))
    return encoded


def view_passages(
    embedder: Embedder, passages: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
) -> list[PassageView]:
    """The views of ``passages`` split at ``spans`` (one batch through the embedder)."""
    texts = [p[a:b] for p, ss in zip(passages, spans, strict=True) for a, b in ss]
    encoded = encode(embedder, texts)
    views = []
    i = 0
    for passage, ss in zip(passages, spans, strict=True):
        parts = encoded[i : i + len(ss)]
        i += len(ss)
        vectors = np.stack([e.vector for e in parts]).astype(np.float32)
        mean = vectors.mean(axis=0)
        sentence_stems = []
        word_vectors = []
        negs = []
        dirs = []
        cues = []
        for (a, b), e in zip(ss, parts, strict=True):
            stems = [stem(w) for w in e.words]
            sentence_stems.append(frozenset(s for s, w in zip(stems, e.words, strict=True)
                                            if w not in _STOP))  # fmt: skip
            keep = [k for k, w in enumerate(e.words) if w not in _STOP]
            word_vectors.append(e.word_vectors[keep])
            negs.append(negated(e.words, passage[a:b].lower()))
            dirs.append(direction(stems))
            cues.append(read_cues(passage[a:b]))
        views.append(
            PassageView(
                spans=tuple(ss),
                vectors=vectors,
                mean=mean / max(float(np.linalg.norm(mean)), 1e-9),
                word_vectors=np.concatenate(word_vectors),
                stems=frozenset().union(*sentence_stems),
                sentence_stems=tuple(sentence_stems),
                numbers=numbers(passage),
                entities=entities(passage),
                negated=tuple(negs),
                direction=tuple(dirs),
                cues=tuple(cues),
            )
        )
    return views


def _without(text: str, dropped: set[str]) -> str:
    """``text`` without the whitespace-separated tokens whose words are all in ``dropped``."""
    kept = [t for t in text.split() if not set(_WORD.findall(t.lower())) <= dropped or
            not _WORD.search(t)]  # fmt: skip
    return " ".join(kept)


def view_claims(
    embedder: Embedder,
    claims: Sequence[str],
    questions: Sequence[str],
    idf: Mapping[str, float],
    forms: Sequence[CitationForm] | None = None,
) -> list[ClaimView]:
    """The views of ``claims``: what each asserts beyond its question (empty: the whole claim),
    and how each cites its sources (``forms``; default: one plain marker).

    One batch through the embedder for the claims, one for the parts left once the words of the
    question are set aside.
    """
    encoded = encode(embedder, claims)
    novel_masks: list[list[bool]] = []
    remainders: list[str] = []
    for claim, question, e in zip(claims, questions, encoded, strict=True):
        asked = {stem(w) for w in _WORD.findall(question.lower())} - _STOP
        content = [w not in _STOP for w in e.words]
        novel = [c and stem(w) not in asked for c, w in zip(content, e.words, strict=True)]
        if not any(novel):  # the claim restates the question: read all of it
            novel = content
        novel_masks.append(novel)
        dropped = {w for w, c, n in zip(e.words, content, novel, strict=True) if c and not n}
        remainders.append(_without(claim, dropped) if dropped else "")
    redo = [r for r in remainders if r]
    revectors = iter(embedder.embed_documents(redo)) if redo else iter(())
    views = []
    forms = forms or [PLAIN] * len(claims)
    for claim, question, e, novel, rest, form in zip(
        claims, questions, encoded, novel_masks, remainders, forms, strict=True
    ):
        words = [w for w, n in zip(e.words, novel, strict=True) if n]
        stems = [stem(w) for w in words]
        weights = np.array([idf[s] for s in stems], dtype=np.float32)
        views.append(
            ClaimView(
                vector=next(revectors) if rest else e.vector,
                stems=dict(zip(stems, weights.tolist(), strict=True)),
                word_vectors=e.word_vectors[[k for k, n in enumerate(novel) if n]],
                word_weights=weights,
                word_numeric=np.array([w.isdigit() for w in words], dtype=bool),
                numbers=numbers(claim) - numbers(question),
                entities=entities(claim) - entities(question),
                negated=negated(e.words, claim.lower()),
                direction=direction([stem(w) for w in e.words]),
                form=form,
                cues=claim_cues(claim, _STOP, idf),
                word_stems=tuple(stems),
            )
        )
    return views


def pair_signals(claim: ClaimView, passage: PassageView) -> tuple[np.ndarray, int]:
    """The values of :data:`SIGNALS` for one pair, and the index of the best sentence."""
    sims = passage.vectors @ claim.vector
    order = np.argsort(-sims)
    best = int(order[0])
    second = float(sims[order[1]]) if len(order) > 1 else float(sims[best])
    total = sum(claim.stems.values()) or 1.0
    found = sum(w for s, w in claim.stems.items() if s in passage.stems)
    in_best = max(
        sum(w for s, w in claim.stems.items() if s in ss) for ss in passage.sentence_stems
    )
    align_mean, align_min, align_low, gate = 0.0, 0.0, 1.0, 0.0
    said = set(passage.stems)  # what a reason clause may rest on: the passage's words, ...
    if len(claim.word_vectors) and len(passage.word_vectors):
        aligned = (claim.word_vectors @ passage.word_vectors.T).max(axis=1)
        weights = claim.word_weights / max(float(claim.word_weights.sum()), 1e-9)
        align_mean = float(aligned @ weights)
        align_min = float(aligned.min())
        align_low = float(weights[aligned < ALIGN_LOW].sum())
        # ... the claim's words it paraphrases closely ("shortens survival", "poor prognosis")
        said |= {s for s, a in zip(claim.word_stems, aligned.tolist(), strict=False)
                 if a >= REASON_ALIGN}  # fmt: skip
        # The gate reads the words around the cues: a changed number must not close it.
        words = ~claim.word_numeric
        if words.any():
            near = float(
                aligned[words] @ claim.word_weights[words] / claim.word_weights[words].sum()
            )
            lo, hi = CONFLICT_GATE
            gate = min(max((near - lo) / (hi - lo), 0.0), 1.0)
    values = (
        found / total,
        in_best / total,
        math.log1p(total - found),
        min(len(claim.entities - passage.entities), 3),
        float(sims[best]),
        second,
        float(passage.mean @ claim.vector),
        align_mean,
        align_min,
        align_low,
        math.log1p(len(claim.stems)),
        gate * bool(claim.numbers - passage.numbers),
        gate * (claim.negated != passage.negated[best]),
        gate * (claim.direction * passage.direction[best] < 0),
        float(claim.form.with_others),
        float(claim.form.others),
    )
    conflicts = (0.0,) * len(CONFLICT_SIGNALS)
    if claim.cues is not None and passage.cues:
        said |= set(claim.cues.reason) - set(claim.stems)  # ... and the question's words
        conflicts = conflict_signals(
            claim.cues, claim.stems, passage.cues, passage.sentence_stems, frozenset(said),
            passage.numbers, sims.tolist(),
        )  # fmt: skip
    return np.array(values + conflicts, dtype=np.float64), best
