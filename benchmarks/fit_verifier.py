"""Fit the citation verifier's weights on Citation-Integrity train; report dev; write the JSON.

1. IDF from a reference corpus (the train claims' cited documents, the shared BioASQ snippets and
   PubMedQA contexts) -> ``rag/answer/idf.json`` (stems seen in >= 3 documents).
2. The signals of :mod:`rag.answer.signals` for every train and dev pair, computed by the same
   code the verifier runs.
3. A logistic regression (numpy, Newton steps, L2) on the standardised signals of the train
   pairs plus perturbed copies of the supported ones (a number, negation or direction changed,
   label 0, weight ``--perturb-weight``): the citation data hardly shows these cues.
4. The threshold: the best balanced accuracy of the out-of-fold scores of a 5-fold CV on train
   (folds by claim; a perturbed claim in its source's fold) among thresholds that keep >= KEEP
   of the accurate citations. Dev is looked at once, with the weights and threshold so chosen.
5. Train-CV and dev figures and their gap, optionally an ablation on train CV (``--ablation``),
   the perturbed dev claims caught, and
   optionally BioASQ pairs (``--bioasq``), an LLM judge (``--judge N``) and a cross-encoder
   (``--cross-encoder DIR`` from ``train_cross_encoder.py``), each mixed in by a second
   regression over logits fitted on train claims the judge/cross-encoder never learned from.

    .venv/bin/python benchmarks/fit_verifier.py [--bioasq] [--judge 300] [--cross-encoder DIR]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from base.settings import EmbeddingSettings, GenerationSettings
from base.text import split_sentences
from benchmarks.train_cross_encoder import auc, split_train
from benchmarks.verifier_data import (
    CLAIMS_FIXTURE,
    SHARED,
    Pair,
    bioasq_pairs,
    citint,
    claim_probe_pairs,
    perturb,
    probe_figures,
)
from rag.answer.signals import (
    _STOP,
    _WORD,
    CONFLICTS,
    SIGNALS,
    pair_signals,
    stem,
    view_claims,
    view_passages,
)
from rag.answer.verify import IDF_FILE, WEIGHTS_FILE, logit
from rag.index.embed.embedder import Embedder, load_embedder

KEEP = 0.80  # the threshold keeps at least this share of the accurate citations
# The train-CV AUC the conflict signals may cost on the natural claims: the citation data hardly
# holds a negated or reversed finding, so only perturbed claims teach them, and the weights that
# catch those cost the natural citations a little ranking quality.
AUC_COST = 0.03
# The signals the score uses; the others are computed (and shown in a Verdict) but weigh 0 (see
# the "+ signal" rows of --ablation, on train CV).
# The conflicts with the best-matching sentence (rag.answer.conflicts) are computed and shown in
# a Verdict, but only reason_unsupported weighs: with negation/direction/number_mismatch the
# train-CV AUC fell 0.705 -> 0.688 and the written claims gained only 2 of 10 direction changes
# (the gated conflicts catch the same negations and numbers); null_mismatch's weight came out
# positive.
USED = (
    "coverage",
    "coverage_best",
    "cos_best",
    "cos_passage",
    "align_mean",
    "align_low",
    "number_conflict",
    "negation_conflict",
    "direction_conflict",
    "reason_unsupported",
    "cited_with_others",
    "cites_others",
)
Model = tuple[np.ndarray, np.ndarray, np.ndarray, float]  # mean, scale, coef, bias


def build_idf(shared: Path, train: Sequence[Pair]) -> dict[str, object]:
    """BM25-style IDF of stems over the reference corpus (no dev or test text)."""
    docs = list(dict.fromkeys(p.passage for p in train))
    for name in ("bioasq/snippets_by_pmid.jsonl", "pubmedqa/pqal_contexts.jsonl"):
        with (shared / "corpus" / name).open() as f:
            docs += [json.loads(line)["text"] for line in f]
    df: collections.Counter[str] = collections.Counter()
    for text in docs:
        df.update({stem(w) for w in _WORD.findall(text.lower())} - _STOP)
    n = len(docs)

    def idf(d: int) -> float:
        return round(math.log(1 + (n - d + 0.5) / (d + 0.5)), 2)

    table = {s: idf(d) for s, d in sorted(df.items()) if d >= 3}
    return {"documents": n, "default": idf(1), "idf": table}


def signal_matrix(embedder: Embedder, pairs: Sequence[Pair], idf: dict[str, float]) -> np.ndarray:
    """One row of signals per pair (the verifier's own code path, batched)."""
    passages = list(dict.fromkeys(p.passage for p in pairs))
    views = {}
    for i in range(0, len(passages), 256):
        chunk = passages[i : i + 256]
        spans = [split_sentences(p) or [(0, len(p))] for p in chunk]
        views.update(zip(chunk, view_passages(embedder, chunk, spans), strict=True))
    keys = list(dict.fromkeys((p.question, p.claim, p.form) for p in pairs))
    claims = {}
    for i in range(0, len(keys), 256):
        chunk = keys[i : i + 256]
        found = view_claims(embedder, [c for _, c, _ in chunk], [q for q, _, _ in chunk], idf,
                            [f for _, _, f in chunk])  # fmt: skip
        claims.update(zip(chunk, found, strict=True))
    return np.array([pair_signals(claims[(p.question, p.claim, p.form)], views[p.passage])[0]
                     for p in pairs])  # fmt: skip


def fit(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    l2: float,
    offset: np.ndarray | None = None,
    standardise: bool = True,
    intercept: bool = True,
) -> Model:
    """L2-regularised logistic regression (Newton's method), optionally on standardised columns
    and on top of a fixed ``offset`` logit."""
    mean = x.mean(axis=0) if standardise else np.zeros(x.shape[1])
    scale = x.std(axis=0) + 1e-9 if standardise else np.ones(x.shape[1])
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    base = np.zeros(len(y)) if offset is None else offset
    beta = np.zeros(z.shape[1])
    ridge = np.eye(z.shape[1]) * l2
    ridge[-1, -1] = 0.0 if intercept else 1e12  # an infinite ridge pins the intercept at 0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(z @ beta + base, -30, 30)))
        grad = z.T @ (weight * (p - y)) + ridge @ beta
        hess = (z * (weight * p * (1 - p))[:, None]).T @ z + ridge
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return mean, scale, beta[:-1], float(beta[-1])


def fit_verifier(
    x: np.ndarray, y: np.ndarray, natural: np.ndarray, names: list[str], args: argparse.Namespace
) -> Model:
    """The two stages over the columns of ``x``, the signals ``names``.

    1. The evidence signals on the natural train pairs (ridge ``--l2``).
    2. The conflict signals on top of stage 1's logit, on the natural pairs and the perturbed
       ones (weight ``--perturb-weight``): only perturbations show what a changed number means.
    The result is one logistic regression over ``cols`` (conflicts unstandardised).
    """
    cols = list(range(len(names)))
    conflicts = [c for c in cols if names[c] in CONFLICTS]
    evidence = [c for c in cols if c not in conflicts]
    mean, scale, coef, bias = fit(
        x[natural][:, evidence], y[natural], np.ones(natural.sum()), args.l2
    )
    full_mean, full_scale, full_coef = np.zeros(len(cols)), np.ones(len(cols)), np.zeros(len(cols))
    where = [cols.index(c) for c in evidence]
    full_mean[where], full_scale[where], full_coef[where] = mean, scale, coef
    if conflicts:
        offset = ((x[:, evidence] - mean) / scale) @ coef + bias
        weight = np.where(natural, 1.0, args.perturb_weight)
        # No intercept: the perturbed claims would pull the calibrated stage 1 down.
        _, _, c2, _ = fit(x[:, conflicts], y, weight, args.l2_conflicts, offset, False,
                          intercept=False)  # fmt: skip
        full_coef[[cols.index(c) for c in conflicts]] = c2
    return full_mean, full_scale, full_coef, bias


def folds(n: int, k: int, seed: int = 0) -> np.ndarray:
    """A fold number (0..k-1) for each of ``n`` claims, shuffled with a fixed seed."""
    order = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, dtype=int)
    out[order] = np.arange(n) % k
    return out


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    natural: np.ndarray,
    fold: np.ndarray,
    names: list[str],
    args: argparse.Namespace,
) -> np.ndarray:
    """Out-of-fold P(supported) of every row: each fold scored by a model fitted on the others
    (a perturbed claim sits in the fold of the claim it was made from)."""
    out = np.zeros(len(y))
    for k in np.unique(fold):
        held = fold == k
        model = fit_verifier(x[~held], y[~held], natural[~held], names, args)
        out[held] = predict(model, x[held])
    return out


