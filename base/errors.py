"""The litrag error family.

Code inside raises these; only the edges (CLI, UI) catch them and turn them into messages.
Each message names the file or field at fault and, where there is a choice, the valid choices.
"""

from __future__ import annotations

from pathlib import Path


class RagError(Exception):
    """Base of every error litrag raises on purpose."""


class ConfigError(RagError):
    """A setting, settings file or command-line option is invalid."""


class ReadError(RagError):
    """A corpus file could not be read (or could be read only in part).

    ``path`` names the file, ``reason`` says what is wrong with it in words a user can act on.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexProblem(RagError):
    """An index directory is missing, locked, or was built with other settings."""


class QuestionError(RagError):
    """A question cannot be asked as given (empty, for instance)."""


class GenerationError(RagError):
    """The LLM engine failed: not reachable, an error status, or output that is not text."""


class GoldError(RagError):
    """A gold file or one of its entries is malformed."""


class EvalError(RagError):
    """An evaluation run folder or its ``summary.json`` is missing or malformed."""
