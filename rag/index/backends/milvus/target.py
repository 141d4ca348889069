"""Where a Milvus index lives, read from ``--index`` (no connection made, no pymilvus loaded)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from base.errors import IndexProblem

DEFAULT_COLLECTION = "litrag"
_COLLECTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")  # Milvus's rule for names


@dataclass(frozen=True, slots=True)
class MilvusTarget:
    """Where a Milvus collection lives: what pymilvus connects to, and the collection's name."""

    address: str  # http(s)://HOST:PORT, or the milvus-lite .db path
    collection: str
    lite: bool
    uri: str  # as the user wrote it (no credentials: those come from the environment)


def parse_target(text: str) -> MilvusTarget:
    """The Milvus target a ``milvus``, ``milvus+https`` or ``milvus+lite`` URI names."""
    scheme = text.partition("://")[0]
    parts = urlsplit(text)
    if parts.username or parts.password:
        # The URI is echoed in errors and shell history; credentials must not be.
        raise IndexProblem(
            f"--index {scheme}://…: put the Milvus token or user:password in "
            "LITRAG_INDEX__MILVUS_TOKEN, not in the URI"
        )
    if scheme == "milvus+lite":
        return _lite_target(text, parts.netloc, parts.path, parts.fragment)
    name = parts.path.strip("/") or DEFAULT_COLLECTION
    if not parts.hostname or not parts.port or parts.query or parts.fragment:
        raise IndexProblem(f"--index {text!r}: expected {scheme}://HOST:PORT/COLLECTION")
    _check_collection(name, text)
    protocol = "https" if scheme == "milvus+https" else "http"
    return MilvusTarget(f"{protocol}://{parts.netloc}", name, lite=False, uri=text)


def _lite_target(text: str, host: str, path: str, fragment: str) -> MilvusTarget:
    if host or not path.startswith("/") or not path.endswith(".db"):
        raise IndexProblem(
            f"--index {text!r}: expected milvus+lite:///ABSOLUTE/PATH/FILE.db[#COLLECTION] "
            "(three slashes, an absolute path ending in .db)"
        )
    name = fragment or DEFAULT_COLLECTION
    _check_collection(name, text)
    return MilvusTarget(path, name, lite=True, uri=text)


def _check_collection(name: str, text: str) -> None:
    if not _COLLECTION.match(name):
        raise IndexProblem(
            f"--index {text!r}: the collection name {name!r} must start with a letter or _ and "
            "hold only letters, digits and _"
        )
