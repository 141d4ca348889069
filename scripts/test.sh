#!/usr/bin/env bash
# The whole test suite: lint, types, unit and integration tests (browser ones included). Sets up
# .venv/ and Debian's chromium first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
