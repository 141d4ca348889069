"""Fuzz the readers at length: thousands of damaged files, and how many exceptions escape (0).

    .venv/bin/python benchmarks/fuzz_readers.py                       # 7 formats x 750 cases
    .venv/bin/python benchmarks/fuzz_readers.py --cases 2000 --seed 7

The same seeds and mutations as tests/corpus/test_fuzz.py (tests/corpus/fuzzing.py), drawn by
hypothesis at random instead of derandomized, with no shrinking: each case is one damaged file
read through ``corpus.read``. Prints the cases, what became of them, the exceptions the readers
left to corpus.read's catch-all (each still a ReadError, but with a generic message: candidates
for a reader-specific one), the exceptions that escaped (anything but ReadError; 0 expected),
the slowest cases and the time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

from base.errors import ReadError  # noqa: E402
from corpus import read  # noqa: E402
from tests.corpus.fuzzing import LEAK, SEED_NAMES, Mutation, is_xml, mutations, write_seeds  # noqa: E402


class _CatchAll(logging.Handler):
    """Counts the exceptions corpus.read turned into ReadError itself (its debug log line)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.types: Counter[str] = Counter()
        self.examples: dict[str, str] = {}  # exception type -> one message, with its file

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.types[type(exc).__name__] += 1
            where = Path(str(record.args[0] if record.args else "")).name  # type: ignore[index]
            self.examples.setdefault(type(exc).__name__, f"{where}: {str(exc)[:200]}")


def fuzz(name: str, data: bytes, folder: Path, cases: int, rng_seed: int) -> dict[str, object]:
    """Read ``cases`` damaged copies of one seed; returns the tallies."""
    outcomes: Counter[str] = Counter()
    escaped: list[str] = []
    slowest: list[tuple[float, str]] = []
    path = folder / f"case-{name}"

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(rng_seed)
    @given(mutation=mutations(xml=is_xml(name)))
    def one(mutation: Mutation) -> None:
        path.write_bytes(mutation.apply(data))
        started = time.perf_counter()
        try:
            docs = list(read(path))
            outcomes["documents" if docs else "nothing"] += 1
            outcomes["leaks"] += sum(LEAK in d.text or LEAK in d.title for d in docs)
        except ReadError:
            outcomes["ReadError"] += 1
        except Exception as exc:  # the point of the benchmark: count what escapes
            outcomes["escaped"] += 1
            escaped.append(f"{type(exc).__name__}: {exc} <- {_short(mutation)}")
        slowest.append((time.perf_counter() - started, _short(mutation)))
        outcomes["cases"] += 1

    one()
    slowest.sort(reverse=True)
    return {"outcomes": outcomes, "escaped": escaped, "slowest": slowest[:3]}


def _short(mutation: Mutation) -> str:
    data = mutation.data if len(mutation.data) <= 24 else mutation.data[:24] + b"..."
    extra = f" size={mutation.size}" if mutation.size else ""
    return f"{mutation.kind} at={mutation.at:.3f}{extra} data={data!r} inner={mutation.inner}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=750, help="cases per format (default 750)")
    parser.add_argument("--seed", type=int, default=2026, help="hypothesis seed")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "litrag-hypothesis")  # not ./.hypothesis
    logging.getLogger().addHandler(logging.NullHandler())  # libraries' notes stay quiet
    catch_all = _CatchAll()
    logging.getLogger("corpus").addHandler(catch_all)
    logging.getLogger("corpus").setLevel(logging.DEBUG)
    total: Counter[str] = Counter()
    escaped: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = write_seeds(args.shared, Path(tmp) / "seeds")
        for name in SEED_NAMES:
            t0 = time.perf_counter()
            result = fuzz(name, seeds[name].read_bytes(), Path(tmp), args.cases, args.seed)
            outcomes: Counter[str] = result["outcomes"]  # type: ignore[assignment]
            total.update(outcomes)
            escaped += result["escaped"]  # type: ignore[arg-type]
            worst = ", ".join(f"{t:.2f} s {m}" for t, m in result["slowest"][:1])  # type: ignore[index]
            print(f"{name:15} {outcomes['cases']:5} cases  documents {outcomes['documents']:4}  "
                  f"nothing {outcomes['nothing']:3}  ReadError {outcomes['ReadError']:4}  "
                  f"escaped {outcomes['escaped']}  leaks {outcomes['leaks']}  "
                  f"{time.perf_counter() - t0:6.1f} s  slowest: {worst}", flush=True)  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"cases {total['cases']:,}  escaped exceptions {total['escaped']}  "
          f"leaks {total['leaks']}  time {seconds:.1f} s "
          f"({total['cases'] / seconds:.1f} cases/s)")  # fmt: skip
    print(f"ReadErrors made by corpus.read's catch-all, by exception: {dict(catch_all.types)}")
    for name, example in catch_all.examples.items():
        print(f"  e.g. {name} from {example}")
    for line in escaped[:20]:
        print(f"  escaped: {line}")
    sys.exit(1 if total["escaped"] or total["leaks"] else 0)


if __name__ == "__main__":
    main()
