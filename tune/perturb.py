"""False variants of a true claim, for training and testing the citation verifier.

A supported claim with a number changed, its negation flipped, its direction (or valence)
reversed, or a reason appended that its passage does not give: the errors a reader catches at
once, which the citation data itself hardly shows. Each change is made only where the claim
allows it (a number the passage also has, an auxiliary verb to negate, a direction word).
"""

from __future__ import annotations

import random
import re

from rag.answer.conflicts import numbers

_AUX = re.compile(
    r"\b(is|are|was|were|can|may|could|might|will|does|did|has|have|had|should)\b(?! not)"
)
_SWAPS = [
    ("increases", "decreases"), ("increased", "decreased"), ("increase", "decrease"),
    ("higher", "lower"), ("upregulated", "downregulated"), ("enhances", "reduces"),
    ("enhanced", "reduced"), ("promotes", "inhibits"), ("promoted", "inhibited"),
    ("activates", "inhibits"), ("more", "less"), ("greater", "smaller"), ("elevated", "reduced"),
    ("improved", "worsened"), ("improves", "worsens"), ("favourable", "poor"),
    ("favorable", "unfavorable"), ("better", "worse"), ("protective", "harmful"),
    ("positively", "negatively"), ("positive", "negative"), ("reduced", "increased"),
    ("lower", "higher"), ("decreased", "increased"), ("inhibited", "enhanced"),
]  # fmt: skip
# Reasons a claim may be given that its passage does not state (the "because" perturbation):
# generic mechanisms, so that what is caught is the unsupported clause, not an odd topic.
_REASONS = [
    "it suppresses the inflammatory response", "it activates the immune system",
    "of oxidative stress in the affected tissue", "it inhibits cell proliferation",
    "of a genetic predisposition", "it lowers blood pressure", "of increased insulin resistance",
    "the patients were older", "it blocks the NF-kB signalling pathway",
    "of reduced blood flow", "of a higher bacterial load", "it promotes apoptosis",
    "of hormonal changes", "of poor adherence to treatment", "it increases collagen synthesis",
    "of a lack of physical activity",
]  # fmt: skip
_NUMBER = re.compile(r"(?<![A-Za-z0-9.\-])\d+(?:\.\d+)?")


def _change_number(claim: str, passage: str, rng: random.Random) -> str | None:
    found = [m for m in _NUMBER.finditer(claim) if m.group() in numbers(passage)]
    if not found:
        return None
    m = rng.choice(found)
    value = m.group()
    if "." in value:
        digits = len(value.split(".")[1])
        new = f"{float(value) * rng.choice([1.7, 0.4, 2.5]) + 1:.{digits}f}"
    else:
        new = str(int(value) * rng.choice([2, 3]) + rng.choice([1, 7, 13]))
    return claim[: m.start()] + new + claim[m.end() :]


def _flip_negation(claim: str) -> str | None:
    if re.search(r"\bnot\b", claim):
        return re.sub(r"\s*\bnot\b", "", claim, count=1)
    m = _AUX.search(claim)
    return claim[: m.end()] + " not" + claim[m.end() :] if m else None


def _flip_direction(claim: str) -> str | None:
    for a, b in _SWAPS:
        for x, y in ((a, b), (b, a)):
            if re.search(rf"\b{x}\b", claim):
                return re.sub(rf"\b{x}\b", y, claim, count=1)
    return None


def _add_reason(claim: str, passage: str, rng: random.Random) -> str | None:
    """The claim with a reason appended that its passage does not give."""
    reasons = [r for r in _REASONS if not set(r.split()[-2:]) & set(passage.lower().split())]
    if not reasons or len(claim) < 20:
        return None
    body = claim.rstrip().rstrip(".")
    return f"{body} because {rng.choice(reasons)}."


def perturbations(
    claim: str, passage: str, rng: random.Random, reasons: bool = True
) -> list[tuple[str, str]]:
    """``(kind, new claim)`` for each change ``claim`` allows, in a random order; kinds are
    ``number``, ``direction``, ``negation`` and (``reasons``) ``reason``."""
    changes = [
        ("number", _change_number(claim, passage, rng)),
        ("direction", _flip_direction(claim)),
        ("negation", _flip_negation(claim)),
    ]
    if reasons:
        changes.append(("reason", _add_reason(claim, passage, rng)))
    rng.shuffle(changes)
    return [(kind, new) for kind, new in changes if new and new != claim]
