"""``rag serve`` as a user runs it: a subprocess on 127.0.0.1 with a login from the environment.

Integration: serves the index built from ../shared (extractive mode, so no LLM is loaded).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from tests.ui.pages import QUIET_GRADIO_QUEUE, SEED_PUBMED, SEED_QUESTION, free_port

pytestmark = [pytest.mark.integration, QUIET_GRADIO_QUEUE]
RAG = Path(sys.executable).with_name("rag")
LOGIN = ("reader", "s3cret")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "LITRAG_ANSWER__MODE": "extractive", **extra}


@pytest.fixture(scope="module")
def serve_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the served process writes its stdout and stderr."""
    return tmp_path_factory.mktemp("serve") / "serve.log"


@pytest.fixture(scope="module")
def serve_url(ui_index: Path, serve_log: Path) -> Iterator[str]:
    port = free_port()
    env = _env(LITRAG_UI_AUTH=":".join(LOGIN))
    command = [str(RAG), "serve", "--index", str(ui_index), "--port", str(port)]
    log = serve_log
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_up(url, server, log)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"rag serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"rag serve did not answer at {url} within 180 s:\n{log.read_text()}")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(address)
    return found


def test_serves_only_on_loopback_by_default(serve_url: str) -> None:
    port = int(serve_url.rstrip("/").rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else


def test_login_from_the_environment_is_required(serve_url: str) -> None:
    with pytest.raises(AuthenticationError, match="Please login"):
        Client(serve_url, verbose=False)
    client = Client(serve_url, auth=LOGIN, verbose=False)
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert SEED_PUBMED in [c["url"] for c in result["citations"]]


def test_an_expected_error_is_one_log_line_not_a_traceback(serve_url: str, serve_log: Path) -> None:
    client = Client(serve_url, auth=LOGIN, verbose=False)
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")
    log = serve_log.read_text(errors="replace")
    assert [line for line in log.splitlines() if "the question is empty" in line] == [
        next(line for line in log.splitlines() if "litrag.ui: ask: the question is empty" in line)
    ]
    assert "Traceback" not in log


def test_a_malformed_login_setting_is_refused(ui_index: Path) -> None:
    done = subprocess.run(
        [str(RAG), "serve", "--index", str(ui_index), "--port", str(free_port())],
        env=_env(LITRAG_UI_AUTH="no-colon"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert 'LITRAG_UI_AUTH must be "user:password"' in done.stderr
