"""Conflicts between a claim and the passage sentence it matches best, for the verifier.

A claim can be on topic and still false: a finding negated, its direction reversed, a number
changed, a reason or mechanism added that the passage never gives. The embedding signals of
:mod:`rag.answer.signals` see none of these (the words are the same), so each is read here as a
cue of the claim and of each passage sentence (:class:`Cues`), and compared against the sentence
the claim matches best (:func:`conflict_signals`). Unlike the older gated cues, these count
whenever the claim shares content with that sentence: each is weighted by the IDF share of the
claim's words the sentence holds, so a claim that merely shares a topic word with a negated
sentence is not penalised as much as a near copy with its finding turned round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from base.text import stemmer

_stemmer = stemmer()


def _words(text: str) -> list[str]:
    """A word list written as one string."""
    return text.split()


def _stems(words: str) -> frozenset[str]:
    return frozenset(_stemmer.stemWords(_words(words)))


CONFLICT_SIGNALS: tuple[str, ...] = (
    "negation_mismatch",  # the claim and its best sentence disagree on negation, times overlap
    "direction_mismatch",  # ... on direction (up/down) or valence (benefit/harm), times overlap
    "number_mismatch",  # a claim number absent from a passage that reports numbers, times overlap
    "null_mismatch",  # the best sentence reports no effect ("did not differ"), the claim one
    "reason_unsupported",  # IDF share of a causal clause's words ("because ...") the passage lacks
)

_NEGATION = frozenset(
    _words(
        "not no never none neither nor without cannot lack lacks lacking lacked absent absence "
        "unable nothing"
    )
)
# Up and down: quantities (verbs and comparatives; not nouns such as "loss", which name what
# goes up or down: "blood loss increased").
_UP = _stems(
    "increase increases increased increasing higher high elevated elevation upregulated "
    "upregulation enhance enhanced enhances promote promotes promoted raise raised raises rise "
    "rises rose augment augmented induce induced induces activate activates activated stimulate "
    "stimulates stimulated greater more accumulation boost longer larger stronger exceed "
    "exceeded exceeds accelerate accelerated above"
)
_DOWN = _stems(
    "decrease decreases decreased decreasing lower low reduced reduce reduces reduction "
    "downregulated downregulation inhibit inhibits inhibited inhibition suppress suppresses "
    "suppressed suppression diminish diminished decline declined declines attenuate attenuated "
    "block blocks blocked less fewer abolish abolished abrogate abrogated drop dropped "
    "fell fall falls shorter smaller weaker slowed slower below"
)
# Valence: good or bad for the patient (a reversed prognosis or effect).
_GOOD = _stems(
    "improve improved improves improvement favourable favorable better benefit benefits "
    "beneficial protective protects protected protect superior effective success "
    "successful succeeded safe safer"
)
_BAD = _stems(
    "worsen worsened worsens worse poor poorer unfavourable unfavorable harm harmful detrimental "
    "inferior ineffective failure fail failed fails risk adverse toxicity deleterious"
)
# "did not differ", "no significant difference", "was not associated": a null finding.
_NULL = re.compile(
    r"\b(?:no|not|nor|neither)\b(?:\s+\w+){0,3}?\s+(?:significant(?:ly)?|differ\w*|"
    r"associat\w*|correlat\w*|chang\w*|affect\w*|effect|influenc\w*|improv\w*|increas\w*|"
    r"decreas\w*|reduc\w*)|\bsimilar\b|\bcomparable\b|\bunchanged\b|\bindependent of\b"
)
# A causal or mechanistic clause: what follows is a reason the passage must give too.
# ("through", "via" and "by" are left out: citing sentences use them for methods and routes far
# more often than for a mechanism.)
_CAUSAL = re.compile(
    r"\b(?:because(?: of)?|due to|owing to|caused by|as a result of|result(?:s|ed|ing)? from|"
    r"attributable to|attributed to|explained by|mediated by|driven by|thereby|"
    r"which (?:leads?|led) to|so that)\b",
    re.IGNORECASE,
)
# The IDF share of the claim's words its best sentence holds, from which a cue starts to count
# and from which it counts fully: a paraphrase shares less than a copy, a topic word alone less.
OVERLAP_GATE = (0.4, 0.7)
_WORD = re.compile(r"[A-Za-z0-9]+")
_NUMBER = re.compile(r"(?<![A-Za-z0-9.\-])\d+(?:[.,]\d+)?")


@dataclass(frozen=True, slots=True)
class Cues:
    """What a text (a claim, or one passage sentence) says about its finding's form."""

    negated: bool
    direction: int  # +1 up, -1 down, 0 neither or both (a negation flips it)
    valence: int  # +1 good, -1 bad, 0 neither or both (a negation flips it)
    null: bool  # reports no effect or difference
    numbers: frozenset[str]


