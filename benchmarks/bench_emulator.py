"""The embedded emulator: its lifecycle (start, stop, reset) and its sustained login throughput.

Lifecycle: ``Emulator()`` + ``start()``, ``stop()`` (with a kept-alive client connection open),
and ``reset()`` after a test's worth of data, each repeated; the median and p90 are printed
with the goals (start ≤ 20 ms, stop ≤ 10 ms, reset ≤ 5 ms), and, as a baseline in the same
process, the stop of ``socketserver``'s ``serve_forever`` loop at the 50 ms poll interval the
emulator used before.

Throughput: client threads, each with its own app object (its own keep-alive connection), log
in for a fixed time. On a 2-core machine the clients share the cores with the server, so the
figures are a floor for the server alone.
"""

from __future__ import annotations

import argparse
import socketserver
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


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.9 * (len(ordered) - 1))] * 1000


def _lifecycle(rounds: int) -> None:
    starts, stops, resets, baseline = [], [], [], []
    for _ in range(rounds):
        began = time.perf_counter()
        emu = Emulator().start()
        starts.append(time.perf_counter() - began)
        app = emu.app()
        guest = app.users.login_as_guest()  # leaves a kept-alive connection open
        for n in range(5):
            emu.seed_user("github", email=f"u{n}@example.com", guest=guest if n == 0 else None)
        emu.set_fault("delay", delay=0, count=None, path="never")
        began = time.perf_counter()
        emu.reset()
        resets.append(time.perf_counter() - began)
        began = time.perf_counter()
        emu.stop()
        stops.append(time.perf_counter() - began)
        emu.close()
        app.close()

        server = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        time.sleep(0.001)
        began = time.perf_counter()
        server.shutdown()
        baseline.append(time.perf_counter() - began)
        server.server_close()
        thread.join()
    print(f"{rounds} rounds")
    print(f"{'step':<40}{'median ms':>10}{'p90 ms':>10}{'goal ms':>10}")
    for name, samples, goal in (
        ("Emulator() + start()", starts, "20"),
        ("stop() (a client connection open)", stops, "10"),
        ("reset() (users, sessions, a fault)", resets, "5"),
        ("baseline: serve_forever(0.05) shutdown", baseline, ""),
    ):
        median, p90 = _ms(samples)
        print(f"{name:<40}{median:>10.2f}{p90:>10.2f}{goal:>10}")
    print(f"stop / baseline stop: {statistics.median(stops) / statistics.median(baseline):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=30, help="lifecycle rounds")
    args = parser.parse_args(argv)
    _lifecycle(args.rounds)
    print()
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
