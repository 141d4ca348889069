"""The endpoint engine against a real OpenAI-compatible server as users run one:
llama-cpp-python's own server (``python -m llama_cpp.server``, its ``server`` extra) serving the
packaged tiny GGUF on 127.0.0.1. A streamed answer, the judge through ``top_logprobs``, and a
server stopped in the middle of an answer (a warning and the extractive answer).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from base.settings import AnswerSettings, GenerationSettings, Settings
from rag.answer.engines.base import resolve_model
from rag.answer.engines.openai import Endpoint
from rag.answer.pipeline import Pipeline
from rag.answer.prompts import judge_messages
from rag.answer.records import Answer, Delta, Evidence
from tests.llm import TINY_LLM
from tests.ui.pages import free_port

SEED_QUESTION = (
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?"
)


def start_server(gguf: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The server on a free port, once it answers /v1/models (its log goes to ``log``: a pipe
    nobody reads would fill and stop it)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {said}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail("llama_cpp.server did not answer within 180 s")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    gguf = resolve_model(GenerationSettings(model=TINY_LLM)).gguf
    assert gguf is not None
    proc, url = start_server(gguf, tmp_path / "server.log")
    yield proc, url
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def seeds_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.index.ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("seeds_index")
    report = ingest([shared / "corpus" / "seeds"], folder, Settings())
    assert report.errors == [] and report.documents == 2
    return folder


def test_streamed_answer_and_judge_through_top_logprobs(
    server: tuple[subprocess.Popen[bytes], str],
) -> None:
    _, url = server
    engine = Endpoint(GenerationSettings(endpoint=url, endpoint_model="smollm2"))
    pieces = list(engine.stream([{"role": "user", "content": "Name three colours."}], 24))
    assert len(pieces) > 3 and "".join(pieces).strip()
    claim = "MDM2 amplification predicts hyperprogression."
    messages = judge_messages(claim, "Patients with MDM2 amplification had hyperprogression.")
    yes, no = engine.option_scores(messages, ["yes", "no"])
    # From the first token's top_logprobs: real log-probabilities, not the reply-only fallback.
    assert math.isfinite(yes) and math.isfinite(no) and yes < 0 and no < 0
    assert (yes, no) not in ((0.0, -1.0), (-1.0, 0.0))


def test_a_server_stopped_mid_answer_gives_a_warning_and_the_extractive_answer(
    server: tuple[subprocess.Popen[bytes], str], seeds_index: Path
) -> None:
    proc, url = server
    generation = GenerationSettings(endpoint=url, max_new_tokens=400)
    settings = Settings(generation=generation, answer=AnswerSettings(judge="off"))
    pipeline = Pipeline.open(seeds_index, settings)
    events = []
    for event in pipeline.stream(SEED_QUESTION):
        events.append(event)
        if isinstance(event, Delta) and proc.poll() is None:
            proc.kill()  # the server goes away while the answer streams
            proc.wait()
    final = events[-1]
    assert isinstance(events[0], Evidence) and any(isinstance(e, Delta) for e in events)
    assert isinstance(final, Answer) and final.mode == "extractive" and not final.abstained
    assert any("the LLM failed" in w and url in w for w in final.warnings)
    assert final.sentences and all(s.supported for s in final.sentences)