@dataclass(frozen=True, slots=True)
class ClaimCues:
    """A claim's cues and the stems of its causal clause (empty: none)."""

    cues: Cues
    reason: Mapping[str, float]  # stem -> IDF


def _sign(stems: Sequence[str], up: frozenset[str], down: frozenset[str]) -> int:
    return int(any(s in up for s in stems)) - int(any(s in down for s in stems))


def numbers(text: str) -> frozenset[str]:
    """Stand-alone numbers ("25.0" and "25" alike; not the 53 of p53 or the 6 of IL-6)."""
    found = (m.group().replace(",", ".") for m in _NUMBER.finditer(text))
    return frozenset(n.rstrip("0").rstrip(".") if "." in n else n for n in found)


def read_cues(text: str) -> Cues:
    """The cues of one text."""
    lower = text.lower()
    words = _WORD.findall(lower)
    stems = _stemmer.stemWords(words)
    negated = any(w in _NEGATION for w in words) or "n't" in lower
    flip = -1 if negated else 1
    return Cues(
        negated=negated,
        direction=flip * _sign(stems, _UP, _DOWN),
        valence=flip * _sign(stems, _GOOD, _BAD),
        null=bool(_NULL.search(lower)),
        numbers=numbers(text),
    )


def claim_cues(text: str, stop: frozenset[str], idf: Mapping[str, float]) -> ClaimCues:
    """A claim's cues, and the content stems (with their IDF) after its first causal
    connective."""
    m = _CAUSAL.search(text)
    reason: dict[str, float] = {}
    if m:
        words = [w for w in _WORD.findall(text[m.end() :].lower()) if w not in stop]
        reason = {s: idf[s] for s in _stemmer.stemWords([w for w in words if not w.isdigit()])}
    return ClaimCues(read_cues(text), reason)


def conflict_signals(
    claim: ClaimCues,
    claim_stems: Mapping[str, float],
    sentences: Sequence[Cues],
    sentence_stems: Sequence[frozenset[str]],
    passage_stems: frozenset[str],
    passage_numbers: frozenset[str],
    sims: Sequence[float],
) -> tuple[float, ...]:
    """The values of :data:`CONFLICT_SIGNALS` for one claim and one passage.

    The best sentence is the one with the highest cosine plus IDF overlap with the claim;
    ``claim_stems`` maps the claim's novel content stems to their IDF.
    """
    total = sum(claim_stems.values()) or 1.0
    overlap = [sum(w for s, w in claim_stems.items() if s in ss) / total for ss in sentence_stems]
    k = max(range(len(sentences)), key=lambda i: float(sims[i]) + overlap[i])
    lo, hi = OVERLAP_GATE
    gate = min(max((overlap[k] - lo) / (hi - lo), 0.0), 1.0)
    best, c = sentences[k], claim.cues
    negation = gate * (c.negated != best.negated)
    direction = gate * float(c.direction * best.direction < 0 or c.valence * best.valence < 0)
    missing = c.numbers - passage_numbers
    number = gate * float(bool(missing) and bool(passage_numbers))
    null = gate * float(best.null and not c.null and not c.negated)
    reason = 0.0
    if claim.reason:
        mass = sum(claim.reason.values()) or 1.0
        reason = sum(w for s, w in claim.reason.items() if s not in passage_stems) / mass
    return negation, direction, number, null, reason
