"""The verifier on claims written by hand from PubMedQA abstracts: true ones kept, false ones
(negated, direction reversed, number changed, reason invented) caught.

The claims are ``tests/fixtures/verifier_claims.jsonl`` (PMID, kind, claim); each is checked
against its PubMedQA abstract (``../shared/corpus/pubmedqa/pqal_contexts.jsonl``) by the verifier
the answers use (:func:`rag.answer.pipeline.make_verifier`, default settings or ``--config``).

    .venv/bin/python benchmarks/claim_probe.py [--config FILE] [--show]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from base.settings import Settings, load_settings
from benchmarks.verifier_data import CLAIMS_FIXTURE, claim_probe_pairs, probe_figures
from rag.answer.pipeline import make_verifier
from rag.index.embed.embedder import load_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="print every claim's support")
    args = parser.parse_args()
    torch.set_num_threads(2)
    settings = load_settings(args.config) if args.config else Settings()
    verifier = make_verifier(load_embedder(settings.embedding), settings)
    pairs = claim_probe_pairs()
    support = np.array([verifier.verify([p.claim], [p.passage])[0][0].support for p in pairs])
    threshold = settings.answer.support_threshold
    if args.show:
        for p, s in zip(pairs, support, strict=True):
            mark = "kept" if s >= threshold else "caught"
            print(f"{s:.3f} {mark:6s} {p.kind:9s} {p.claim}")
    print(f"{len(pairs)} claims from {CLAIMS_FIXTURE.name} at threshold {threshold}:")
    print(probe_figures(pairs, support, threshold))


if __name__ == "__main__":
    main()
