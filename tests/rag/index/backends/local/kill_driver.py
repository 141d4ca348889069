"""Runs ``rag ingest`` / ``rag remove`` again and again, SIGKILLing each run at a chosen point.

    python tests/rag/index/backends/local/kill_driver.py PLAN.json     (run by test_kill.py)

PLAN names the files, the index folder, a folder for snapshots, the batch size and the kill
points. Each point is ``[phase, at]``; the run is killed when it gets there:

    embed     before a batch is embedded, once ``at`` documents are committed
    insert    inside a batch's transaction, after the insert that makes ``at`` documents
    commit    after a batch commits, before FAISS is updated, once ``at`` are committed
    progress  when the progress callback has counted ``at`` documents done in this run
    bm25      at the end, after dense.faiss is saved and before BM25 is
    delete    inside remove's transaction, after the deletes
    dense     while remove saves dense.faiss (half its temporary file written)

Points are chosen by progress, never by time, so every run dies at the same place. All runs
work on the one index in turn, each resuming the last; after each, the index folder is copied
to ``snapshots/<n>`` for the test to check and resume. Prints one JSON line per run.

Each run is a child forked from this process after the model stack is imported (which takes
15 s on 2 busy cores, 2026-12; a fork takes milliseconds). This process computes nothing
itself, so no thread pool exists to be broken by the fork.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402

import cli.main  # noqa: E402
import rag.index.backends.local.index as local_module  # noqa: E402
import rag.index.ingest.pipeline as ingest_module  # noqa: E402
from rag.index.backends.local.sparse import Sparse  # noqa: E402
from rag.index.backends.local.store import Store  # noqa: E402


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def committed(folder: Path) -> int:
    """Documents committed to the store, as another process sees them."""
    db = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    finally:
        db.close()


def arm(phase: str, at: int, folder: Path) -> None:
    """Patch this (child) process to SIGKILL itself at ``phase`` / ``at``."""
    if phase == "embed":
        embed = ingest_module.embed_passages

        def embed_then_die(embedder: Any, texts: list[str]) -> Any:
            if committed(folder) >= at:
                die()
            return embed(embedder, texts)

        ingest_module.embed_passages = embed_then_die  # type: ignore[assignment]
    elif phase in ("insert", "delete"):
        name = "add" if phase == "insert" else "delete_documents"
        original = getattr(Store, name)

        def change_then_die(self: Store, *args: Any) -> Any:
            result = original(self, *args)
            if phase == "delete" or self.counts()[0] >= at:  # uncommitted rows count here
                die()
            return result

        setattr(Store, name, change_then_die)
    elif phase == "commit":
        update = local_module.Index.update_dense

        def die_before_faiss(index: Any, *args: Any) -> Any:
            if committed(folder) >= at:
                die()
            return update(index, *args)

        local_module.Index.update_dense = die_before_faiss  # type: ignore[method-assign]
    elif phase == "progress":
        run = ingest_module.ingest

        def ingest(paths: Any, index: Any, settings: Any, progress: Any = None) -> Any:
            def report(done: int, total: int) -> None:
                progress(done, total)
                if done >= at:
                    die()

            return run(paths, index, settings, report)

        ingest_module.ingest = ingest  # type: ignore[assignment]
    elif phase == "bm25":
        Sparse.save = lambda *args, **kw: die()  # type: ignore[method-assign]
    elif phase == "dense":
        write = local_module._write_atomic

        def half_then_die(path: Path, data: Any) -> None:
            if path.name == "dense.faiss":
                whole = faiss.serialize_index(data).tobytes()
                path.with_name(".dense.faiss.tmp").write_bytes(whole[: len(whole) // 2])
                die()
            write(path, data)

        local_module._write_atomic = half_then_die
    elif phase != "none":
        raise ValueError(f"unknown kill phase {phase!r}")


def run(argv: list[str], phase: str, at: int, folder: Path, log: Path, batch: int) -> int:
    """Fork a child that runs ``rag argv`` armed to die at ``phase``; returns its wait status."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            with log.open("wb") as out:
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
            ingest_module.BATCH_DOCUMENTS = batch
            arm(phase, at, folder)
            sys.argv = ["rag", *argv]
            cli.main.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return os.waitpid(pid, 0)[1]


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    folder, snapshots = Path(plan["index"]), Path(plan["snapshots"])
    ingest_argv = ["ingest", *plan["files"], "--index", str(folder), "--json"]
    remove_argv = ["remove", *plan["remove"], "--index", str(folder)]
    steps = [(ingest_argv, p, at) for p, at in plan["points"]] + [(ingest_argv, "none", 0)]
    steps += [(remove_argv, p, 0) for p in plan["remove_points"]]
    for n, (argv, phase, at) in enumerate(steps):
        log = snapshots / f"{n}.log"
        started = time.perf_counter()
        status = run(argv, phase, at, folder, log, plan["batch"])
        seconds = round(time.perf_counter() - started, 2)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        shutil.copytree(folder, snapshots / str(n))
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        step = {"step": n, "command": argv[0], "phase": phase, "at": at, "killed": killed}
        done = {"exit": exit_code, "committed": committed(folder), "seconds": seconds}
        print(json.dumps({**step, **done}), flush=True)


if __name__ == "__main__":
    main()
