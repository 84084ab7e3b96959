"""Sustained throughput of the embedded emulator: guest logins/s and OAuth2 logins/s, p99.

Client threads, each with its own app object (its own keep-alive connection), log in for a fixed
time against an in-process emulator. On a 2-core machine the clients share the cores with the
server, so the figures are a floor for the server alone.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable

from backendless_auth import Backendless
from backendless_auth.emulator import Emulator


def _sustain(
    make_call: Callable[[Backendless, int], Callable[[], object]],
    apps: list[Backendless],
    seconds: float,
) -> tuple[int, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(len(apps))

    def worker(index: int, app: Backendless) -> None:
        call = make_call(app, index)
        mine = []
        barrier.wait()
        while time.perf_counter() < stop:
            began = time.perf_counter()
            call()
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i, app)) for i, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies


def _report(name: str, count: int, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"{name:<22}{count / seconds:>10.0f}/s{statistics.median(latencies) * 1000:>10.2f}"
        f"{p99 * 1000:>10.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    with Emulator() as emu:
        apps = [emu.app() for _ in range(args.clients)]
        tokens = []
        for index in range(args.clients):
            account = emu.add_account("google", email=f"bench{index}@example.com", name="Bench")
            tokens.append(emu.provider_token("google", account))
        print(f"{args.clients} client threads, {args.seconds:.0f} s each run")
        print(f"{'call':<22}{'throughput':>12}{'p50 ms':>10}{'p99 ms':>10}")
        count, latencies = _sustain(lambda app, _: app.users.login_as_guest, apps, args.seconds)
        _report("guest logins", count, latencies, args.seconds)

        def oauth2(app: Backendless, index: int) -> Callable[[], object]:
            return lambda: app.users.login_with_oauth2("google", tokens[index])

        count, latencies = _sustain(oauth2, apps, args.seconds)
        _report("OAuth2 logins (google)", count, latencies, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