def predict(model: Model, x: np.ndarray) -> np.ndarray:
    """P(supported) for each row."""
    mean, scale, coef, bias = model
    return np.asarray(1 / (1 + np.exp(-(((x - mean) / scale) @ coef + bias))))


def choose_conflict_weight(
    evaluate: Callable[[list[int]], tuple[dict[str, float], dict[str, float]]],
    used: list[int],
    args: argparse.Namespace,
) -> tuple[float, float]:
    """The conflicts' ridge and the perturbed claims' weight, by train CV: the most perturbed
    claims caught (mean over kinds) among the choices that cost the natural claims' CV AUC at
    most ``AUC_COST`` against the model without conflict signals."""
    plain = [c for c in used if SIGNALS[c] not in CONFLICTS]
    base_auc = evaluate(plain)[0]["auc"]
    best, chosen = -1.0, (args.l2_conflicts, args.perturb_weight)
    for l2c in (1.0, 3.0, 10.0, 30.0, 100.0):
        for weight in (0.3, 1.0, 3.0):
            args.l2_conflicts, args.perturb_weight = l2c, weight
            f, caught = evaluate(used)
            mean_caught = float(np.mean(list(caught.values())))
            ok = f["auc"] >= base_auc - AUC_COST
            print(f"conflict ridge {l2c:5.0f} weight {weight}: CV AUC {f['auc']:.3f} "
                  f"(without conflicts {base_auc:.3f}), perturbed caught {mean_caught:.3f}"
                  f"{'' if ok else ' (costs too much)'}")  # fmt: skip
            if ok and mean_caught > best:
                best, chosen = mean_caught, (l2c, weight)
    print(f"chosen: conflict ridge {chosen[0]}, perturbed weight {chosen[1]}")
    return chosen


