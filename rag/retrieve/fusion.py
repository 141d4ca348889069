"""Score standardization shared by the first-stage fusion and the reranker's fusion."""

from __future__ import annotations

import numpy as np


def zscores(values: np.ndarray) -> np.ndarray:
    """``values`` as z-scores over themselves (all 0 when they do not vary)."""
    values = np.asarray(values, dtype=np.float64)
    spread = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
