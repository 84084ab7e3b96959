"""Run every benchmark, one after the other, each in a fresh interpreter, and print its figures.

Usage: ``python benchmarks/run.py [--quick]``. Nothing here passes or fails on time: read the
figures (ratios are measured within one run, against a baseline in the same process).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ("Per-call overhead", "bench_calls.py", [], ["--rounds", "5", "--calls", "100"]),
    ("Import time", "bench_import.py", [], ["--runs", "10"]),
    ("Threads", "bench_threads.py", [], ["--calls", "50"]),
    ("Async (asyncio)", "bench_async.py", [], ["--rounds", "3", "--calls", "50"]),
    (
        "Async (trio)",
        "bench_async.py",
        ["--backend", "trio"],
        ["--backend", "trio", "--rounds", "3"],
    ),
    ("Emulator", "bench_emulator.py", [], ["--seconds", "2", "--rounds", "10"]),
    ("Token stores", "bench_stores.py", [], ["--rounds", "100"]),
    ("The command line in shell loops", "bench_cli.py", [], ["--runs", "10"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, rougher figures")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.platform()}, {platform.machine()}")
    status = 0
    for title, script, full, quick in BENCHMARKS:
        print(f"\n== {title} ({script})", flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        )
        status = status or done.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
