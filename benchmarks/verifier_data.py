"""The pair sets the citation verifier is fitted and measured on (read in place from ../shared).

Citation-Integrity (Sarol et al. 2024): each claim cites one document whose five segments are the
passage; SUPPORT = an accurate citation (label 1), REFUTE or no evidence (NEI) = inaccurate (0).
The claim keeps only the sentence(s) holding its target citation (``<|cit|>``/``<|multi_cit|>``),
or the clause ending at it when the sentence cites other papers too (``eval.claims.clean_claim``);
citation markers and the brackets they leave are removed, and how the claim cited the paper is
kept as its ``form``.

BioASQ (``bioasq_pairs``): an ideal-answer sentence against the five sentences of its own
question's snippets closest to it (1), against those of the nearest other question that shares
no document (0), and, with the question restated in front, against its own snippets followed
either by its own answer (1) or by the other question's answer (0, invented content).

Perturbations (``perturb``): a supported claim with a number, its negation or its direction
word changed (0), used to teach the cues the citation data hardly shows and to test them.
"""

from __future__ import annotations

import glob
import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.claims import citation_form, clean_claim
from rag.answer.citations import split_sentences
from rag.answer.signals import PLAIN, CitationForm, numbers
from rag.index.embed.embedder import Embedder

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@dataclass(frozen=True, slots=True)
class Pair:
    """One claim against one passage, with its gold label."""

    question: str
    claim: str
    passage: str
    label: int  # 1 = the passage supports the claim
    kind: str  # SUPPORT/REFUTE/NEI, own/near/restated_own/restated_invented, number/...
    form: CitationForm = PLAIN  # how the claim cites the passage


def citint(split: str, shared: Path = SHARED) -> list[Pair]:
    """The claims of ``claims_<split>.jsonl`` against their cited documents."""
    folder = shared / "gold" / "citint"
    with (folder / "corpus.jsonl").open() as f:
        corpus = {d["doc_id"]: d for d in map(json.loads, f)}
    pairs = []
    with (folder / f"claims_{split}.jsonl").open() as f:
        for row in map(json.loads, f):
            doc = row["cited_doc_ids"][0]  # every claim cites exactly one document
            evidence = row["evidence"].get(str(doc))
            kind = evidence[0]["label"] if evidence else "NEI"
            passage = " ".join(s.strip() for s in corpus[doc]["abstract"] if s.strip())
            if passage:
                pairs.append(
                    Pair(
                        "",
                        clean_claim(row["claim"]),
                        passage,
                        int(kind == "SUPPORT"),
                        kind,
                        citation_form(row["claim"]),
                    )
                )
    return pairs


def _stem_of(question: str) -> str:
    """A question as the start of a statement ("Why are X at risk?" -> "X at risk")."""
    q = question.strip().rstrip("?").strip()
    q = re.sub(
        r"^(what|which|why|how|who|where|when|is|are|does|do|did|can|could|should|was|were|"
        r"has|have)\s+(is|are|does|do|was|were|the)?\s*",
        "",
        q,
        flags=re.IGNORECASE,
    )
    return q[:1].upper() + q[1:]


def bioasq_pairs(embedder: Embedder, pattern: str, shared: Path = SHARED) -> list[Pair]:
    """Pairs from the BioASQ gold files whose names match ``pattern`` (e.g. ``"[78]B"``)."""
    items = []
    for path in sorted(glob.glob(str(shared / "gold" / "bioasq" / "*_golden.json"))):
        if not re.match(pattern, Path(path).name):
            continue
        for q in json.loads(Path(path).read_text())["questions"]:
            ideal = q.get("ideal_answer") or ""
            ideal = ideal[0] if isinstance(ideal, list) and ideal else ideal
            answer = [ideal[a:b] for a, b in split_sentences(str(ideal))]
            answer = [s for s in answer if len(s.split()) >= 6]
            texts = [s["text"] for s in q.get("snippets", [])]
            sentences = list(dict.fromkeys(t[a:b].strip() for t in texts
                                           for a, b in split_sentences(t)))  # fmt: skip
            sentences = [s for s in sentences if len(s.split()) >= 4]
            if answer and len(sentences) >= 2:
                items.append((q["body"], answer[0], sentences, set(q.get("documents", []))))
    questions = embedder.embed_queries([i[0] for i in items])
    claims = embedder.embed_documents([i[1] for i in items])
    vectors = [embedder.embed_documents(i[2]) for i in items]

    def passage(k: int, vector: np.ndarray) -> str:
        top = sorted(np.argsort(-(vectors[k] @ vector))[:5].tolist())
        return " ".join(items[k][2][t] for t in top)

    similar = questions @ questions.T
    pairs = []
    for k, (question, claim, _, docs) in enumerate(items):
        other = next(int(j) for j in np.argsort(-similar[k]) if j != k and not (items[j][3] & docs))
        own = passage(k, claims[k])
        stem, invented = _stem_of(question), items[other][1]
        pairs += [
            Pair(question, claim, own, 1, "own"),
            Pair(question, claim, passage(other, claims[k]), 0, "near"),
            Pair(question, f"{stem}: {claim[0].lower()}{claim[1:]}", own, 1, "restated_own"),
            Pair(
                question,
                f"{stem} because {invented[0].lower()}{invented[1:]}",
                own,
                0,
                "restated_invented",
            ),
        ]
    return pairs


_AUX = re.compile(
    r"\b(is|are|was|were|can|may|could|might|will|does|did|has|have|had|should)\b(?! not)"
)
_SWAPS = [
    ("increases", "decreases"), ("increased", "decreased"), ("increase", "decrease"),
    ("higher", "lower"), ("upregulated", "downregulated"), ("enhances", "reduces"),
    ("enhanced", "reduced"), ("promotes", "inhibits"), ("promoted", "inhibited"),
    ("activates", "inhibits"), ("more", "less"), ("greater", "smaller"), ("elevated", "reduced"),
    ("improved", "worsened"),
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


def perturb(pairs: list[Pair], seed: int = 0, per_claim: int = 1) -> list[Pair]:
    """Unsupported variants of the supported plain claims: a number, negation or direction
    changed (the rarest change a claim allows first)."""
    rng = random.Random(seed)
    out = []
    for p in pairs:
        if p.label != 1 or p.kind not in ("SUPPORT", "own"):
            continue
        made = 0
        for kind, new in (
            ("number", _change_number(p.claim, p.passage, rng)),
            ("direction", _flip_direction(p.claim)),
            ("negation", _flip_negation(p.claim)),
        ):
            if new and new != p.claim and made < per_claim:
                out.append(replace(p, claim=new, label=0, kind=kind))
                made += 1
    return out
