"""Failed logins slow down: a real server on 127.0.0.1 answers 429 to a guessing client, and the
per-user-name count refuses even the right password while that name owes a wait."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from base.settings import LoginSettings, Settings
from rag.answer.pipeline import Pipeline
from tests.ui.pages import QUIET_GRADIO_QUEUE, free_port
from ui.app import build_app, launch
from ui.throttle import Throttle, throttled_auth

LOGIN = ("reader", "s3cret")
FAST = LoginSettings(free_failures=3, delay_s=2.0, lockout_s=60.0)


def _post_login(url: str, user: str, password: str) -> tuple[int, dict[str, str]]:
    data = urllib.parse.urlencode({"username": user, "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data), timeout=30) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[str]:
    """The app over a one-paper index, with a login and fast throttling settings."""
    from rag.index.ingest.pipeline import ingest

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "a.txt").write_text("Statins and LDL\n\nStatins lower LDL cholesterol.\n")
    settings = Settings(answer={"mode": "extractive"})  # type: ignore[arg-type]
    ingest([papers], tmp_path / "index", settings)
    app = build_app(Pipeline.open(tmp_path / "index", settings), settings, tmp_path / "index", 5)
    yield launch(app, port=free_port(), auth=LOGIN, block=False, login=FAST)
    app.close()


@pytest.mark.integration
@QUIET_GRADIO_QUEUE
def test_repeated_wrong_passwords_are_throttled(guarded: str) -> None:
    codes = [_post_login(guarded, "reader", f"guess{i}")[0] for i in range(4)]
    assert codes == [400, 400, 400, 400]  # the free failures, then one more counted
    status, headers = _post_login(guarded, "reader", "guess5")
    assert status == 429 and int(headers["retry-after"]) >= 1
    assert _post_login(guarded, *LOGIN)[0] == 429  # refused unchecked while the client waits
    time.sleep(2.2)
    assert _post_login(guarded, *LOGIN)[0] == 200
    assert [_post_login(guarded, "reader", "again")[0] for _ in range(4)] == [400] * 4  # reset


def test_a_user_name_that_keeps_failing_is_locked_out_whatever_the_client() -> None:
    now = [0.0]
    throttle = Throttle(FAST, clock=lambda: now[0])
    check = throttled_auth(*LOGIN, throttle)
    # A thread of its own: Playwright's sync API (the browser tests) leaves an event loop running
    # in the main thread, where asyncio.run refuses to start another.
    pool = ThreadPoolExecutor(1)
    attempt = lambda password: pool.submit(asyncio.run, check("reader", password)).result()  # noqa: E731
    assert [attempt("wrong") for _ in range(5)] == [False] * 5
    # 3 free failures, a 4th counted, the 5th refused unchecked: the wait is delay_s
    assert throttle.wait("user reader") == pytest.approx(2.0)
    assert attempt(LOGIN[1]) is False  # the right password, refused during the wait
    now[0] += 2.0
    assert attempt(LOGIN[1]) is True
    assert throttle.wait("user reader") == 0.0
    for _ in range(40):
        throttle.failed("user reader")
    assert throttle.wait("user reader") == pytest.approx(FAST.lockout_s)  # capped
    now[0] += FAST.lockout_s
    assert attempt(LOGIN[1]) is True  # forgiven after the lockout window
