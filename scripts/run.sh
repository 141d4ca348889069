#!/usr/bin/env bash
# The main job: set up .venv/ if needed, then read the shared corpus and show what was found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ ! -d ../shared/corpus ]; then
  echo "error: ../shared/corpus is missing (the shared data must sit beside the project root)" >&2
  exit 1
fi
exec .venv/bin/rag corpus inspect ../shared/corpus "$@"
