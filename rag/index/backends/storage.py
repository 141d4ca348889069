"""File-system and SQLite failures put in words, for any backend that keeps files: what went
wrong (a read-only volume, a full disk, a file where a folder should be) and one line that names
the path and says the index is as it was at its last commit."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from base.errors import IndexProblem

STORAGE_ERRORS = (OSError, sqlite3.Error)
FULL_BELOW = 1 << 20  # free bytes under which a failed write is put down to a full disk

_CAUSES = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a file stands where a folder should be",
    errno.EEXIST: "a file stands where a folder should be",
}


def cause(exc: BaseException) -> str:
    """What went wrong, in words, for an OS or SQLite error."""
    if isinstance(exc, OSError) and exc.errno in _CAUSES:
        return _CAUSES[exc.errno]
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    text = str(exc)
    if "disk is full" in text:
        return "no space left on the device (database or disk is full)"
    if "readonly" in text or "read-only" in text:
        return "the index cannot be written (read-only)"
    return text


def problem(folder: Path | str, exc: BaseException, doing: str) -> IndexProblem:
    """One line for a file-system failure while ``doing`` something to the index in ``folder``:
    the path, the cause, and that the index is as it was at its last commit."""
    path = getattr(exc, "filename", None) or folder
    said = cause(exc)
    if isinstance(exc, sqlite3.Error) and "I/O" in said and _nearly_full(Path(folder)):
        said = f"no space left on the device ({said})"  # SQLite's WAL writes fail as I/O errors
    return IndexProblem(
        f"{path}: {doing} failed: {said}; the index at {folder} is as it was at its last "
        "committed change (run the command again once this is fixed)"
    )


def _nearly_full(folder: Path) -> bool:
    """True when the file system holding ``folder`` has (almost) no room left."""
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW
    except OSError:
        return False
