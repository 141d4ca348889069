"""An OpenAI-compatible chat completions server (vLLM, llama.cpp server, Ollama), streamed with
server-sent events."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from base.errors import ConfigError, GenerationError
from base.settings import GenerationSettings
from rag.answer.engines.base import Messages, ModelRef


def load(settings: GenerationSettings, model: ModelRef | None) -> Endpoint:
    """The engine registry's entry: the server at ``generation.endpoint``."""
    return Endpoint(settings)


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

    def count_tokens(self, text: str) -> int | None:
        """Unknown here (the server's tokenizer): the caller counts the streamed events."""
        return None

    def forget(self) -> None:
        """Nothing to drop here (the server keeps its own cache)."""

    def option_scores(self, messages: Messages, options: Sequence[str]) -> list[float]:
        """Log-probability of each option as the first token of the reply.

        Asks for ``top_logprobs`` (vLLM, llama.cpp server and recent Ollama return them): an
        option's score is the log of the probability mass of the listed tokens that spell its
        start (" Yes", "yes", ...), and an option none of them spells gets the smallest listed
        log-probability minus 1 (its mass lies below that). A server that returns no logprobs
        gets 0 for the option its reply starts with and -1 for the others.
        """
        body: dict[str, Any] = {
            "messages": list(messages),
            "max_tokens": 5,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": TOP_LOGPROBS,
        }
        if self.settings.endpoint_model:
            body["model"] = self.settings.endpoint_model
        try:
            response = httpx.post(
                self.url, json=body, headers=self.headers, timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            raise GenerationError(f"endpoint {self.url} is not reachable: {exc}") from exc
        if response.status_code != 200:
            raise GenerationError(
                f"endpoint {self.url} answered HTTP {response.status_code}: {response.text[:200]!r}"
            )
        reply, top = _first_token_logprobs(response, self.url)
        if not top:
            reply = reply.strip().lower()
            return [0.0 if reply.startswith(o.lower()) else -1.0 for o in options]
        return option_logprobs(top, options)


TOP_LOGPROBS = 20  # OpenAI's maximum; vLLM and llama.cpp server accept it


def option_logprobs(top: Sequence[tuple[str, float]], options: Sequence[str]) -> list[float]:
    """Each option's log-probability from a first token's ``(token, logprob)`` alternatives."""
    floor = min(lp for _, lp in top) - 1.0
    scores = []
    for option in options:
        wanted = option.strip().lower()
        mass = sum(
            math.exp(lp)
            for token, lp in top
            if token.strip() and wanted.startswith(token.strip().lower())
        )
        scores.append(math.log(mass) if mass > 0 else floor)
    return scores


def _first_token_logprobs(
    response: httpx.Response, url: str
) -> tuple[str, list[tuple[str, float]]]:
    """(the reply's text, its first token's top alternatives) from a chat completion."""
    try:
        choice = response.json()["choices"][0]
        reply = (choice.get("message") or {}).get("content") or ""
        content = (choice.get("logprobs") or {}).get("content") or []
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise GenerationError(
            f"endpoint {url} sent a reply that is not a chat completion: {response.text[:200]!r}"
        ) from exc
    if not content:
        return str(reply), []
    try:
        top = [(str(t["token"]), float(t["logprob"])) for t in content[0]["top_logprobs"]]
    except (KeyError, IndexError, TypeError, ValueError):
        return str(reply), []
    return str(reply), [(t, lp) for t, lp in top if math.isfinite(lp)]


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
