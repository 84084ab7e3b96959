"""Import time of ``backendless_auth`` against ``requests``, in fresh interpreters.

Prints the median wall time of ``python -c "import X"`` over repeated runs (interleaved), the
ratio, and the same for importing the package and building a first app object.
"""

from __future__ import annotations

import argparse
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
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
