"""Password guessing made slow: failed logins are counted per client address and per user name.

After ``login.free_failures`` failures, each further attempt from that client (or for that user
name) must wait ``login.delay_s``, doubled with each failure, up to ``login.lockout_s``; while it
waits, an attempt is refused without checking the password (HTTP 429 for the client; for the
user name, a refusal even with the right password). Failures are forgotten ``lockout_s`` after
the last one, and a successful login clears its client's and user name's count.

Gradio's ``/login`` route calls the auth callable with the user name and password only, so the
client address is watched by an ASGI middleware in front of it (:class:`LoginThrottle`) and the
user name by the callable (:func:`throttled_auth`).
"""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from base.settings import LoginSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
MAX_KEYS = 100_000  # failure records kept; the oldest are dropped beyond (a flood of addresses)


class Throttle:
    """Failure counts by key ("client ADDRESS", "user NAME") and the wait each one owes."""

    def __init__(
        self, settings: LoginSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, last failure)
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            count, last = self._failures.get(key, (0, -math.inf))
        now, config = self.clock(), self.settings
        if now - last >= config.lockout_s or count <= config.free_failures:
            return 0.0
        delay = min(config.delay_s * 2.0 ** (count - config.free_failures - 1), config.lockout_s)
        return float(max(0.0, last + delay - now))

    def failed(self, key: str) -> None:
        """Count a failed login for ``key``."""
        now = self.clock()
        with self._lock:
            count, last = self._failures.pop(key, (0, -math.inf))
            if now - last >= self.settings.lockout_s:
                count = 0  # the old failures have been forgiven
            self._failures[key] = (count + 1, now)  # re-inserted: the dict stays oldest first
            while len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures."""
        with self._lock:
            self._failures.pop(key, None)


def throttled_auth(
    user: str, password: str, throttle: Throttle
) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's auth callable for one login: constant-time comparison, per-user-name throttling
    (async, so that gradio awaits it rather than blocking its event loop)."""

    async def check(name: str, given: str) -> bool:
        key = f"user {name}"
        if throttle.wait(key) > 0:
            return False
        ok = hmac.compare_digest(name.encode(), user.encode()) & hmac.compare_digest(
            given.encode(), password.encode()
        )
        (throttle.succeeded if ok else throttle.failed)(key)
        return ok

    return check


class LoginThrottle:
    """ASGI middleware: refuses ``POST .../login`` from a client that owes a wait (429, with
    Retry-After), and counts the client's failed logins (gradio answers them 400)."""

    def __init__(self, app: ASGIApp, throttle: Throttle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = f"client {client[0] if client else '?'}"
        wait = self.throttle.wait(key)
        if wait > 0:
            await _too_many(send, wait)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 400:
            self.throttle.failed(key)
        elif status and status[0] < 300:
            self.throttle.succeeded(key)


async def _too_many(send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    body = json.dumps(
        {"detail": f"Too many failed logins from this address; try again in {seconds} s."}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
