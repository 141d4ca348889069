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

from base.text import split_sentences
from eval.claims import citation_form, clean_claim
from rag.answer.signals import PLAIN, CitationForm
from rag.index.embed.embedder import Embedder
from tune.perturb import perturbations

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Claims written by hand from PubMedQA abstracts: true ones and false variants of each kind.
CLAIMS_FIXTURE = Path(__file__).resolve().parents[1] / "tests/fixtures/verifier_claims.jsonl"


@dataclass(frozen=True, slots=True)
class Pair:
    """One claim against one passage, with its gold label."""

    question: str
    claim: str
    passage: str
    label: int  # 1 = the passage supports the claim
    kind: str  # SUPPORT/REFUTE/NEI, own/near/restated_own/restated_invented, number/...
    form: CitationForm = PLAIN  # how the claim cites the passage
    origin: int = -1  # a perturbed pair: the index of the pair it was made from


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


def perturb(
    pairs: list[Pair], seed: int = 0, per_claim: int = 1, reasons: bool = True
) -> list[Pair]:
    """Unsupported variants of the supported plain claims: a number, negation or direction
    changed, or (``reasons``) an unstated reason added (``per_claim`` of them, drawn at
    random)."""
    rng = random.Random(seed)
    out = []
    for i, p in enumerate(pairs):
        if p.label != 1 or p.kind not in ("SUPPORT", "own"):
            continue
        made = 0
        changes = perturbations(p.claim, p.passage, rng, reasons)
        for kind, new in changes:
            if new and new != p.claim and made < per_claim:
                out.append(replace(p, claim=new, label=0, kind=kind, origin=i))
                made += 1
    return out


def claim_probe_pairs(path: Path = CLAIMS_FIXTURE, shared: Path = SHARED) -> list[Pair]:
    """The written claims against the PubMedQA abstract (``pqal_contexts.jsonl``) each cites;
    ``kind`` is ``true`` or the change made (``negated``, ``direction``, ``number``,
    ``reason``)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    wanted = {r["pmid"] for r in rows}
    texts = {}
    with (shared / "corpus" / "pubmedqa" / "pqal_contexts.jsonl").open() as f:
        for line in f:
            doc = json.loads(line)
            if doc["_id"] in wanted:
                texts[doc["_id"]] = doc["text"]
    missing = wanted - set(texts)
    if missing:
        raise ValueError(f"{path}: PMIDs {sorted(missing)} are not in pqal_contexts.jsonl")
    return [Pair("", r["claim"], texts[r["pmid"]], int(r["supported"]), r["kind"]) for r in rows]


def probe_figures(pairs: list[Pair], support: np.ndarray, threshold: float) -> dict[str, float]:
    """The share of true claims kept and of each false kind caught at ``threshold``."""
    out = {}
    for kind in dict.fromkeys(p.kind for p in pairs):
        mask = np.array([p.kind == kind for p in pairs])
        passed = support[mask] >= threshold
        out["true_kept" if kind == "true" else f"{kind}_caught"] = round(
            float(passed.mean() if kind == "true" else (~passed).mean()), 3
        )
    return out
