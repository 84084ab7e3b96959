"""Throughput and latency with 16 threads sharing one ``UserService``, against bare requests.

Each thread makes its calls on the same service (and, for the baseline, the same
``requests.Session``), against the instant loopback server. Prints calls/s and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
import requests.adapters

sys.path.insert(0, str(Path(__file__).resolve().parent))

from instant_server import InstantServerProcess

from backendless_auth import Backendless


def _run(call: Callable[[], object], threads: int, calls: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        mine = []
        start.wait()
        for _ in range(calls):
            began = time.perf_counter()
            call()
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, latencies


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with InstantServerProcess() as server:
        app = Backendless(app_id="BENCH-APP", api_key="BENCH-KEY", server_url=server.url)
        users = app.users
        users.login_as_guest()
        token = users.user_token or ""
        url = f"{server.url}/BENCH-APP/BENCH-KEY/users/isvalidusertoken/{token}"

        def bare_client(trust_env: bool) -> Callable[[], object]:
            session = requests.Session()
            session.trust_env = trust_env
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
            return lambda: session.get(url, headers={"user-token": token}, timeout=(10, 30)).json()

        total = args.threads * args.calls
        print(
            f"{args.threads} threads x {args.calls} calls of is_valid_login, one shared client, "
            f"{args.rounds} interleaved rounds (medians)"
        )
        print(f"{'client':<18}{'calls/s':>10}{'p50 µs':>10}{'p99 µs':>10}")
        clients = (
            ("requests", bare_client(True)),
            ("requests, no env", bare_client(False)),
            ("backendless", users.is_valid_login),
        )
        rates: dict[str, list[float]] = {name: [] for name, _ in clients}
        latencies: dict[str, list[float]] = {name: [] for name, _ in clients}
        for _, call in clients:
            _run(call, args.threads, 10)  # warm up the pool
        for _ in range(args.rounds):
            for name, call in clients:
                elapsed, measured = _run(call, args.threads, args.calls)
                rates[name].append(total / elapsed)
                latencies[name].extend(measured)
        results = {}
        for name, _ in clients:
            results[name] = statistics.median(rates[name])
            print(
                f"{name:<18}{results[name]:>10.0f}"
                f"{statistics.median(latencies[name]) * 1e6:>10.0f}"
                f"{_quantile(latencies[name], 0.99) * 1e6:>10.0f}"
            )
        for baseline in ("requests", "requests, no env"):
            ratio = results["backendless"] / results[baseline]
            print(f"throughput ratio backendless / {baseline}: {ratio:.3f}")
    print(f"TCP connections accepted: {server.accepts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
