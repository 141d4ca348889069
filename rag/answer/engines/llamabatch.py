"""Several replies decoded at once in one llama.cpp context (continuous batching).

The web app answers several chats at once. One thread owns a llama.cpp context with a sequence
per slot; each step it evaluates, in one batch, the next token of every reply under way and a
chunk of every prompt waiting to be read. A new question therefore waits for one step, not for
the other answers to finish, and the 2 cores do one matrix pass for all of them. Memory is
fixed: the slots' KV cache is allocated once (``context_tokens`` per slot).

A free slot is given to a prompt by the longest prefix it shares with what the slot last held,
so a conversation's follow-up over the same sources reuses its KV cells.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from base.errors import GenerationError

if TYPE_CHECKING:
    from rag.answer.engines.llamacpp import LlamaModel

BATCH = 512  # tokens per llama_decode call: the prompt chunk and every reply's next token
_DONE = -1


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    max_tokens: int
    out: queue.SimpleQueue[int | BaseException] = field(default_factory=queue.SimpleQueue)
    cancelled: bool = False


@dataclass(eq=False)
class _Slot:
    seq: int
    cached: list[int] = field(default_factory=list)  # the tokens in this sequence's KV cells
    todo: list[int] = field(default_factory=list)  # tokens to evaluate next
    request: _Request | None = None
    seen: np.ndarray | None = None  # tokens of the prompt and reply (repetition penalty)
    made: int = 0


class Batcher:
    """A context of ``slots`` sequences, stepped by one thread; :meth:`stream` is thread-safe."""

    def __init__(self, model: LlamaModel, slots: int, slot_tokens: int) -> None:
        import llama_cpp as lc

        self.lc = lc
        self.model = model
        self.slot_tokens = slot_tokens
        params = lc.llama_context_default_params()
        params.n_ctx = slots * slot_tokens
        params.n_batch = params.n_ubatch = BATCH
        params.n_seq_max = slots
        params.kv_unified = False  # each sequence its own slot_tokens: one cannot starve another
        params.n_threads = model.llm.n_threads  # as the model's own context
        params.n_threads_batch = model.llm.n_threads_batch
        params.no_perf = True
        params.flash_attn_type = (  # as the model's own context: the same replies
            lc.LLAMA_FLASH_ATTN_TYPE_ENABLED
            if model.settings.flash_attention
            else lc.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        self.ctx = lc.llama_init_from_model(model.llm._model.model, params)
        if not self.ctx:
            raise GenerationError(f"{model.name}: llama.cpp could not make a {slots}-slot context")
        self.mem = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(BATCH, 0, 1)
        self.slots = [_Slot(i) for i in range(slots)]
        self.waiting: deque[_Request] = deque()
        self.last_reused = 0
        self.forgetting = False  # set by forget(); the stepping thread empties the free slots
        self.wake = threading.Condition()
        threading.Thread(target=self._run, name="llama-batch", daemon=True).start()

    def stream(self, prompt: list[int], max_tokens: int) -> Iterator[int]:
        """The reply's token ids as the steps make them."""
        room = self.slot_tokens - len(prompt)
        request = _Request(prompt, min(max_tokens, room))
        with self.wake:
            self.waiting.append(request)
            self.wake.notify()
        try:
            while True:
                item = request.out.get()
                if isinstance(item, BaseException):
                    raise GenerationError(f"{self.model.name} failed while generating: {item}")
                if item == _DONE:
                    return
                yield item
        finally:
            request.cancelled = True  # a reader that stops early frees its slot

    def forget(self) -> None:
        """Empty the KV cells of every free slot before the next prompt is admitted (the
        stepping thread does it: it alone touches the context)."""
        with self.wake:
            self.forgetting = True
            self.wake.notify()

    # --- the stepping thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self.wake:
                while (
                    not self.waiting
                    and not self.forgetting
                    and not any(s.request for s in self.slots)
                ):
                    self.wake.wait()
                if self.forgetting:
                    for slot in self.slots:
                        if slot.request is None:
                            self._release(slot, forget=True)
                    self.forgetting = False
                self._admit()
            try:
                self._step()
            except Exception as exc:  # any failure is handed to every waiting reader
                for slot in self.slots:
                    if slot.request:
                        slot.request.out.put(exc)
                    self._release(slot, forget=True)

    def _admit(self) -> None:
        """Give waiting prompts the free slots, each the one sharing its longest prefix."""
        free = [s for s in self.slots if s.request is None]
        while self.waiting and free:
            request = self.waiting.popleft()
            slot = max(free, key=lambda s: _common(s.cached, request.prompt))
            free.remove(slot)
            keep = min(_common(slot.cached, request.prompt), len(request.prompt) - 1)
            self.last_reused = keep  # prompt tokens whose KV cells were kept
            self.lc.llama_memory_seq_rm(self.mem, slot.seq, keep, -1)
            slot.cached = request.prompt[:keep]
            slot.todo = request.prompt[keep:]
            slot.request, slot.made = request, 0
            slot.seen = np.zeros(self.model.n_vocab, dtype=bool)
            slot.seen[np.asarray(request.prompt, dtype=np.int64)] = True

    def _step(self) -> None:
        """One llama_decode over every reply's next token and as much prompt as fits."""
        for slot in self.slots:
            if slot.request and slot.request.cancelled:
                self._release(slot)
        active = [s for s in self.slots if s.request and s.todo]
        # Replies first (one token each), then prompts, shortest first, in the room left.
        active.sort(key=lambda s: len(s.todo))
        b, n, outputs = self.batch, 0, []
        for slot in active:
            take = slot.todo[: BATCH - n]
            if not take:
                break
            for j, token in enumerate(take):
                b.token[n], b.pos[n], b.n_seq_id[n] = token, len(slot.cached) + j, 1
                b.seq_id[n][0], b.logits[n] = slot.seq, False
                n += 1
            slot.cached += take
            slot.todo = slot.todo[len(take) :]
            if not slot.todo:
                b.logits[n - 1] = True
                outputs.append((slot, n - 1))
        if n == 0:
            return
        b.n_tokens = n
        status = self.lc.llama_decode(self.ctx, b)
        if status != 0:
            raise RuntimeError(f"llama_decode returned {status}")
        for slot, i in outputs:
            logits = np.ctypeslib.as_array(
                self.lc.llama_get_logits_ith(self.ctx, i), shape=(self.model.n_vocab,)
            )
            self._next(slot, logits)

    def _next(self, slot: _Slot, logits: np.ndarray[Any, Any]) -> None:
        request = slot.request
        assert request is not None and slot.seen is not None
        token = self.model.pick(logits, slot.seen)
        if self.model.is_eog(self.model.vocab, token):
            self._release(slot)
            return
        request.out.put(token)
        slot.made += 1
        slot.seen[token] = True
        if slot.made >= request.max_tokens:  # no pass for a token that would not be used
            self._release(slot)
        else:
            slot.todo = [token]

    def _release(self, slot: _Slot, forget: bool = False) -> None:
        if slot.request is not None:
            slot.request.out.put(_DONE)
        slot.request, slot.todo, slot.seen = None, [], None
        if forget:
            self.lc.llama_memory_seq_rm(self.mem, slot.seq, 0, -1)
            slot.cached = []


def _common(a: list[int], b: list[int]) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if len(diff) else n
