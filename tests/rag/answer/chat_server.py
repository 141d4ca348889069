"""A small OpenAI-compatible chat server on loopback for the endpoint tests.

It speaks the streaming wire format vLLM, llama.cpp server and Ollama use (server-sent events
of ``chat.completion.chunk`` objects, then ``data: [DONE]``). ``reply`` decides what it says:
a function of the request's messages, or ``"garbage"`` for an HTML page with status 200.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[list[dict[str, str]]], str] | str


@contextmanager
def chat_server(reply: Reply) -> Iterator[tuple[str, list[dict[str, Any]]]]:
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
            words = reply(body["messages"]).split(" ")
            pieces = words[:1] + [" " + w for w in words[1:]]
            payload = "".join(
                "data: " + json.dumps({"object": "chat.completion.chunk",
                                       "choices": [{"index": 0, "delta": {"content": p}}]}) + "\n\n"
                for p in pieces
            ) + "data: [DONE]\n\n"  # fmt: skip
            self._send(200, "text/event-stream", payload.encode())

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
