"""The index directory on disk: its write lock, atomic file writes, and file-system trouble put
in words (a read-only volume, a full disk, a file or a folder of papers where the index goes)."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import IO

import faiss

from base.errors import IndexProblem
from rag.index.backends.storage import cause, problem

# What an index directory holds (see rag.index.backends.local.index); anything else in a folder
# without a manifest means it is not an index directory.
INDEX_NAMES = frozenset(
    {".lock", "manifest.json", "store.sqlite", "store.sqlite-wal", "store.sqlite-shm",
     "store.sqlite-journal", "dense.faiss", "dense.json", "bm25"}
)  # fmt: skip
_HELD: set[Path] = set()  # index directories this process holds the write lock of


def check_folder(folder: Path) -> None:
    """Refuse a path that cannot be an index directory: a file, or a folder holding other files
    and no index (a folder of papers, say)."""
    if folder.exists() and not folder.is_dir():
        raise IndexProblem(f"--index {folder}: is a file, not an index directory; name a new or "
                           "empty directory")  # fmt: skip
    if folder.is_dir() and not (folder / "manifest.json").exists():
        others = sorted(p.name for p in folder.iterdir() if p.name not in INDEX_NAMES)
        others = [n for n in others if not (n.startswith(".") and n.endswith(".tmp"))]
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise IndexProblem(
                f"--index {folder}: holds other files ({shown}) and no index; name a new or "
                "empty directory for the index"
            )


def remove_stale(folder: Path) -> None:
    """Delete temporary files a failed save left behind (only the lock holder calls this)."""
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


class WriteLock:
    """An exclusive lock on an index directory, held while one process writes to it."""

    def __init__(self, folder: Path) -> None:
        check_folder(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._file: IO[bytes] = (folder / ".lock").open("wb")
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise IndexProblem(
                    f"{folder}: cannot be written ({cause(exc)}): a read-only index can be "
                    "searched (rag search, ask, stats, lookup, serve) but not changed"
                ) from exc
            raise problem(folder, exc, "locking the index") from exc
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._file.close()
            raise IndexProblem(f"another process is writing to the index at {folder}") from exc
        self.folder = folder.resolve()
        _HELD.add(self.folder)
        remove_stale(folder)

    def release(self) -> None:
        """Let another writer in."""
        _HELD.discard(self.folder)
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def held(folder: Path) -> bool:
    """True when this process holds the write lock of ``folder``."""
    return folder.resolve() in _HELD


def write_atomic(path: Path, data: bytes | faiss.Index) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one; a
    failure (a full disk) removes the temporary file.

    A FAISS index is streamed to the file: ``serialize_index(...).tobytes()`` held two copies
    of it in memory at once (a 1 GB PubMed file's flat index is hundreds of MB).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                faiss.write_index(data, faiss.PyCallbackIOWriter(f.write))  # type: ignore[attr-defined]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
