"""LLM engines that stream answer text: a local transformers model or an OpenAI-compatible server.

Each takes chat messages (``[{"role", "content"}]``), yields text pieces as they are made
(``stream``) and scores fixed options (``option_scores``). An engine that cannot produce text
raises :class:`~base.errors.GenerationError`; the answer pipeline then falls back to an
extractive answer. One file per engine; :func:`load_backend` picks one from the settings.
"""

from __future__ import annotations

import functools
import threading

from base.settings import GenerationSettings
from rag.answer.engines.openai import Endpoint
from rag.answer.engines.transformers import LocalModel

Engine = LocalModel | Endpoint

_LOADING = threading.Lock()


def load_backend(settings: GenerationSettings) -> Engine:
    """The backend ``settings`` name (the endpoint when set), loaded once per process.

    The lock keeps a question that arrives during the UI's background preload from loading the
    model a second time.
    """
    with _LOADING:
        return _load(settings)


@functools.cache
def _load(settings: GenerationSettings) -> Engine:
    if settings.endpoint:
        return Endpoint(settings)
    return LocalModel(settings)
