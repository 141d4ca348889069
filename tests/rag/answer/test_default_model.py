"""The default path end to end, as a new user meets it: no model setting at all.

`rag ask` with the packaged default (Qwen2.5-Coder-1.5B-Instruct in 22 part packages) assembles
the model at its first use into an empty model cache, checks its hash, and answers the seed
question with a generated answer whose every shown sentence is supported, citing the seed paper.
(The other tests set the tiny model through LITRAG_GENERATION__MODEL; this one removes it.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from base.settings import Settings
from rag.answer.engines.packaged import QWEN_CODER_1_5B

SEED_QUESTION = (
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?"
)
SEED_PMID = "38281981"


@pytest.fixture(scope="module")
def seeds_index(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.index.ingest.pipeline import ingest

    folder = tmp_path_factory.mktemp("seeds_index")
    report = ingest([shared / "corpus" / "seeds"], folder, Settings())
    assert report.errors == [] and report.documents == 2
    return folder


def test_rag_ask_with_no_options_assembles_the_default_and_answers_the_seed_question(
    seeds_index: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITRAG_GENERATION__")}
    env |= {"LITRAG_MODELS_DIR": str(tmp_path / "models"), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    rag = Path(sys.executable).with_name("rag")
    done = subprocess.run(
        [str(rag), "ask", SEED_QUESTION, "--index", str(seeds_index), "--json"],
        env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assembled = tmp_path / "models" / QWEN_CODER_1_5B.file_name
    assert assembled.stat().st_size == QWEN_CODER_1_5B.size  # made here, at first use
    assert "assembling qwen2.5-coder-1.5b" in done.stderr
    answer = json.loads(done.stdout)
    assert answer["mode"] == "generate" and not answer["abstained"], answer["warnings"]
    assert answer["model"] == QWEN_CODER_1_5B.title
    assert answer["sentences"] and all(s["supported"] for s in answer["sentences"])
    assert SEED_PMID in {c["pmid"] for c in answer["citations"] if c["supported"]}
    assert "evidence" in done.stderr  # shown on stderr before the LLM's answer
