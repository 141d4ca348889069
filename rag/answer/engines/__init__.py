"""LLM engines, found by name through a registry: llama.cpp or transformers in-process, or an
OpenAI-compatible server.

Every engine is one module with a ``load(settings, model) -> Engine`` function (the protocol is
:class:`~rag.answer.engines.base.Engine`) and one line in :data:`ENGINES`; ``generation.engine``
names it (an endpoint, when set, is always served by ``openai``). Modules are imported only
when their engine is loaded, so an install without torch or llama.cpp can still use the others.
An engine that cannot run a model here raises
:class:`~rag.answer.engines.base.EngineUnavailable` and :data:`FALLBACK` is tried, with a
warning.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from base.errors import ConfigError
from base.settings import GenerationSettings
from rag.answer.engines.base import Engine, EngineUnavailable, ModelRef, resolve_model

__all__ = ["ENGINES", "Engine", "gguf_path", "load_backend", "register"]

# Engine name -> the module whose load() builds it.
ENGINES: dict[str, str] = {
    "llama.cpp": "rag.answer.engines.llamacpp",
    "transformers": "rag.answer.engines.transformers",
    "openai": "rag.answer.engines.openai",
}
ENDPOINT = "openai"  # the engine of generation.endpoint
FALLBACK = "transformers"  # tried when an engine cannot run a local model

Loader = Callable[[GenerationSettings, ModelRef | None], Engine]

log = logging.getLogger(__name__)

_LOADING = threading.Lock()


def register(name: str, module: str) -> None:
    """Make ``generation.engine = name`` load ``module``'s ``load(settings, model)``."""
    ENGINES[name] = module
    _load.cache_clear()


def load_backend(settings: GenerationSettings) -> Engine:
    """The engine ``settings`` name with its model (the endpoint when set), loaded once per
    process.

    The lock keeps a question that arrives during the UI's background preload from loading the
    model a second time.
    """
    with _LOADING:
        return _load(settings)


def gguf_path(settings: GenerationSettings) -> Path | None:
    """The local GGUF file ``settings`` name (None for a model directory or an endpoint)."""
    return None if settings.endpoint else resolve_model(settings).gguf


def loader(name: str) -> Loader:
    """The ``load`` function of the engine ``name`` (:class:`ConfigError` for an unknown one)."""
    if name not in ENGINES:
        raise ConfigError(
            f"generation.engine {name!r} is not a registered engine "
            f"(one of {', '.join(sorted(ENGINES))})"
        )
    return cast(Loader, importlib.import_module(ENGINES[name]).load)


@functools.cache
def _load(settings: GenerationSettings) -> Engine:
    if settings.endpoint:
        return loader(ENDPOINT)(settings, None)
    model = resolve_model(settings)
    try:
        return loader(settings.engine)(settings, model)
    except EngineUnavailable as exc:
        if settings.engine == FALLBACK:
            raise ConfigError(f"generation.model {model.name!r} cannot be loaded: {exc}") from exc
        why = f"{settings.engine} cannot run {model.gguf or model.location}: {exc}"
        log.log(logging.INFO if exc.expected else logging.WARNING, "%s; using %s instead",
                why, FALLBACK)  # fmt: skip
    try:
        return loader(FALLBACK)(settings, model)
    except (ConfigError, EngineUnavailable) as exc:
        raise ConfigError(f"{exc} ({why})") from exc