def figures(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Balanced accuracy, inaccurate caught, accurate kept, precision of "supported", AUC."""
    supported = p >= threshold
    kept = float(supported[y == 1].mean())
    caught = float((~supported[y == 0]).mean())
    precision = float(y[supported].mean()) if supported.any() else 0.0
    return {
        "balanced_accuracy": round((kept + caught) / 2, 3),
        "inaccurate_caught": round(caught, 3),
        "accurate_kept": round(kept, 3),
        "precision_supported": round(precision, 3),
        "recall_supported": round(kept, 3),
        "auc": round(auc(y, p), 3),
        "threshold": round(threshold, 3),
    }


def tune(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold with the best balanced accuracy among those keeping >= KEEP accurate."""
    best, chosen = -1.0, 0.5
    for t in np.unique(np.round(p, 3)):
        f = figures(y, p, float(t))
        if f["accurate_kept"] >= KEEP and f["balanced_accuracy"] > best:
            best, chosen = f["balanced_accuracy"], float(t)
    return chosen


def show(name: str, f: dict[str, float]) -> None:
    """One line of figures."""
    print(
        f"{name:26s} bacc {f['balanced_accuracy']:.3f}  caught {f['inaccurate_caught']:.2f}  "
        f"kept {f['accurate_kept']:.2f}  prec {f['precision_supported']:.2f}  "
        f"AUC {f['auc']:.3f}  t {f['threshold']:.3f}"
    )


def stacker(parts: dict[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
    """Weights of a logistic regression over logits (no standardising, light L2)."""
    names = list(parts)
    x = np.column_stack([parts[n] for n in names])
    mean, scale, coef, bias = fit(x, y, np.ones(len(y)), l2=0.1)
    # Fold the standardising into the weights: the verifier mixes raw logits.
    weights = {n: float(c / s) for n, c, s in zip(names, coef, scale, strict=True)}
    weights["bias"] = float(
        bias - sum(c * m / s for c, m, s in zip(coef, mean, scale, strict=True))
    )
    return weights


def mixed(weights: dict[str, float], parts: dict[str, np.ndarray]) -> np.ndarray:
    """The stacked probability."""
    z = weights["bias"] + sum(weights[n] * v for n, v in parts.items())
    return np.asarray(1 / (1 + np.exp(-z)))


def judge_scores(pairs: Sequence[Pair]) -> tuple[np.ndarray, float]:
    """The default LLM's P(yes) for each pair, and the mean seconds per pair."""
    from rag.answer.engines import load_backend
    from rag.answer.verify import judge_from

    judge = judge_from(load_backend(GenerationSettings(model="smollm2-135m")))
    start = time.perf_counter()
    scores = np.array([judge(p.claim, p.passage) for p in pairs])
    return scores, (time.perf_counter() - start) / max(len(pairs), 1)


def ce_scores(path: str, pairs: Sequence[Pair]) -> tuple[np.ndarray, float]:
    """The cross-encoder's P(support) for each pair, and the mean seconds per pair."""
    from rag.answer.verify import cross_encoder_support, load_cross_encoder

    model = load_cross_encoder(path)
    start = time.perf_counter()
    scores = cross_encoder_support(model, [(p.passage, p.claim) for p in pairs])
    return scores, (time.perf_counter() - start) / max(len(pairs), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--l2", type=float, default=100.0, help="ridge of stage 1")
    parser.add_argument("--perturb-weight", type=float, default=1.0)
    parser.add_argument("--per-claim", type=int, default=2, help="perturbations per claim")
    parser.add_argument("--l2-conflicts", type=float, default=1.0, help="(chosen by CV)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--ablation", action="store_true", help="refit without each signal")
    parser.add_argument("--bioasq", action="store_true", help="also report BioASQ dev pairs")
    parser.add_argument(
        "--judge", type=int, default=0, help="N held-out train claims: fit the LLM judge's weight"
    )
    parser.add_argument(
        "--cross-encoder", default="", help="a CrossEncoder from train_cross_encoder.py"
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--signals-cache", default="", help="an .npz outside the repo to reuse the signals"
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    start = time.perf_counter()
    embedder = load_embedder(EmbeddingSettings())

    train, dev = citint("train"), citint("dev")
    idf_doc = build_idf(SHARED, train)
    idf = dict(idf_doc["idf"])  # type: ignore[call-overload]
    default = float(idf_doc["default"])  # type: ignore[arg-type]
    idf_map = collections.defaultdict(lambda: default, idf)
    shifted = perturb(train, seed=0, per_claim=args.per_claim)
    dev_shifted = perturb(dev, seed=1, per_claim=4)
    cache = Path(args.signals_cache) if args.signals_cache else None
    if cache and cache.exists():  # a rerun with the same code and data (e.g. to add judges)
        saved = np.load(cache, allow_pickle=False)
        x_train, x_dev = saved["train"], saved["dev"]
    else:
        x_train = signal_matrix(embedder, train + shifted, idf_map)
        x_dev = signal_matrix(embedder, dev + dev_shifted, idf_map)
        if cache:
            np.savez(cache, train=x_train, dev=x_dev)
    print(f"signals for {len(x_train) + len(x_dev)} pairs in {time.perf_counter() - start:.0f}s")
    y_train = np.array([p.label for p in train + shifted], dtype=float)
    natural = np.arange(len(y_train)) < len(train)
    origin = np.array([i for i in range(len(train))] + [p.origin for p in shifted])
    fold = folds(len(train), args.folds)[origin]
    y_dev = np.array([p.label for p in dev])
    x_dev, x_dev_shifted = x_dev[: len(dev)], x_dev[len(dev) :]
    kinds = np.array([p.kind for p in dev_shifted])
    train_kinds = np.array(["natural"] * len(train) + [p.kind for p in shifted])

    def evaluate(cols: list[int]) -> tuple[dict[str, float], dict[str, float]]:
        """5-fold CV on train: the out-of-fold figures (threshold tuned on them), and the share
        of the held-out folds' perturbed claims caught."""
        oof = cross_validate(x_train[:, cols], y_train, natural, fold, [SIGNALS[c] for c in cols],
                             args)  # fmt: skip
        f = figures(y_train[natural], oof[natural], tune(y_train[natural], oof[natural]))
        caught = {k: round(float(np.mean(oof[train_kinds == k] < f["threshold"])), 3)
                  for k in sorted(set(train_kinds) - {"natural"})}  # fmt: skip
        return f, caught

    used = [SIGNALS.index(n) for n in USED]
    args.l2_conflicts, args.perturb_weight = choose_conflict_weight(evaluate, used, args)
    cv, cv_caught = evaluate(used)
    threshold = cv["threshold"]
    model_used = fit_verifier(x_train[:, used], y_train, natural, list(USED), args)
    mean, scale, coef = np.zeros(len(SIGNALS)), np.ones(len(SIGNALS)), np.zeros(len(SIGNALS))
    mean[used], scale[used], coef[used] = model_used[0], model_used[1], model_used[2]
    model: Model = (mean, scale, coef, model_used[3])
    show(f"train {args.folds}-fold CV", cv)
    print("train CV perturbed claims caught:", cv_caught)
    if args.ablation:
        print("ablation (train CV): refit without a used signal / with an unused one")
        for i, name in enumerate(SIGNALS):
            cols = [k for k in used if k != i] if i in used else [*used, i]
            f, c = evaluate(cols)
            show(f"{'-' if i in used else '+'} {name}", f)
            print(f"{'':26s} perturbed caught {c}")
    # Dev, once, at the threshold chosen on train.
    p_dev = predict(model, x_dev)
    result = figures(y_dev, p_dev, threshold)
    shifted_p = predict(model, x_dev_shifted)
    caught = {k: round(float(np.mean(shifted_p[kinds == k] < threshold)), 3)
              for k in sorted(set(kinds))}  # fmt: skip
    print(f"citint dev: {len(dev)} pairs, {int(y_dev.sum())} accurate")
    show("dev (weights, threshold from train)", result)
    print(f"perturbed dev claims ({len(dev_shifted)}) caught:", caught)
    gap = {k: round(cv[k] - result[k], 3) for k in ("balanced_accuracy", "auc")}
    print("train CV - dev:", gap)
    probe_pairs = claim_probe_pairs()
    p_probe = predict(model, signal_matrix(embedder, probe_pairs, idf_map))
    probe = probe_figures(probe_pairs, p_probe, threshold)
    print(f"written claims ({len(probe_pairs)}, {CLAIMS_FIXTURE.name}):", probe)
    report: dict[str, object] = {
        "train_cv": {**cv, "folds": args.folds, "perturbed_caught": cv_caught},
        "citint_dev": result,
        "perturbed_dev_caught": caught,
        "cv_minus_dev": gap,
        "written_claims": probe,
    }
    if args.bioasq:
        pairs = bioasq_pairs(embedder, r"(9|10)B")
        x_b = signal_matrix(embedder, pairs, idf_map)
        y_b = np.array([p.label for p in pairs])
        p_b = predict(model, x_b)
        show("bioasq dev (all kinds)", figures(y_b, p_b, threshold))
        per_kind = {}
        for kind in ("own", "near", "restated_own", "restated_invented"):
            mask = np.array([p.kind == kind for p in pairs])
            right = (p_b[mask] >= threshold) == (y_b[mask] == 1)
            per_kind[kind] = round(float(np.mean(right)), 3)
        print("bioasq dev, share judged right per kind:", per_kind)
        report["bioasq_dev"] = {"all": figures(y_b, p_b, threshold), "right_per_kind": per_kind}

    bias = model[3]
    # The judges' mixes are refitted only when asked (--judge, --cross-encoder: minutes to hours);
    # otherwise the previous fit's are kept (their "cheap" weight is close to 1), and said so.
    extras: dict[str, dict[str, float]] = dict(json.loads(WEIGHTS_FILE.read_text())["extras"])
    carried = sorted(extras)
    if args.judge or args.cross_encoder:
        _, held = split_train(train, 0.8)  # the part train_cross_encoder.py held out
        y_held = np.array([p.label for p in held])
        to_logit = np.vectorize(logit)
        held_parts = {"cheap": to_logit(predict(model, signal_matrix(embedder, held, idf_map)))}
        dev_parts = {"cheap": to_logit(p_dev)}
        scorers: dict[str, Callable[[Sequence[Pair]], tuple[np.ndarray, float]]] = {}
        if args.judge:  # the LLM takes seconds a pair: the first N held-out and dev claims
            scorers["judge"] = judge_scores
        if args.cross_encoder:
            path = args.cross_encoder
            scorers["cross_encoder"] = lambda ps: ce_scores(path, ps)
        for name, score in scorers.items():
            n = args.judge if name == "judge" else len(dev)
            s_held, _ = score(held[:n])
            s_dev, seconds = score(dev[:n])
            held_parts[name], dev_parts[name] = to_logit(s_held), to_logit(s_dev)
            alone = figures(y_dev[:n], s_dev, tune(y_dev[:n], s_dev))
            cheap = figures(y_dev[:n], p_dev[:n], threshold)
            show(f"{name} alone (dev[:{n}])", alone)
            show(f"cheap on the same {n}", cheap)
            print(f"{name}: {seconds * 1000:.0f} ms per pair")
            report[name] = {"alone": alone, "cheap_same_pairs": cheap,
                            "dev_pairs": n, "ms_per_pair": round(seconds * 1000, 1)}  # fmt: skip
        combos = [[n] for n in scorers] + ([list(scorers)] if len(scorers) > 1 else [])
        for combo in combos:
            names = ["cheap", *combo]
            n_held = min(len(held_parts[k]) for k in names)
            n_dev = min(len(dev_parts[k]) for k in names)
            weights = stacker({k: held_parts[k][:n_held] for k in names}, y_held[:n_held])
            p = mixed(weights, {k: dev_parts[k][:n_dev] for k in names})
            tuned = figures(y_dev[:n_dev], p, tune(y_dev[:n_dev], p))
            at_default = figures(y_dev[:n_dev], p, threshold)
            show("cheap + " + " + ".join(combo), tuned)
            show("  at the default threshold", at_default)
            key = "+".join(combo)
            extras[key] = {k: round(v, 6) for k, v in weights.items()}
            carried = [c for c in carried if c != key]
            report[f"cheap+{key}"] = {
                "tuned": tuned,
                "at_default_threshold": at_default,
                "held_out_train_pairs": n_held,
                "dev_pairs": n_dev,
            }
    print(f"done in {time.perf_counter() - start:.0f}s")
    if args.no_write:
        return
    IDF_FILE.write_text(json.dumps(idf_doc, separators=(",", ":")) + "\n")
    doc = {
        "fitted": {
            "data": "Citation-Integrity claims_train.jsonl (2,138 claims; SUPPORT = accurate) "
            f"+ {len(shifted)} perturbed supported claims (weight {args.perturb_weight}); "
            f"threshold tuned by {args.folds}-fold CV on train; dev measured once",
            "date": datetime.date.today().isoformat(),
            "script": "benchmarks/fit_verifier.py",
            "l2": args.l2,
            "l2_conflicts": args.l2_conflicts,
            "perturb_weight": args.perturb_weight,
            "extras_carried_over": carried,
        },
        "features": list(SIGNALS),
        "used": list(USED),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in coef],
        "bias": round(bias, 6),
        "threshold": round(threshold, 3),
        "extras": extras,
        "dev": report,
    }
    WEIGHTS_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {WEIGHTS_FILE} and {IDF_FILE}")


if __name__ == "__main__":
    main()
