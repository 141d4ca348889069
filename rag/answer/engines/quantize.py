"""A once-made copy of a Q4_1 GGUF file in a type llama.cpp's CPU kernels prefill faster.

llama.cpp repacks Q4_0 and Q8_0 weights into interleaved layouts for its AVX2/AVX-512 matrix
kernels; Q4_1 (the packaged SmolLM2's type) has no such layout, and its prompt evaluation was
about half as fast here (see README, "Answer speed"). The copy is written once into the user
cache, keyed by the source file's content and the llama.cpp build, and reused after that.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# llama.h's llama_ftype values of the types involved.
FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7}
SLOW_PREFILL = {FTYPES["Q4_1"]}


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/litrag/gguf`` (``~/.cache/litrag/gguf`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litrag" / "gguf"


def file_type(path: Path) -> int | None:
    """The GGUF's ``general.file_type`` (a llama_ftype), None when it does not say."""
    from gguf import GGUFReader

    field = GGUFReader(str(path)).fields.get("general.file_type")
    return None if field is None else int(field.parts[field.data[0]][0])


def fast_copy(path: Path, target: str) -> Path:
    """``path`` itself, or its copy quantized to ``target`` ("Q4_0", "Q8_0"; "off": never).

    Only Q4_1 files are converted. A copy that cannot be made is logged and the original used.
    """
    if target == "off":
        return path
    try:
        if file_type(path) not in SLOW_PREFILL:
            return path
        return _cached_copy(path, target)
    except (OSError, ValueError, RuntimeError) as exc:
        log.warning("cannot make a %s copy of %s (%s); using the file as it is", target, path, exc)
        return path


def cached_copy(path: Path, target: str) -> Path:
    """``path`` quantized to ``target``, written once into the user cache (any source type)."""
    return _cached_copy(path, target)


def _cached_copy(path: Path, target: str) -> Path:
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    h = hashlib.sha256()
    with path.open("rb") as f:
        h.update(hashlib.file_digest(f, "sha256").digest())
    h.update(f"{target} llama-cpp-python {llama_cpp.__version__}".encode())
    out = cache_dir() / f"{path.stem}.{h.hexdigest()[:16]}.{target}.gguf"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".gguf")
    os.close(fd)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = FTYPES[target]
        params.allow_requantize = True
        with suppress_stdout_stderr(disable=False):  # llama.cpp prints a line per tensor
            status = llama_cpp.llama_model_quantize(
                str(path).encode(), tmp.encode(), ctypes.byref(params)
            )
        if status != 0:
            raise RuntimeError(f"llama_model_quantize returned {status}")
        os.replace(tmp, out)  # atomic: a reader sees the whole file or none
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("wrote a %s copy of %s to %s", target, path.name, out)
    return out
