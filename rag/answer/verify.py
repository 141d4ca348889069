"""Does the passage a claim cites support it? One calibrated probability per (claim, passage).

The verifier reads what a claim asserts beyond the question (:mod:`rag.answer.signals`): its
novel words' coverage in the passage (IDF-weighted), their word-level alignment with the passage
(BERTScore-like precision with the embedder's word vectors), the best sentence similarity, and the
cues a paraphrase may not change: numbers, entities, negation, direction. A logistic regression
fitted on Citation-Integrity (``benchmarks/fit_verifier.py``) turns them into one probability,
``support``; ``support >= settings.support_threshold`` is ``supported``.

Two optional judges sharpen it when given: an LLM judge (a callable ``(claim, passage) ->
P(yes)``) and a sentence-transformers ``CrossEncoder`` (``(passage, claim) -> score``). Each
enters as one more term of a second fitted logistic regression over the cheap score's logit and
the judges' logits (``extras`` in ``verifier.json``), so the result is still one probability.

The verifier remembers the last few hundred passages it read (their sentence spans, vectors and
words): an answer asks for the same passages once per claim and again for the citation list.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from sentence_transformers import CrossEncoder

from base.errors import ConfigError, GenerationError
from base.settings import AnswerSettings
from base.text import is_claim, split_sentences
from rag.answer.signals import (
    PLAIN,
    SIGNALS,
    CitationForm,
    PassageView,
    pair_signals,
    view_claims,
    view_passages,
)
from rag.index.embed.embedder import Embedder

WEIGHTS_FILE = Path(__file__).with_name("verifier.json")
IDF_FILE = Path(__file__).with_name("idf.json")
_REMEMBERED = 256  # passages whose views a verifier keeps (a few answers' worth)

Judge = Callable[[str, str], float]  # (claim, passage) -> P(the passage supports the claim)

log = logging.getLogger(__name__)


class OptionScorer(Protocol):
    """An engine that scores fixed replies (``LocalModel``, ``Endpoint``)."""

    def option_scores(
        self, messages: Sequence[dict[str, str]], options: Sequence[str]
    ) -> list[float]:
        """Log-likelihood of each option as the reply."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """How well one passage supports one claim."""

    support: float  # calibrated probability (0..1) that the passage supports the claim
    supported: bool  # support >= threshold
    evidence: tuple[int, int]  # character span in the passage of its best supporting sentence
    signals: dict[str, float]  # the named signal values behind the score


@dataclass(frozen=True, slots=True)
class Weights:
    """The fitted model: a logistic regression over standardised signals, and its stackers."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float
    threshold: float  # tuned on the dev set; the default of ``support_threshold``
    extras: Mapping[str, Mapping[str, float]]  # "judge", "cross_encoder", "judge+cross_encoder"
    idf: Mapping[str, float]

    def logits(self, signals: np.ndarray) -> np.ndarray:
        """The cheap score's logit for each row of signals."""
        return np.asarray(((signals - self.mean) / self.scale) @ self.coef + self.bias)


