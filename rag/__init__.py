"""litrag: retrieval, generation and citations over the biomedical literature."""

import os

# OpenMP threads (llama.cpp's and torch's share one libgomp) sleep at barriers instead of
# spinning. The 2 cores here are shared with the embedder, the web server and other processes;
# spinning threads then wait for each other's time slices, and llama.cpp's prefill ran several
# times slower (docs/benchmarks.md). Set here, before anything loads libgomp; an explicit setting
# wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
