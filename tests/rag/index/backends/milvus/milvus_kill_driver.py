"""Runs one ingest into a Milvus index and SIGKILLs it at a chosen write (run by test_milvus_kill).

    python tests/rag/index/backends/milvus/milvus_kill_driver.py URI PHASE AT FILE...

PHASE ``chunks`` dies just before the AT-th non-empty insert of passages (after that batch's
deletes), ``records`` just before the AT-th insert of document records (after its passages are
in), and ``none`` runs to the end. Batches hold 4 documents. Prints the ingest report as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT))

from base.settings import Settings  # noqa: E402
from rag.index.backends.milvus import index as milvus  # noqa: E402
from rag.index.ingest import pipeline as ingest  # noqa: E402
from rag.index.ingest.pipeline import ingest as ingest_uri  # noqa: E402


def main() -> None:
    uri, phase, at, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    calls = {"chunks": 0, "records": 0}
    insert = milvus.MilvusIndex._insert

    def insert_or_die(self: Any, name: str, rows: list[dict[str, Any]]) -> None:
        kind = "records" if name == self.documents_name else "chunks"
        calls[kind] += bool(rows)  # a batch of skipped documents inserts nothing
        if rows and kind == phase and calls[kind] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        insert(self, name, rows)

    milvus.MilvusIndex._insert = insert_or_die  # type: ignore[method-assign]
    ingest.BATCH_DOCUMENTS = 4
    report = ingest_uri([Path(f) for f in files], uri, Settings())
    print(json.dumps({"documents": report.documents, "skipped": report.skipped}))


if __name__ == "__main__":
    main()
