"""What every LLM engine offers (:class:`Engine`), the chat message type, and the model a
setting names, resolved (:class:`ModelRef`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from base.settings import GenerationSettings
from rag.answer.engines.packaged import PackagedModel, model_file, packaged

Messages = Sequence[dict[str, str]]


class EngineUnavailable(Exception):
    """This engine cannot run this model here (not installed, or the file does not load): the
    registry falls back to its fallback engine. ``expected``: the model is of a kind the engine
    never runs (a model directory for llama.cpp), so the fallback is no news worth a warning."""

    def __init__(self, message: str, expected: bool = False) -> None:
        super().__init__(message)
        self.expected = expected


class Engine(Protocol):
    """An LLM that writes replies to chat messages and scores fixed replies.

    An engine that cannot produce text raises :class:`~base.errors.GenerationError`; the answer
    pipeline then falls back to an extractive answer.
    """

    name: str

    def stream(self, messages: Messages, max_tokens: int) -> Iterator[str]:
        """The reply's text, piece by piece as it is made, at most ``max_tokens`` tokens."""
        ...

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """Log-likelihood of each option as the start of the reply (constrained choice)."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """How many tokens ``text`` is (None when the engine cannot tell: count the pieces)."""
        ...

    def forget(self) -> None:
        """Drop every cached conversation: the next prompt is read from its first token."""
        ...


@dataclass(frozen=True)
class ModelRef:
    """The local model a :class:`GenerationSettings` names.

    ``gguf`` is the GGUF file to run (None for a Hugging Face model directory or hub id, which
    ``location`` names); ``location`` and ``gguf_file`` are what transformers loads.
    """

    name: str
    location: str
    gguf_file: str
    gguf: Path | None
    packaged: PackagedModel | None = None


def resolve_model(settings: GenerationSettings) -> ModelRef:
    """The model ``settings.model`` names: a packaged model's name (its file made at first use),
    a directory with ``gguf_file``, a ``.gguf`` path, or a model directory / hub id."""
    known = packaged(settings.model)
    if known is not None:
        path = model_file(known)
        return ModelRef(known.title, str(path.parent), path.name, path, known)
    if settings.gguf_file:
        path = Path(settings.model) / settings.gguf_file
        return ModelRef(settings.model, settings.model, settings.gguf_file, path)
    if settings.model.endswith(".gguf"):
        path = Path(settings.model)
        return ModelRef(settings.model, str(path.parent), path.name, path)
    return ModelRef(settings.model, settings.model, "", None)


def model_title(settings: GenerationSettings) -> str:
    """The LLM's name as configured, without loading or assembling it."""
    known = packaged(settings.model)
    if settings.endpoint:
        return settings.endpoint_model or settings.endpoint
    return known.title if known is not None else settings.model
