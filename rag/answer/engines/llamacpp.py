"""A GGUF model run in-process by llama.cpp (``llama-cpp-python``), the packaged SmolLM2 included.

Same surface as the transformers engine (:class:`~rag.answer.engines.transformers.LocalModel`):
``stream`` yields the reply piece by piece, ``option_scores`` scores fixed replies from the
logits, ``count_tokens`` counts a text's tokens. The prompt is the GGUF's own chat template
rendered as transformers renders it (a sandboxed Jinja2 with ``trim_blocks``/``lstrip_blocks``),
so both engines see the same token ids. Decoding is done here, from llama.cpp's logits, with
transformers' semantics: greedy or temperature sampling over the whole vocabulary, and the
repetition penalty over every token of the prompt and the reply.

The KV cache of the last prompt is kept: a prompt that starts with the same tokens (a follow-up
over the same sources, the next judgement with the same passage, the label options) only
evaluates what is new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from base.errors import GenerationError
from base.settings import GenerationSettings
from rag.answer.engines.base import EngineUnavailable, Messages, ModelRef
from rag.answer.engines.llamabatch import Batcher
from rag.answer.engines.quantize import fast_copy

if TYPE_CHECKING:
    from rag.answer.engines.transformers import LocalModel

log = logging.getLogger(__name__)

# Tokens of prompt and reply per batched slot (23 KB of KV cache each for SmolLM2): the default
# answer prompt was 606-685 tokens (benchmarks/answer_latency.py --follow-up) and its reply is
# at most max_new_tokens (200); a longer one runs in the model's own context, one at a time.
SLOT_TOKENS = 1024


def load(settings: GenerationSettings, model: ModelRef | None) -> LlamaModel:
    """The engine registry's entry: ``model``'s GGUF file under llama.cpp."""
    if model is None or model.gguf is None:
        where = model.location if model else "no model"
        raise EngineUnavailable(f"{where} is not a GGUF file", expected=True)
    return LlamaModel(settings, model.gguf, model.name, model)


class LlamaModel:
    """A GGUF model run by llama.cpp; build it with :func:`~rag.answer.engines.load_backend`."""

    def __init__(
        self, settings: GenerationSettings, path: Path, name: str, model: ModelRef | None = None
    ) -> None:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # an install without the llama-cpp-python build
            raise EngineUnavailable(f"llama_cpp is not importable ({exc})") from exc
        problem = _not_gguf(path)
        if problem:
            raise EngineUnavailable(problem)
        self.name = name
        self.settings = settings
        self.source = path
        self.model = model or ModelRef(name, str(path.parent), path.name, path)
        self.path = fast_copy(path, settings.requantize)
        try:
            self.llm: Any = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=settings.context_tokens,
                n_batch=512,
                n_threads=settings.threads or None,
                n_threads_batch=settings.threads or None,
                flash_attn=settings.flash_attention,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise EngineUnavailable(f"llama.cpp could not load it ({exc})") from exc
        self.n_vocab = int(self.llm.n_vocab())
        self.vocab = self.llm._model.vocab
        self.is_eog = llama_cpp.llama_vocab_is_eog  # end of turn or of text
        template = self.llm.metadata.get("tokenizer.chat_template", "")
        self.formatter = (
            Jinja2ChatFormatter(
                template,
                eos_token=self._piece(self.llm.token_eos()),
                bos_token=self._piece(self.llm.token_bos()),
            )
            if template
            else None
        )
        self.rng = np.random.default_rng()
        self.last_evaluated = 0  # tokens the last evaluation ran (the rest came from the cache)
        self.lock = threading.Lock()  # one context: one sequence at a time
        self._scorer: LocalModel | None = None
        self._batcher: Batcher | None = None
        self._scorer_lock = threading.Lock()

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return bytes(self.llm.detokenize([token], special=True)).decode("utf-8", "replace")

    def scorer(self) -> LocalModel:
        """The same file under transformers, for ``option_scores`` (loaded once)."""
        from rag.answer.engines.transformers import LocalModel

        with self._scorer_lock:
            if self._scorer is None:
                self._scorer = LocalModel(self.settings, self.model)
            return self._scorer

    @property
    def score_engine(self) -> str:
        """What scores fixed replies: ``generation.score_engine``, where auto is this context
        unless the packaged model says transformers scores it faster."""
        chosen = self.settings.score_engine
        if chosen != "auto":
            return chosen
        known = self.model.packaged
        return known.score_engine if known is not None else "llama.cpp"

    def prompt_ids(self, messages: Messages) -> list[int]:
        """Token ids of ``messages`` in the model's chat format (plain text if it has none).

        As transformers' ``apply_chat_template``: the rendered template is tokenized with its
        special tokens parsed and no BOS added (the template writes one where the model wants
        it); a model without a template gets the text with its BOS.
        """
        if self.formatter is not None:
            text = self.formatter(messages=cast(Any, list(messages))).prompt
            return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        text = "\n\n".join(m["content"] for m in messages) + "\n\nAnswer:"
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is, without special tokens."""
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def batcher(self) -> Batcher | None:
        """The shared context that decodes ``parallel`` replies at once (None for 1)."""
        if self.settings.parallel < 2:
            return None
        with self._scorer_lock:
            if self._batcher is None:
                self._batcher = Batcher(self, self.settings.parallel, SLOT_TOKENS)
            return self._batcher

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """Decode token by token and yield each new piece of text as it is made.

        Through the batcher when ``parallel`` > 1 and the prompt fits a slot; otherwise in this
        context, one reply at a time.
        """
        prompt = self.prompt_ids(messages)
        batcher = self.batcher()
        if batcher is not None and len(prompt) + max_tokens <= SLOT_TOKENS:
            yield from self._text(batcher.stream(prompt, max_tokens))
            return
        with self.lock:
            yield from self._text(self._reply_tokens(prompt, max_tokens))

    def _text(self, tokens: Iterator[int]) -> Iterator[str]:
        """The text of ``tokens`` piece by piece, each piece once its characters are whole."""
        new: list[int] = []
        shown = 0
        try:
            for token in tokens:
                new.append(token)
                text = self.decode(new)
                # A piece ending in U+FFFD waits for the rest of its multi-byte character.
                if len(text) > shown and not text.endswith("\ufffd"):
                    yield text[shown:]
                    shown = len(text)
        except (RuntimeError, ValueError) as exc:
            raise GenerationError(f"{self.name} failed while generating: {exc}") from exc
        text = self.decode(new)
        if len(text) > shown:
            yield text[shown:]

    def _reply_tokens(self, prompt: list[int], max_tokens: int) -> Iterator[int]:
        """The reply's token ids until an end-of-turn token, ``max_tokens`` or a full context."""
        room = self.settings.context_tokens - len(prompt)
        if room < 1:
            raise GenerationError(
                f"{self.name}: the prompt is {len(prompt):,} tokens, more than "
                f"generation.context_tokens ({self.settings.context_tokens:,})"
            )
        logits = self.feed(prompt)
        seen = np.zeros(self.n_vocab, dtype=bool)
        seen[np.asarray(prompt, dtype=np.int64)] = True
        for step in range(min(max_tokens, room)):
            token = self.pick(logits, seen)
            if self.is_eog(self.vocab, token):
                return
            yield token
            seen[token] = True
            if step + 1 < max_tokens:  # no pass for a token that would not be used
                logits = self.feed_more([token])

    def pick(self, logits: np.ndarray, seen: np.ndarray) -> int:
        """The next token: transformers' repetition penalty, then greedy or temperature sampling."""
        penalty = self.settings.repetition_penalty
        if penalty != 1.0:
            logits = logits.copy()
            hit = logits[seen]
            logits[seen] = np.where(hit > 0, hit / penalty, hit * penalty)
        if self.settings.temperature <= 0:
            return int(np.argmax(logits))
        scaled = logits.astype(np.float64) / self.settings.temperature
        p = np.exp(scaled - scaled.max())
        return int(self.rng.choice(self.n_vocab, p=p / p.sum()))

    def feed(self, tokens: Sequence[int]) -> np.ndarray:
        """The next-token logits after ``tokens``, evaluating only what the KV cache lacks.

        The cache holds the previous sequence; its longest common prefix with ``tokens`` is kept
        (at least the last token is evaluated again, for its logits).
        """
        llm = self.llm
        cached = llm.input_ids[: llm.n_tokens]
        n = min(len(cached), len(tokens) - 1)
        same = np.flatnonzero(cached[:n] != np.asarray(tokens[:n], dtype=cached.dtype))
        llm.n_tokens = int(same[0]) if len(same) else n  # eval() drops the KV cells after this
        return self.feed_more(tokens[llm.n_tokens :])

    def feed_more(self, tokens: Sequence[int]) -> np.ndarray:
        """The next-token logits after appending ``tokens`` to the cached sequence."""
        self.llm.eval(list(tokens))
        self.last_evaluated = len(tokens)
        out = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.n_vocab,))
        return np.array(out, dtype=np.float32)  # a copy: the next eval overwrites it

    def forget(self) -> None:
        """Empty the KV caches (this context's and the batched slots'): the next prompt is
        evaluated from its first token."""
        self.llm.n_tokens = 0
        if self._batcher is not None:
            self._batcher.forget()

    @property
    def cached_tokens(self) -> int:
        """How many tokens the KV cache holds (the last prompt and reply)."""
        return int(self.llm.n_tokens)

    def decode(self, tokens: list[int]) -> str:
        """The text of ``tokens``, special tokens left out."""
        return bytes(self.llm.detokenize(tokens)).decode("utf-8", "replace")

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """Log-likelihood of each option as the start of the reply (constrained choice).

        By ``score_engine``: transformers (loaded at the first call), or this context, where the
        prompt is evaluated once and each option's later tokens continue from it.
        """
        if self.score_engine == "transformers":
            return self.scorer().option_scores(messages, options)
        prompt = self.prompt_ids(messages)
        scores = []
        with self.lock:
            first = _log_softmax(self.feed(prompt))
            for option in options:
                ids = self.llm.tokenize(option.encode("utf-8"), add_bos=False, special=False)
                score = float(first[ids[0]])
                for i in range(1, len(ids)):
                    self.llm.n_tokens = len(prompt) + i - 1
                    score += float(_log_softmax(self.feed_more([ids[i - 1]]))[ids[i]])
                scores.append(score)
            self.llm.n_tokens = len(prompt)
        return scores


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    x -= x.max()
    out: np.ndarray = x - np.log(np.exp(x).sum())
    return out


def _not_gguf(path: Path) -> str:
    """Why ``path`` is not a GGUF file llama.cpp could open ("" when it might be)."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    return "" if magic == b"GGUF" else "not a GGUF file (it does not start with the GGUF magic)"
