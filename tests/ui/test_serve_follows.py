"""Integration: a running ``rag serve`` searches what ``rag ingest`` and ``rag remove`` in
another process change, without a restart, and says so in its log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from base.settings import Settings
from rag.index.ingest.pipeline import ingest
from tests.ui.pages import QUIET_GRADIO_QUEUE, free_port
from tests.ui.test_serve_cli import _wait_until_up

pytestmark = [pytest.mark.integration, QUIET_GRADIO_QUEUE]
RAG = Path(sys.executable).with_name("rag")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "LITRAG_ANSWER__MODE": "extractive"}  # fmt: skip
NEW = "Zebrafish fin regeneration needs osteoblast dedifferentiation"
QUESTION = "What does zebrafish fin regeneration need?"


def _paper(folder: Path, name: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"{title}\n\n{body}\n")
    return folder


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """(url, index, log) of ``rag serve`` over a small index of two papers."""
    index, log = tmp_path / "index", tmp_path / "serve.log"
    old = tmp_path / "old"
    _paper(
        old, "a.txt", "Statins lower LDL cholesterol", "Statins lower LDL cholesterol in adults."
    )
    _paper(old, "b.txt", "Aspirin and stroke", "Low-dose aspirin reduces the risk of stroke.")
    ingest([old], index, Settings())
    port = free_port()
    command = [str(RAG), "serve", "--index", str(index), "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=ENV, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_up(url, server, log)
            yield url, index, log
        finally:
            server.terminate()
            server.wait(timeout=30)


def _cited(client: Client) -> dict[str, str]:
    """The title and document id of each source the server's answer to QUESTION cites."""
    answer = client.predict(QUESTION, api_name="/ask")
    return {c["title"]: c["doc_id"] for c in answer["citations"]}


def _until(check: object, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(1)
    return False


def test_server_searches_what_another_process_adds_and_removes(
    served: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, index, log = served
    client = Client(url, verbose=False)
    assert NEW not in _cited(client)
    new = _paper(tmp_path / "new", "c.txt", NEW, f"{NEW}: fins regrow from dedifferentiated cells.")
    added = subprocess.run([str(RAG), "ingest", str(new), "--index", str(index)], env=ENV,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert _until(lambda: NEW in _cited(client)), log.read_text()
    assert "reloading its search files" in log.read_text()
    gone = subprocess.run([str(RAG), "remove", _cited(client)[NEW], "--index", str(index)], env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert _until(lambda: NEW not in _cited(client)), gone.stderr + log.read_text()
