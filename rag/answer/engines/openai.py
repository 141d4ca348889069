"""An OpenAI-compatible chat completions server (vLLM, llama.cpp server, Ollama), streamed with
server-sent events."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from base.errors import ConfigError, GenerationError
from base.settings import GenerationSettings
from rag.answer.engines.default import Messages


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
