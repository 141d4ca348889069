"""``rag tune verifier``: Citation-Integrity claims -> a (passage, claim) support CrossEncoder.

The model starts from the packaged MiniLM (or ``--base``, e.g. all-mpnet-base-v2) with a new
one-output head, trained with binary cross-entropy on the training claims against their cited
abstracts (SUPPORT = 1, REFUTE or no evidence = 0) plus false copies of the supported ones
(:mod:`tune.perturb`: a number, negation or direction changed, or an unstated reason added).
Whole claims are held out for validation by a seeded hash of the claim id (as ``rag tune``
holds out questions). On the validation claims the run measures the packaged verifier alone, the
cross-encoder alone, and the two mixed: a two-weight logistic regression over their logits
(:data:`MIX_FILE` in the model folder), shifted so that the operating point chosen on validation
(the best balanced accuracy that keeps >= :data:`KEEP` of the accurate citations) lands on the
packaged verifier's threshold (the default ``answer.support_threshold``).
``answer.cross_encoder = DIR`` then uses that mix.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import CrossEncoder

from base.errors import ConfigError
from base.settings import Settings
from eval.claims import ClaimPair, claims_file, load_citint
from rag.answer.verify import MIX_FILE, cross_encoder_support, load_weights
from tune.card import Card, check_no_pickles
from tune.data import SEED, Progress, is_validation
from tune.loop import LoopReport, TrainOptions, train
from tune.perturb import perturbations
from tune.reranker import load

KEEP = 0.80  # the validation operating point keeps at least this share of accurate citations
LOSS = (
    "binary cross-entropy on (passage, claim) support; one false copy of each supported "
    "training claim (number, negation, direction or reason changed) as a negative"
)
Row = tuple[str, str, float]  # passage, claim, label
Phase = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class VerifierRequest:
    """What ``rag tune verifier`` was asked to do."""

    gold: Path  # a Citation-Integrity folder: claims_train.jsonl + corpus.jsonl
    out: Path
    base: str = ""  # a sentence-transformers model folder; empty = the packaged MiniLM
    validation_fraction: float = 0.2
    options: TrainOptions = field(default_factory=TrainOptions)
    split: str = "claims_train"


def read_pairs(gold: Path, split: str = "claims_train") -> list[ClaimPair]:
    """The claim pairs of ``gold`` (a folder, or its claims file)."""
    folder = gold if gold.is_dir() else gold.parent
    path = claims_file(folder, split) if gold.is_dir() else gold
    return list(load_citint(path))


def rows_of(pairs: Sequence[ClaimPair], seed: int = SEED) -> list[Row]:
    """Training rows: each pair, and one false copy of each supported one."""
    rng = random.Random(seed)  # noqa: S311 -- perturbations, not secrets
    rows: list[Row] = []
    for p in pairs:
        rows.append((p.passage, p.claim, float(p.accurate)))
        if p.accurate:
            changes = perturbations(p.claim, p.passage, rng)
            if changes:
                rows.append((p.passage, changes[0][1], 0.0))
    return rows


def fit(
    model: CrossEncoder,
    rows: Sequence[Row],
    options: TrainOptions,
    progress: Progress | None = None,
) -> LoopReport:
    """Train ``model`` in place on ``rows`` (binary cross-entropy)."""
    net = model.transformers_model
    assert net is not None
    order = list(rows)
    random.Random(options.seed).shuffle(order)  # noqa: S311 -- a shuffle, not a secret
    size = options.batch_size
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def loss_of(batch: list[Row]) -> torch.Tensor:
        inputs = model.tokenizer(
            [r[0] for r in batch], [r[1] for r in batch], truncation="only_first",
            max_length=options.max_tokens, padding=True, return_tensors="pt",
        )  # fmt: skip
        logits = net(**inputs).logits.view(-1).float()
        value: torch.Tensor = loss_fn(logits, torch.tensor([r[2] for r in batch]))
        return value

    net.train()
    try:
        return train(batches, loss_of, net.parameters(), options, progress)
    finally:
        net.train(False)


def figures(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """AUC, balanced accuracy, accurate kept and inaccurate caught at ``threshold``."""
    from eval.metrics import roc_auc

    passed = scores >= threshold
    kept = float(passed[labels == 1].mean()) if (labels == 1).any() else 0.0
    caught = float((~passed[labels == 0]).mean()) if (labels == 0).any() else 0.0
    auc = roc_auc([float(s) for s in scores], [bool(v) for v in labels])
    return {
        "auc": round(auc if auc is not None else float("nan"), 3),
        "balanced_accuracy": round((kept + caught) / 2, 3),
        "accurate_kept": round(kept, 3),
        "inaccurate_caught": round(caught, 3),
    }


def operating_point(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold with the best balanced accuracy among those keeping >= KEEP accurate."""
    best, chosen = -1.0, 0.5
    for t in np.unique(np.round(scores, 3)):
        f = figures(labels, scores, float(t))
        if f["accurate_kept"] >= KEEP and f["balanced_accuracy"] > best:
            best, chosen = f["balanced_accuracy"], float(t)
    return chosen


