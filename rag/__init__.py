"""litrag: retrieval, generation and citations over the biomedical literature."""

import os

# OpenMP threads (llama.cpp's and torch's share one libgomp) sleep at barriers instead of
# spinning. The 2 cores here are shared with the embedder, the web server and other processes;
# spinning threads then wait for each other's time slices: llama.cpp's Q4_0 prefill ran at 52
# tokens/s with 2 spinning threads against 174 tokens/s with 2 passive ones, machine load ~7
# (2026-11-22). Set here, before anything loads libgomp; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
