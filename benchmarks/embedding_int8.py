"""Trial: the embedder's transformer quantized to int8 by NNCF, against OpenVINO bf16.

    .venv/bin/pip install -e '.[bench]'          # nncf, for this trial only
    .venv/bin/python benchmarks/embedding_int8.py [--questions 150] [--distractors 2000]

Quantizes the cached OpenVINO IR with NNCF post-training quantization (calibrated on
``--calibration`` PubMedQA abstracts), then builds two small indexes of BioASQ gold snippets
(``corpus/bioasq/snippets_by_pmid.jsonl``: the gold documents of the first ``--questions``
questions of the 10B golden files plus ``--distractors`` other PMIDs), one embedded in bf16 and
one in int8, with litrag's own ingest, and reports dense and hybrid recall@10 for both and the
embedding step's documents/s on the same snippets (alternating rounds). int8 is worth adopting
only if recall@10 drops by < 0.005.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from base.settings import Settings  # noqa: E402
from eval.gold import GoldQuestion, load_bioasq  # noqa: E402
from eval.metrics import mean, recall_at_k  # noqa: E402
from rag.index.embeddings import Embedder, load_embedder  # noqa: E402
from rag.index.ingest import ingest  # noqa: E402
from rag.index.openvino import Compiled  # noqa: E402
from rag.retrieve.hybrid import open_retriever  # noqa: E402

SHARED = ROOT.parent / "shared"


def quantize(embedder: Embedder, texts: list[str], folder: Path) -> Path:
    """The embedder's IR quantized to int8 with NNCF, calibrated on ``texts``."""
    import nncf  # the bench extra
    import openvino as ov

    model = ov.Core().read_model(str(embedder.compiled.ir))
    names = embedder.compiled.inputs

    def feed(text: str) -> dict[str, np.ndarray]:
        features = embedder.model.preprocess([text])
        return {name: features[name].numpy() for name in names}

    quantized = nncf.quantize(
        model,
        nncf.Dataset(texts, feed),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(texts),
    )
    ov.save_model(quantized, str(folder / "model-int8.xml"), compress_to_fp16=False)
    return folder / "model-int8.xml"


def subset(n_questions: int, distractors: int, folder: Path) -> tuple[list[GoldQuestion], Path]:
    """The first questions of the 10B files and a JSONL of their snippets plus distractors."""
    files = sorted((SHARED / "gold/bioasq").glob("10B*_golden.json"))
    questions = [q for f in files for q in load_bioasq(f)][:n_questions]
    gold = {g for q in questions for g in q.gold_ids}
    lines = (SHARED / "corpus/bioasq/snippets_by_pmid.jsonl").read_text().splitlines()
    keep, others = [], 0
    for line in lines:
        if f"pmid:{json.loads(line)['_id']}" in gold:
            keep.append(line)
        elif others < distractors:
            keep.append(line)
            others += 1
    path = folder / "snippets.jsonl"
    path.write_text("\n".join(keep) + "\n")
    return questions, path


def recall(index: Path, settings: Settings, questions: list[GoldQuestion], mode: str) -> float:
    """Mean recall@10 of ``mode`` retrieval over ``questions``."""
    retriever = open_retriever(index, settings)
    found = [
        recall_at_k([h.doc_id for h in retriever.search(q.question, k=10, mode=mode)],  # type: ignore[arg-type]
                    set(q.gold_ids), 10)
        for q in questions
    ]  # fmt: skip
    retriever.index.close()
    return mean(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--distractors", type=int, default=2000)
    parser.add_argument("--calibration", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    embedder = load_embedder(settings.embedding)  # the one ingest and search use
    if embedder.compiled is None:
        sys.exit("the OpenVINO runtime did not load; see the logged reason")
    pqal = (SHARED / "corpus/pubmedqa/pqal_contexts.jsonl").read_text().splitlines()
    calibration = [json.loads(line)["text"] for line in pqal[: args.calibration]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        int8_ir = quantize(embedder, calibration, folder)
        print(f"quantized in {time.perf_counter() - start:.0f} s; load {os.getloadavg()[0]:.2f}")
        runtimes = {
            "bf16": embedder.compiled,
            "int8": Compiled(int8_ir, "bf16", len(os.sched_getaffinity(0))),
        }
        questions, snippets = subset(args.questions, args.distractors, folder)
        texts = [json.loads(line)["text"] for line in snippets.read_text().splitlines()]
        print(f"{len(questions)} questions, {len(texts)} snippet documents")
        speeds: dict[str, list[float]] = {name: [] for name in runtimes}
        for _ in range(args.rounds):
            for name, compiled in runtimes.items():
                embedder.compiled = compiled
                start = time.perf_counter()
                embedder.embed_documents(texts)
                speeds[name].append(len(texts) / (time.perf_counter() - start))
        for name, compiled in runtimes.items():
            embedder.compiled = compiled
            ingest([snippets], folder / name, settings)
            dense = recall(folder / name, settings, questions, "dense")
            hybrid = recall(folder / name, settings, questions, "hybrid")
            rounds = [round(s, 1) for s in speeds[name]]
            print(f"{name}: embedding {statistics.median(speeds[name]):.1f} docs/s (rounds "
                  f"{rounds}); recall@10 dense {dense:.4f}, hybrid {hybrid:.4f}; load "
                  f"{os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
