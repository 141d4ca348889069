"""LLM engines that stream answer text: llama.cpp or transformers in-process, or an
OpenAI-compatible server.

Each takes chat messages (``[{"role", "content"}]``), yields text pieces as they are made
(``stream``) and scores fixed options (``option_scores``). An engine that cannot produce text
raises :class:`~base.errors.GenerationError`; the answer pipeline then falls back to an
extractive answer. One file per engine; :func:`load_backend` picks one from the settings.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from base.errors import ConfigError
from base.settings import GenerationSettings
from rag.answer.engines.default import DEFAULT_LLM_FILE, DEFAULT_LLM_NAME, default_llm_dir
from rag.answer.engines.llamacpp import EngineUnavailable, LlamaModel
from rag.answer.engines.openai import Endpoint
from rag.answer.engines.transformers import LocalModel

Engine = LlamaModel | LocalModel | Endpoint

log = logging.getLogger(__name__)

_LOADING = threading.Lock()


def load_backend(settings: GenerationSettings) -> Engine:
    """The backend ``settings`` name (the endpoint when set), loaded once per process.

    The lock keeps a question that arrives during the UI's background preload from loading the
    model a second time.
    """
    with _LOADING:
        return _load(settings)


def gguf_path(settings: GenerationSettings) -> Path | None:
    """The local GGUF file ``settings`` name (the packaged default when no model is set)."""
    if not settings.model:
        return default_llm_dir() / DEFAULT_LLM_FILE
    if settings.gguf_file:
        return Path(settings.model) / settings.gguf_file
    return None  # a Hugging Face model directory


@functools.cache
def _load(settings: GenerationSettings) -> Engine:
    if settings.endpoint:
        return Endpoint(settings)
    gguf = gguf_path(settings)
    why = ""
    if gguf is not None and settings.engine == "llama.cpp":
        try:
            return LlamaModel(settings, gguf, settings.model or DEFAULT_LLM_NAME)
        except EngineUnavailable as exc:
            why = f"llama.cpp cannot run {gguf}: {exc}"
            log.warning("%s; using transformers instead", why)
    try:
        return LocalModel(settings)
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({why})" if why else str(exc)) from exc
