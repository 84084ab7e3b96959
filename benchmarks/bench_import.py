"""Import time of ``backendless_auth`` against ``requests``, in fresh interpreters.

Prints the median wall time of ``python -c "import X"`` over repeated runs (interleaved), the
ratio, and the same for importing the package and building a first app object.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "python (nothing)": "pass",
    "import requests": "import requests",
    "import backendless_auth": "import backendless_auth",
    "import + Backendless(...)": (
        "import backendless_auth as b; b.Backendless(app_id='A', api_key='K')"
    ),
    "import httpx": "import httpx",
    "import + AsyncBackendless(...)": (
        "import backendless_auth as b; b.AsyncBackendless(app_id='A', api_key='K')"
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    # Installed packages come with their bytecode compiled; with PYTHONDONTWRITEBYTECODE set
    # (as some shells and CI images do), an editable checkout would be compiled from source on
    # every run while requests would not. The variable is dropped and a first run of each
    # statement writes the bytecode, so that both sides are measured as installed.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for statement in STATEMENTS.values():
        subprocess.run([sys.executable, "-c", statement], check=True, env=env)
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, env=env)
            times[name].append(time.perf_counter() - began)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"median of {args.runs} runs each, in ms")
    for name, median in medians.items():
        print(f"{name:<28}{median:>8.1f}")
    base = medians["import requests"]
    print(
        f"ratio import backendless_auth / import requests: "
        f"{medians['import backendless_auth'] / base:.3f}"
    )
    print(
        f"ratio import + first app / import requests:      "
        f"{medians['import + Backendless(...)'] / base:.3f}"
    )
    print(
        f"ratio import + first async app / import httpx: "
        f"{medians['import + AsyncBackendless(...)'] / medians['import httpx']:.3f}"
    )
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, backendless_auth; "
            "print(sorted({'requests', 'httpx', 'anyio', 'urllib3'} & set(sys.modules)))",
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"HTTP libraries imported by 'import backendless_auth': {loaded}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
