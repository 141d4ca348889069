"""A causal LM run in-process with transformers (Hugging Face model directories and GGUF files)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

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

from base.errors import ConfigError, GenerationError
from base.settings import GenerationSettings
from rag.answer.engines.base import Messages, ModelRef
from rag.index.embed.embedder import cpu_has_bf16


def load(settings: GenerationSettings, model: ModelRef | None) -> LocalModel:
    """The engine registry's entry: ``model`` (a directory, hub id or GGUF file) in transformers."""
    if model is None:
        raise ConfigError("the transformers engine needs generation.model")
    return LocalModel(settings, model)


class LocalModel:
    """A causal LM run in-process with transformers; build it with :func:`load_backend`."""

    def __init__(self, settings: GenerationSettings, model: ModelRef) -> None:
        location, gguf = model.location, model.gguf_file
        self.name = model.name
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
        torch ran markedly slower there than in the calling thread (figures in
        docs/benchmarks.md).
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

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def forget(self) -> None:
        """Nothing to drop: every prompt is read afresh."""

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
