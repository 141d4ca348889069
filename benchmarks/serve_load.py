"""Load on ``rag serve`` with the default models: concurrent asks, streamed first tokens, RSS.

    .venv/bin/python benchmarks/serve_load.py --index /tmp/shared_index [--asks 50]
        [--rounds 5] [--generate 10]

Starts ``rag serve`` on the index, then, through the real HTTP API (gradio_client):
``--rounds`` rounds of ``--asks`` concurrent extractive ``/ask`` calls (errors, p50/p95, the
server's RSS after each round); then ``--generate`` concurrent generate-mode asks through the
streaming ``/ask_stream`` endpoint, the first token timed at the client (the first non-empty
draft) and the whole answer; and the server's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from gradio_client import Client

QUESTIONS = [
    "Why are patients with MDM2 amplification at risk during immune checkpoint inhibitor therapy?",
    "What does the tumor microenvironment consist of?",
    "Is MDM2 amplification associated with hyperprogressive disease?",
    "What is the role of TP53 in cancer?",
    "Does tailored telephone counseling increase mammography use?",
    "Which drugs inhibit MDM2?",
    "How is hyperprogressive disease defined?",
    "What are tumour-associated macrophages?",
    "Does screening mammography reduce breast cancer mortality?",
    "What are the side effects of immune checkpoint inhibitors?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--asks", type=int, default=50, help="concurrent extractive asks")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generate", type=int, default=10, help="concurrent generate asks")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "serve",
         "--index", str(args.index), "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        start = time.perf_counter()
        wait_for(url, server)
        print(f"server up in {time.perf_counter() - start:.1f} s, RSS {rss(server.pid):.0f} MB")
        client = Client(url, verbose=False, max_workers=max(args.asks, args.generate) + 4)
        client.predict(QUESTIONS[0], "extractive", api_name="/ask")  # warm-up
        stream_ask(client, QUESTIONS[0])  # warm-up (waits for the LLM's background load)
        print(f"warm: RSS {rss(server.pid):.0f} MB")
        after = []
        for r in range(args.rounds):
            after.append(extractive_round(client, args.asks, server.pid, r + 1))
        if len(after) > 1:
            print(f"RSS after round 1 {after[0]:.0f} MB, after round {len(after)} {after[-1]:.0f}"
                  f" MB ({(after[-1] / after[0] - 1) * 100:+.1f}%)")  # fmt: skip
        generate_round(client, args.generate)
        print(f"server RSS now {rss(server.pid):.0f} MB, peak (VmHWM) {peak(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def extractive_round(client: Client, n: int, pid: int, number: int) -> float:
    """``n`` concurrent extractive /ask calls; the server's RSS after them, MB."""

    def one(i: int) -> tuple[float, str]:
        start = time.perf_counter()
        try:
            client.predict(QUESTIONS[i % len(QUESTIONS)], "extractive", api_name="/ask")
            return time.perf_counter() - start, ""
        except Exception as exc:  # counted and shown: the load test's result
            return time.perf_counter() - start, str(exc)[:120]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    times = sorted(t for t, _ in results)
    errors = [e for _, e in results if e]
    mb = rss(pid)
    print(f"round {number}: {n} extractive asks in {wall:.1f} s, errors {len(errors)}, "
          f"p50 {pct(times, 50):.2f} s, p95 {pct(times, 95):.2f} s, RSS {mb:.0f} MB"
          + (f"  first error: {errors[0]}" if errors else ""))  # fmt: skip
    return mb


def stream_ask(client: Client, question: str) -> tuple[float | None, float, str]:
    """One streamed generate ask: (first token s, total s, error)."""
    start = time.perf_counter()
    first = None
    try:
        job = client.submit(question, "generate", api_name="/ask_stream")
        for out in job:
            if first is None and isinstance(out, dict) and out.get("draft"):
                first = time.perf_counter() - start
        job.result()
        return first, time.perf_counter() - start, ""
    except Exception as exc:  # counted and shown: the load test's result
        return first, time.perf_counter() - start, str(exc)[:120]


def generate_round(client: Client, n: int) -> None:
    """``n`` concurrent streamed generate asks: first token and total, p50/p95."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda i: stream_ask(client, QUESTIONS[i % len(QUESTIONS)]),
                                range(n)))  # fmt: skip
    firsts = sorted(f for f, _, _ in results if f is not None)
    totals = sorted(t for _, t, _ in results)
    errors = [e for _, _, e in results if e]
    print(f"{n} concurrent generate asks: errors {len(errors)}, first token p50 "
          f"{pct(firsts, 50):.1f} s p95 {pct(firsts, 95):.1f} s max {max(firsts, default=0):.1f} s;"
          f" total p50 {pct(totals, 50):.1f} s p95 {pct(totals, 95):.1f} s"
          + (f"  first error: {errors[0]}" if errors else ""))  # fmt: skip


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of sorted ``values`` (0 for none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def rss(pid: int) -> float:
    """Resident memory of ``pid`` and its children, MB."""
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def peak(pid: int) -> float:
    """Peak resident memory (VmHWM) of ``pid``, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[Any], timeout: float = 600) -> None:
    """Until ``url`` answers (the server exiting first is an error)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"rag serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"rag serve did not answer at {url} in {timeout:.0f} s")


if __name__ == "__main__":
    main()