def load_weights(path: Path = WEIGHTS_FILE, idf_path: Path = IDF_FILE) -> Weights:
    """The weights ``benchmarks/fit_verifier.py`` wrote; refuses ones fitted for other signals."""
    try:
        doc = json.loads(path.read_text())
        idf_doc = json.loads(idf_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the verifier's weights cannot be read: {exc}") from exc
    if tuple(doc["features"]) != SIGNALS:
        raise ConfigError(
            f"{path} was fitted on {doc['features']}, the code computes {list(SIGNALS)}: "
            "re-run benchmarks/fit_verifier.py"
        )
    idf = dict(idf_doc["idf"])
    return Weights(
        features=SIGNALS,
        mean=np.array(doc["mean"]),
        scale=np.array(doc["scale"]),
        coef=np.array(doc["coef"]),
        bias=float(doc["bias"]),
        threshold=float(doc["threshold"]),
        extras={k: dict(v) for k, v in doc["extras"].items()},
        idf=_IdfTable(idf, float(idf_doc["default"])),
    )


class _IdfTable(dict[str, float]):
    """IDF by stem; a stem the reference corpus lacks (or has once or twice) gets the default."""

    def __init__(self, table: Mapping[str, float], default: float) -> None:
        super().__init__(table)
        self.default = default

    def __missing__(self, key: str) -> float:
        return self.default


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept inside [1e-4, 1 - 1e-4]."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


MIX_FILE = "litrag-verifier.json"  # written beside a model by ``rag tune verifier``


def load_cross_encoder(path: str) -> CrossEncoder:
    """The CrossEncoder in directory ``path`` (its files only; never remote code).

    A model ``rag tune verifier`` trained carries its own mix with the cheap score
    (:data:`MIX_FILE`); it is kept on the model as ``litrag_mix`` for the :class:`Verifier`.
    """
    try:
        model: CrossEncoder = CrossEncoder(path, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"answer.cross_encoder {path!r} cannot be loaded: {exc}") from exc
    mix_path = Path(path) / MIX_FILE
    if mix_path.is_file():
        try:
            doc = json.loads(mix_path.read_text())
            mix = {k: float(v) for k, v in doc["mix"].items()}
            mix["threshold"] = float(doc["threshold"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{mix_path}: not a verifier mix ({exc})") from exc
        if set(mix) != {"cheap", "cross_encoder", "bias", "threshold"}:
            raise ConfigError(f"{mix_path}: the mix needs cheap, cross_encoder and bias")
        model.litrag_mix = mix
    return model


def cross_encoder_support(model: CrossEncoder, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """P(support) of each ``(passage, claim)``: the sigmoid of a one-label model's score, or an
    NLI model's softmaxed "entailment" probability."""
    names = getattr(model.config, "id2label", None) or {}
    labels = {int(i): str(name).lower() for i, name in names.items()}
    if len(labels) <= 1:
        return np.asarray(model.predict(list(pairs), show_progress_bar=False), dtype=np.float64)
    scores = np.asarray(
        model.predict(list(pairs), apply_softmax=True, show_progress_bar=False), dtype=np.float64
    )
    column = next((i for i, name in labels.items() if name.startswith("entail")), None)
    if column is None:
        raise ConfigError(f"answer.cross_encoder has labels {list(labels.values())}, no entailment")
    return scores[:, column]


def judge_from(engine: OptionScorer) -> Judge:
    """An LLM judge: P("yes") against P("no") after :func:`~rag.answer.prompts.judge_messages`."""
    from rag.answer.prompts import judge_messages

    def judge(claim: str, passage: str) -> float:
        yes, no = engine.option_scores(judge_messages(claim, passage), ["yes", "no"])
        return 1.0 / (1.0 + math.exp(no - yes))

    return judge


class Verifier:
    """Scores claims against passages with the embedder, the fitted weights and optional judges."""

    def __init__(
        self,
        embedder: Embedder,
        settings: AnswerSettings,
        judge: Judge | None = None,
        cross_encoder: CrossEncoder | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.embedder = embedder
        self.settings = settings
        self.judge = judge
        self.cross_encoder = cross_encoder
        self.weights = weights or load_weights()
        own_mix = getattr(cross_encoder, "litrag_mix", None)
        if own_mix is not None and judge is None:  # a model trained with its own mix
            # Its operating point was put at the threshold it names; move it onto the packaged
            # default's, so that support_threshold means the same with and without it.
            mix = {k: v for k, v in own_mix.items() if k != "threshold"}
            mix["bias"] += logit(self.weights.threshold) - logit(own_mix["threshold"])
            extras = {**self.weights.extras, "cross_encoder": mix}
            self.weights = replace(self.weights, extras=extras)
        given = (("judge", judge), ("cross_encoder", cross_encoder))
        present = "+".join(name for name, x in given if x is not None)
        if present and present not in self.weights.extras:
            raise ConfigError(
                f"the verifier's weights have no mix for {present} (they have "
                f"{sorted(self.weights.extras)}): re-run benchmarks/fit_verifier.py with it"
            )
        self._seen: dict[str, PassageView] = {}

    def passage_views(self, passages: Sequence[str]) -> list[PassageView]:
        """Each passage's view (one embedder batch for the passages not seen lately)."""
        for p in dict.fromkeys(passages):  # the least recently asked for go first
            if p in self._seen:
                self._seen[p] = self._seen.pop(p)
        missing = list(dict.fromkeys(p for p in passages if p not in self._seen))
        spans = [split_sentences(p) or [(0, len(p))] for p in missing]
        for passage, view in zip(
            missing, view_passages(self.embedder, missing, spans), strict=True
        ):
            self._seen[passage] = view
        found = [self._seen[p] for p in passages]
        while len(self._seen) > max(_REMEMBERED, len(passages)):
            self._seen.pop(next(iter(self._seen)))
        return found

    def verify(
        self,
        claims: Sequence[str],
        passages: Sequence[str],
        question: str = "",
        forms: Sequence[CitationForm] | None = None,
    ) -> list[list[Verdict]]:
        """``result[i][j]``: how passage ``j`` supports claim ``i`` (beyond ``question``), claim
        ``i`` citing its sources as ``forms[i]`` says (default: one plain marker).

        A fragment that asserts nothing (:func:`~rag.answer.citations.is_claim`) is supported by
        no passage: ``support`` 0.
        """
        if not claims or not passages:
            return [[] for _ in claims]
        forms = list(forms) if forms else [PLAIN] * len(claims)
        real = [i for i, c in enumerate(claims) if is_claim(c)]
        if len(real) < len(claims):
            judged = iter(
                self.verify([claims[i] for i in real], passages, question, [forms[i] for i in real])
            )
            views = self.passage_views(passages)
            empty = [Verdict(0.0, False, v.spans[0], {"not_a_claim": 1.0}) for v in views]
            return [next(judged) if is_claim(c) else list(empty) for c in claims]
        claim_views = view_claims(
            self.embedder, claims, [question] * len(claims), self.weights.idf, forms
        )
        passage_views = self.passage_views(passages)
        rows = [[pair_signals(c, p) for p in passage_views] for c in claim_views]
        signals = np.array([[x for x, _ in row] for row in rows])  # (claims, passages, signals)
        cheap = self.weights.logits(signals)
        extra = self._extras(claims, passages)
        verdicts = []
        for i, row in enumerate(rows):
            line = []
            for j, (values, best) in enumerate(row):
                named = dict(zip(SIGNALS, values.tolist(), strict=True))
                z = float(cheap[i, j])
                named["cheap"] = 1.0 / (1.0 + math.exp(-z))
                if extra:
                    stack = self.weights.extras["+".join(extra)]
                    z = stack["cheap"] * z + stack["bias"]
                    for name, table in extra.items():
                        named[name] = float(table[i, j])
                        z += stack[name] * logit(float(table[i, j]))
                support = 1.0 / (1.0 + math.exp(-z))
                line.append(
                    Verdict(
                        support=support,
                        supported=support >= self.settings.support_threshold,
                        evidence=passage_views[j].spans[best],
                        signals=named,
                    )
                )
            verdicts.append(line)
        return verdicts

    def _extras(self, claims: Sequence[str], passages: Sequence[str]) -> dict[str, np.ndarray]:
        """The optional judges' P(support) for every pair, keyed in the order of ``extras``."""
        found: dict[str, np.ndarray] = {}
        if self.judge is not None:
            judge = self.judge
            try:
                found["judge"] = np.array([[judge(c, p) for p in passages] for c in claims])
            except GenerationError as exc:  # the cheap signals (and cross-encoder) still judge
                log.warning("the LLM judge failed, verifying without it: %s", exc)
        if self.cross_encoder is not None:
            pairs = [(p, c) for c in claims for p in passages]
            scores = cross_encoder_support(self.cross_encoder, pairs)
            found["cross_encoder"] = scores.reshape(len(claims), len(passages))
        if found and "+".join(found) not in self.weights.extras:
            log.warning("the verifier's weights have no mix for %s alone", "+".join(found))
            return {}
        return found
