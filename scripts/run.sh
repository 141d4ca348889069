#!/usr/bin/env bash
# The main job: set up .venv/ if needed, index a sample of ../shared/corpus into
# .litrag/sample-index (once: later runs find it current and start at once), then serve the web
# app at http://127.0.0.1:7860. Arguments go to `rag serve`, e.g. `--port 8080`, or
# `--host 0.0.0.0` together with LITRAG_UI_AUTH=user:password in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
corpus=../shared/corpus
if [ ! -d "$corpus" ]; then
  echo "error: $corpus is missing (the shared data must sit beside the project root)" >&2
  exit 1
fi
index=.litrag/sample-index
stamp=.litrag/sample-index.stamp
# ~1,600 papers: the seed pages, PMC full texts, PubMed/MEDLINE XML and the PubMedQA abstracts.
sample=("$corpus/seeds" "$corpus/pmc" "$corpus/pubmed" "$corpus/pubmedqa/pqal_contexts.jsonl")
# Current = the same sample files and the same code reading, chunking and embedding them.
want=$({
  find "${sample[@]}" -type f -printf '%p %s %T@\n' | sort
  cat $(find corpus rag/index -name '*.py' | sort) base/settings.py base/text.py
} | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$index/manifest.json" ]; then
  echo "run: the sample index $index is current" >&2
else
  # An index the current settings cannot open (built by another version) is rebuilt from scratch;
  # otherwise `rag ingest` adds what changed and skips the rest.
  if [ -d "$index" ] && ! .venv/bin/rag stats --index "$index" >/dev/null 2>&1; then
    echo "run: $index cannot be opened with the current settings; rebuilding it" >&2
    rm -rf "$index"
  fi
  echo "run: indexing a sample of $corpus into $index (about 4 minutes the first time)" >&2
  .venv/bin/rag ingest "${sample[@]}" --index "$index"
  echo "$want" > "$stamp"
fi
echo "run: serving $index; open http://127.0.0.1:7860 (or the --port you gave), Ctrl-C stops" >&2
exec .venv/bin/rag serve --index "$index" "$@"