def fit_mix(cheap: np.ndarray, ce: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Weights of ``bias + a * logit(cheap) + b * logit(cross-encoder)`` (logistic regression,
    Newton steps, a light ridge)."""
    x = np.column_stack([_logits(cheap), _logits(ce), np.ones(len(labels))])
    beta = np.zeros(3)
    ridge = np.diag([0.1, 0.1, 0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + ridge, x.T @ (p - labels) +
                               ridge @ beta)  # fmt: skip
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return {"cheap": float(beta[0]), "cross_encoder": float(beta[1]), "bias": float(beta[2])}


def _logits(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1 - q)))


def mixed(mix: dict[str, float], cheap: np.ndarray, ce: np.ndarray) -> np.ndarray:
    """The mixed support."""
    z = mix["bias"] + mix["cheap"] * _logits(cheap) + mix["cross_encoder"] * _logits(ce)
    return np.asarray(1 / (1 + np.exp(-z)))


def cheap_support(pairs: Sequence[ClaimPair], settings: Settings) -> np.ndarray:
    """The packaged verifier's support of each pair (no judge, no cross-encoder)."""
    from rag.answer.verify import Verifier
    from rag.index.embed.embedder import load_embedder

    verifier = Verifier(load_embedder(settings.embedding), settings.answer)
    out = []
    for p in pairs:
        out.append(verifier.verify([p.claim], [p.passage], forms=[p.form])[0][0].support)
    return np.array(out)


def tune_verifier(request: VerifierRequest, settings: Settings, phase: Phase | None = None) -> Card:
    """Train, measure and save the cross-encoder and its mix; its card."""
    from rag.index.embed.embedder import DEFAULT_MODEL_NAME, default_model_path

    out, options = request.out, request.options
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty; give a new folder")
    if not 0 < request.validation_fraction < 1:
        raise ConfigError("--validation-fraction must be in (0, 1): the mix is fitted on it")
    pairs = read_pairs(request.gold, request.split)
    held = [is_validation(p.claim_id, request.validation_fraction) for p in pairs]
    training = [p for p, h in zip(pairs, held, strict=True) if not h]
    validation = [p for p, h in zip(pairs, held, strict=True) if h]
    if not training or not validation:
        raise ConfigError(f"{request.gold}: too few claims to hold some out ({len(pairs)})")
    model = load(request.base or str(default_model_path()), options.max_tokens)
    rows = rows_of(training)
    loop = fit(model, rows, options, _bound(phase, "training"))
    labels = np.array([float(p.accurate) for p in validation])
    if phase:
        phase("validation", 0, len(validation))
    ce = cross_encoder_support(model, [(p.passage, p.claim) for p in validation])
    cheap = cheap_support(validation, settings)
    mix = fit_mix(cheap, ce, labels)
    point = operating_point(labels, mixed(mix, cheap, ce))
    # Move the operating point onto the configured threshold (a shift of the bias).
    target = load_weights().threshold
    mix["bias"] += _logit(target) - _logit(point)
    at = {k: round(v, 6) for k, v in mix.items()}
    before = figures(labels, cheap, target)
    after = figures(labels, mixed(mix, cheap, ce), target)
    alone = figures(labels, ce, operating_point(labels, ce))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save_pretrained(str(work), safe_serialization=True)
        mix_doc = {"mix": at, "threshold": target, "validation": {
            "claims": len(validation), "verifier": before, "cross_encoder_alone": alone,
            "mixed": after}}  # fmt: skip
        (work / MIX_FILE).write_text(json.dumps(mix_doc, indent=1) + "\n")
        card = Card(
            kind="verifier", base_model=request.base or DEFAULT_MODEL_NAME, loss=LOSS,
            gold=(str(request.gold),), index="", questions=len(pairs),
            training_questions=len(training), validation_questions=len(validation),
            validation_fraction=request.validation_fraction, seed=SEED, pairs=len(rows),
            options=options, loop=loop, dev_before=before,
            dev_after={**after, "cross_encoder_alone_auc": alone["auc"]},
        )  # fmt: skip
        card.write(work)
        check_no_pickles(work)
        work.chmod(0o755)
        if out.exists():
            out.rmdir()
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return card


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _bound(phase: Phase | None, name: str) -> Progress | None:
    if phase is None:
        return None
    return lambda done, total: phase(name, done, total)
