"""Answer latency with the default LLM: first token, a 150-token answer end to end, check cost.

    .venv/bin/python benchmarks/answer_latency.py --index /tmp/shared_index [--engine transformers]
        [--fresh] [--follow-up] [--labels 20] [--compare-labels 40]

The model is loaded (and warmed with one answer) before timing. ``max_new_tokens`` is 150 and
the answers are generated to that length or to the model's end of turn.

``--fresh`` empties llama.cpp's prompt caches (its own context's and the batched slots')
before each question, so every first token pays for the whole prompt (transformers keeps no
cache between calls). ``--follow-up`` times, per question, the first token of its prompt cold
(nothing cached), then with only the fixed instructions cached (what a new question finds in a
running server: the system prompt evaluated by an earlier question), then of follow-up
questions over the same sources (the prefix llama.cpp has cached).
``--labels N`` times PubMedQA yes/no/maybe scoring (the prompt ``rag eval`` builds, top-3
passages) over the first N dev questions. ``--compare-labels N`` scores N questions with
llama.cpp on the original Q4_1 file, its Q4_0 and Q8_0 copies and transformers, and prints each
one's speed and agreement with the original.

``--types Q4_0,Q8_0`` (one command for the 1.5B default's speed, issue 27): for the configured
model's file as it is and its copies in each type (made once in the cache with
llama_model_quantize), the first token of a fresh answer prompt (the seed question's sources,
~600 tokens), the same with the instructions' prefix cached, the decode rate, the seed question
answered and checked, and the PubMedQA labels of ``--labels`` dev questions over their own gold
abstracts. Prints the machine's load beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from base.settings import GenerationSettings, Settings
from rag.answer.engines import Engine, gguf_path, load_backend
from rag.answer.engines.llamacpp import LlamaModel
from rag.answer.engines.quantize import cached_copy
from rag.answer.pipeline import Pipeline, to_source
from rag.answer.prompts import answer_messages, label_messages
from rag.answer.records import Source

QUESTIONS = [
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?",
    "What does the tumor microenvironment consist of?",
    "Is MDM2 amplification associated with hyperprogressive disease?",
    "What is the role of TP53 in cancer?",
    "Does tailored telephone counseling increase mammography use?",
    "Which drugs inhibit MDM2?",
]
FOLLOW_UPS = ["What else do the sources say about it?", "Which patients were studied?"]
LABELS = ["yes", "no", "maybe"]
Prompts = list[tuple[str, list[dict[str, str]]]]  # (gold label, chat messages)
GOLD = Path(__file__).resolve().parents[1].parent / "shared/gold/pubmedqa/pqal_dev.json"


def main() -> None:
    """Time every question once after a warm-up; print per-question rows and medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, help="a directory or a Milvus URI")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--engine", default="llama.cpp", choices=["llama.cpp", "transformers"])
    parser.add_argument("--requantize", default="Q4_0", choices=["Q4_0", "Q8_0", "off"])
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--fresh", action="store_true", help="no prompt cache between questions")
    parser.add_argument("--follow-up", action="store_true", help="time cached-prefix follow-ups")
    parser.add_argument("--labels", type=int, default=0, help="time N PubMedQA label scorings")
    parser.add_argument("--compare-labels", type=int, default=0, help="engines' labels on N")
    parser.add_argument("--gold", type=Path, default=GOLD, help="PubMedQA pqal_dev.json")
    parser.add_argument("--model", default="", help="generation.model (default: the default)")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: default)")
    parser.add_argument("--types", default="", help="compare the file with copies in these types")
    parser.add_argument("--repeat", type=int, default=2, help="--types: first tokens timed")
    parser.add_argument("--copies-only", action="store_true", help="--types: skip the file as is")
    args = parser.parse_args()
    if args.types:
        compare_types(args)
        return
    generation = {"dtype": args.dtype, "max_new_tokens": args.tokens, "engine": args.engine,
                  "requantize": args.requantize}  # fmt: skip
    settings = Settings(generation=generation)  # type: ignore[arg-type]
    start = time.perf_counter()
    pipeline = Pipeline.open(args.index, settings)
    backend = load_backend(settings.generation)
    print(f"load: index + embedder + {backend.name} on {type(backend).__name__} in "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    if args.compare_labels:
        compare_labels(pipeline, args.gold, args.compare_labels, settings.generation)
        return
    pipeline.ask(QUESTIONS[0])  # warm-up
    answers(pipeline, backend, args.tokens, args.fresh)
    if args.follow_up:
        follow_ups(pipeline, backend)
    if args.labels:
        prompts = label_prompts(pipeline, args.gold, args.labels)
        ms, _ = score(backend, prompts)
        med, mean = statistics.median(ms), statistics.mean(ms)
        print(f"PubMedQA label scoring, {len(prompts)} questions: median {med:.0f} ms, "
              f"mean {mean:.0f} ms per question")  # fmt: skip


def answers(pipeline: Pipeline, backend: Engine, tokens: int, fresh: bool) -> None:
    """One answer per question: first token, total, decode rate, check cost."""
    rows = []
    for q in QUESTIONS:
        if fresh and isinstance(backend, LlamaModel):
            backend.forget()
        a = pipeline.ask(q)
        t = a.timings
        rows.append((t.first_token_ms or 0, t.total_ms, t.tokens, t.tokens_per_s or 0, t.check_ms))
        print(f"first token {t.first_token_ms or 0:6.0f} ms  total {t.total_ms:6.0f} ms  "
              f"{t.tokens:3d} tokens  {t.tokens_per_s or 0:5.1f} tok/s  check {t.check_ms:4.0f} ms"
              f"  retrieve {t.retrieve_ms:4.0f} ms  {q[:50]}")  # fmt: skip
    full = [f"{r[1] / 1000:.2f} s" for r in rows if r[2] >= tokens]
    print(f"answers of {tokens} tokens, end to end: {', '.join(full) or 'none'}")
    med = [statistics.median(c) for c in zip(*rows, strict=True)]
    print(f"median: first token {med[0]:.0f} ms, total {med[1]:.0f} ms for {med[2]:.0f} tokens "
          f"({med[3]:.1f} tok/s decode), support check {med[4]:.0f} ms")  # fmt: skip


def follow_ups(pipeline: Pipeline, backend: Engine) -> None:
    """First token of a fresh prompt, then of follow-ups over the same sources (cached prefix)."""
    for q in QUESTIONS[:3]:
        hits = pipeline.retriever.search(q, 5)
        sources = [to_source(i, h) for i, h in enumerate(hits, start=1)]
        times = []
        for i, question in enumerate((q, q, *FOLLOW_UPS)):
            if i < 2 and isinstance(backend, LlamaModel):
                backend.forget()
            if i == 1 and isinstance(
                backend, LlamaModel
            ):  # only the instructions cached: another question, without sources
                next(iter(backend.stream(answer_messages("Which sources are there?", []), 1)), "")
            messages = answer_messages(question, sources)
            start = time.perf_counter()
            next(iter(backend.stream(messages, 1)), "")
            times.append((time.perf_counter() - start) * 1000)
        size = len(backend.prompt_ids(answer_messages(q, sources))["input_ids"][0]
                   if not isinstance(backend, LlamaModel)
                   else backend.prompt_ids(answer_messages(q, sources)))  # fmt: skip
        print(f"first token: fresh {size}-token prompt {times[0]:.0f} ms cold, {times[1]:.0f} ms "
              f"with the instructions cached; follow-ups "
              f"{', '.join(f'{t:.0f}' for t in times[2:])} ms  {q[:50]}")  # fmt: skip


def label_prompts(pipeline: Pipeline, gold: Path, n: int) -> Prompts:
    """The first ``n`` PubMedQA dev questions as ``rag eval`` asks them (top-3 passages)."""
    data = json.loads(gold.read_text())
    out = []
    for q in list(data.values())[:n]:
        hits = pipeline.retriever.search(q["QUESTION"], 10)
        sources = [to_source(i, h) for i, h in enumerate(hits[:3], start=1)]
        out.append((q["final_decision"], label_messages(q["QUESTION"], sources, LABELS)))
    return out


def score(backend: Engine, prompts: Prompts) -> tuple[list[float], list[str]]:
    """Milliseconds per question and the chosen labels."""
    ms, chosen = [], []
    for _, messages in prompts:
        start = time.perf_counter()
        scores = backend.option_scores(messages, LABELS)
        ms.append((time.perf_counter() - start) * 1000)
        chosen.append(LABELS[scores.index(max(scores))])
    return ms, chosen


def compare_labels(pipeline: Pipeline, gold: Path, n: int, base: GenerationSettings) -> None:
    """Speed and agreement with llama.cpp on the original Q4_1 file, per engine and file type."""
    prompts = label_prompts(pipeline, gold, n)
    truth = [g for g, _ in prompts]
    own = {"engine": "llama.cpp", "score_engine": "llama.cpp"}  # llama.cpp's own scoring
    variants = [("llama.cpp Q4_1 (original)", {**own, "requantize": "off"}),
                ("llama.cpp Q4_0 copy", {**own, "requantize": "Q4_0"}),
                ("llama.cpp Q8_0 copy", {**own, "requantize": "Q8_0"}),
                ("transformers (dequantized)", {"engine": "transformers"})]  # fmt: skip
    reference: list[str] = []
    for name, change in variants:
        backend = load_backend(base.model_copy(update=change))
        score(backend, prompts[:2])  # warm-up
        ms, chosen = score(backend, prompts)
        reference = reference or chosen
        agree = sum(a == b for a, b in zip(chosen, reference, strict=True))
        right = sum(a == b for a, b in zip(chosen, truth, strict=True))
        print(f"{name:28s} median {statistics.median(ms):5.0f} ms/question  agrees with the "
              f"original on {agree}/{n}  accuracy {right / n:.3f}")  # fmt: skip


def load() -> str:
    """The machine's load averages, as uptime prints them."""
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def compare_types(args: argparse.Namespace) -> None:
    """First token, decode rate and quality of the model's file and its copies in other types."""
    generation = {"max_new_tokens": args.tokens, "parallel": 1, "threads": args.threads,
                  "requantize": "off"} | ({"model": args.model} if args.model else {})  # fmt: skip
    # The judge stays off, as answer.judge = auto leaves it for the packaged models.
    settings = Settings(generation=generation, answer={"judge": "off"})  # type: ignore[arg-type]
    original = gguf_path(settings.generation)
    assert original is not None, "--types needs a local GGUF model"
    pipeline = Pipeline.open(args.index, settings)
    question = QUESTIONS[0]
    retrieval = pipeline.retriever.retrieve(question, settings.answer.sources)
    sources = [to_source(i, h) for i, h in enumerate(retrieval.hits, start=1)]
    messages = answer_messages(question, pipeline.excerpts(pipeline.query_vector(retrieval),
                                                           sources))  # fmt: skip
    labels = gold_label_prompts(args.gold, args.labels)
    kinds = args.types.split(",") if args.copies_only else ["as is", *args.types.split(",")]
    for kind in kinds:
        start = time.perf_counter()
        path = original if kind == "as is" else cached_copy(original, kind)
        made = time.perf_counter() - start
        g = settings.generation.model_copy(update={"model": str(path), "gguf_file": ""})
        engine = load_backend(g)
        assert isinstance(engine, LlamaModel)
        size = len(engine.prompt_ids(messages))
        cold, warm = [], []
        for _ in range(args.repeat):
            engine.forget()
            cold.append(first_token_ms(engine, messages))
            engine.forget()  # only the instructions cached: another question without sources
            next(iter(engine.stream(answer_messages("Which sources are there?", []), 1)), "")
            warm.append(first_token_ms(engine, messages))
        rate = decode_rate(engine, messages, args.tokens)
        print(f"{path.name} ({kind}; copy made in {made:.0f} s): {size}-token prompt, first token "
              f"cold {min(cold):.0f} ms, instructions cached {min(warm):.0f} ms; decode "
              f"{rate:.1f} tok/s  [{load()}]")  # fmt: skip
        answer = Pipeline(pipeline.retriever, settings.model_copy(update={"generation": g}))
        a = answer.ask(question)
        by_n = {c.n: c for c in a.citations}
        shown = [(s.text, [by_n[n].source.pmid for n in s.citations if by_n[n].supported])
                 for s in a.sentences]  # fmt: skip
        print(f"  seed question: mode {a.mode}, abstained {a.abstained}, {len(a.sentences)} "
              f"sentences kept, {len(a.removed)} removed; total {a.timings.total_ms:.0f} ms, "
              f"first token {a.timings.first_token_ms or 0:.0f} ms  [{load()}]")  # fmt: skip
        for text, pmids in shown:
            print(f"    {pmids} {text}")
        if labels:
            ms, chosen = score(engine, labels)
            right = sum(c == g for c, (g, _) in zip(chosen, labels, strict=True))
            print(
                f"  PubMedQA labels on {len(labels)} dev questions (gold abstracts): accuracy "
                f"{right / len(labels):.3f}, median {statistics.median(ms):.0f} ms  [{load()}]"
            )
        engine.forget()


def first_token_ms(engine: LlamaModel, messages: list[dict[str, str]]) -> float:
    """Milliseconds to the first piece of the reply to ``messages``."""
    start = time.perf_counter()
    next(iter(engine.stream(messages, 1)), "")
    return (time.perf_counter() - start) * 1000


def decode_rate(engine: LlamaModel, messages: list[dict[str, str]], tokens: int) -> float:
    """Tokens per second after the first, the prompt cached."""
    prompt = engine.prompt_ids(messages)
    with engine.lock:
        engine.feed(prompt)
        start = time.perf_counter()
        n = sum(1 for _ in engine._reply_tokens(prompt, tokens))
        return n / (time.perf_counter() - start)


def gold_label_prompts(gold: Path, n: int) -> Prompts:
    """The first ``n`` PubMedQA dev questions over their own gold abstract (no retrieval)."""
    data = json.loads(gold.read_text())
    out = []
    for pmid, q in list(data.items())[:n]:
        source = Source(n=1, doc_id=pmid, title="", section="", passage=" ".join(q["CONTEXTS"]),
                        score=1.0, pmid=pmid)  # fmt: skip
        out.append((q["final_decision"], label_messages(q["QUESTION"], [source], LABELS)))
    return out


if __name__ == "__main__":
    main()
