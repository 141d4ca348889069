"""A small OpenAI-compatible chat server on loopback for the endpoint tests.

It speaks the streaming wire format vLLM, llama.cpp server and Ollama use (server-sent events
of ``chat.completion.chunk`` objects, then ``data: [DONE]``) and, for a request without
``"stream": true``, one ``chat.completion`` object, with the first token's ``top_logprobs`` when
``logprobs`` gives them. ``reply`` decides what it says: a function of the request's messages,
or ``"garbage"`` for an HTML page with status 200.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, str]]], str] | str
TopLogprobs = Callable[[list[dict[str, str]]], list[tuple[str, float]]]


@contextmanager
def chat_server(
    reply: Reply, logprobs: TopLogprobs | None = None
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Serve on a free port; yields the base URL (``…/v1``) and the list of requests received."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            if reply == "garbage":
                self._send(200, "text/html", b"<html><body>502 Bad Gateway</body></html>")
                return
            assert callable(reply)
            if not body.get("stream"):
                self._send(200, "application/json", self._completion(body).encode())
                return
            words = reply(body["messages"]).split(" ")
            pieces = words[:1] + [" " + w for w in words[1:]]
            payload = "".join(
                "data: " + json.dumps({"object": "chat.completion.chunk",
                                       "choices": [{"index": 0, "delta": {"content": p}}]}) + "\n\n"
                for p in pieces
            ) + "data: [DONE]\n\n"  # fmt: skip
            self._send(200, "text/event-stream", payload.encode())

        def _completion(self, body: dict[str, Any]) -> str:
            assert callable(reply)
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": reply(body["messages"])},
            }
            if logprobs is not None and body.get("logprobs"):
                top = logprobs(body["messages"])[: body.get("top_logprobs", 0)]
                alternatives = [{"token": t, "logprob": lp} for t, lp in top]
                token = {"token": top[0][0], "logprob": top[0][1], "top_logprobs": alternatives}
                choice["logprobs"] = {"content": [token]}
            return json.dumps({"object": "chat.completion", "choices": [choice]})

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()
