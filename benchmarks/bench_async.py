"""The async SDK: per-call time against a bare ``httpx.AsyncClient``, and concurrent throughput.

Against the instant loopback server (a child process, canned answers at once), so that what
differs is the client:

1. per-call time of :class:`~backendless_auth.AsyncBackendless` against a bare
   ``httpx.AsyncClient`` making the same requests (method, path, headers, body) one after the
   other on one kept-alive connection; medians over interleaved rounds, and their ratio;
2. 200 concurrent ``is_valid_login`` tasks on one event loop against the blocking SDK called
   from 16 threads (one shared app each side): calls per second, p50 and p99 latency.

Run under asyncio by default, ``--backend trio`` for trio. Prints figures; never asserts time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_threads import _run as _threads_run
from instant_server import InstantServerProcess

from backendless_auth import AsyncBackendless, Backendless, HttpResponse

APP_ID = "BENCH-APP"
API_KEY = "BENCH-KEY"
CallAsync = Callable[[], Awaitable[object]]


async def _timed(call: CallAsync, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return (time.perf_counter() - started) / count


async def per_call(server_url: str, rounds: int, calls: int) -> None:
    async with AsyncBackendless(app_id=APP_ID, api_key=API_KEY, server_url=server_url) as app:
        users = app.users
        await users.login_as_guest()
        token = users.user_token or ""
        base = f"{server_url}/{APP_ID}/{API_KEY}/"
        # The bare baseline as the SDK's own client is set up: no redirects, a timeout.
        bare = httpx.AsyncClient(timeout=httpx.Timeout(30, connect=10), follow_redirects=False)
        json_headers = {"user-token": token, "Content-Type": "application/json"}
        token_header = {"user-token": token}
        login_body = json.dumps({"accessToken": "provider-access-token"}, separators=(",", ":"))

        def with_httpx(method: str, path: str, body: str | None) -> CallAsync:
            headers = json_headers if body is not None else token_header
            url = base + path
            content = body.encode() if body is not None else None

            async def call() -> object:
                answer = await bare.request(method, url, content=content, headers=headers)
                return answer.json()

            return call

        cases: dict[str, tuple[CallAsync, CallAsync]] = {
            "login_with_oauth2": (
                lambda: users.login_with_oauth2("google", "provider-access-token"),
                with_httpx("POST", "users/oauth/google/login", login_body),
            ),
            "login_as_guest": (
                users.login_as_guest,
                with_httpx("POST", "users/register/guest", None),
            ),
            "is_valid_login": (
                users.is_valid_login,
                with_httpx("GET", f"users/isvalidusertoken/{token}", None),
            ),
        }
        print(
            f"per-call time, µs: median of {rounds} interleaved rounds x {calls} calls, "
            "one after the other"
        )
        print(f"{'call':<19}{'async sdk':>12}{'bare httpx':>12}{'sdk/httpx':>11}{'overhead':>10}")
        async with bare:
            for name, (sdk, baseline) in cases.items():
                await _timed(sdk, 20)  # warm up connections and caches
                await _timed(baseline, 20)
                sdk_times: list[float] = []
                bare_times: list[float] = []
                ratios: list[float] = []
                for _ in range(rounds):
                    s = await _timed(sdk, calls)
                    b = await _timed(baseline, calls)
                    sdk_times.append(s)
                    bare_times.append(b)
                    ratios.append(s / b)
                s_med = statistics.median(sdk_times) * 1e6
                b_med = statistics.median(bare_times) * 1e6
                print(
                    f"{name:<19}{s_med:>12.1f}{b_med:>12.1f}"
                    f"{statistics.median(ratios):>11.3f}{s_med - b_med:>10.1f}"
                )
        print("overhead: µs per call, the SDK's median less the bare client's")


class _CannedTransport:
    """Answers at once from memory: what is left is the SDK's own work and the driver's."""

    async def send(
        self, method: str, url: str, *, headers: object, body: bytes | None, label: str
    ) -> HttpResponse:
        from instant_server import USER

        if label == "is_valid_login":
            return HttpResponse(200, {"content-type": "application/json"}, b"true")
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(USER).encode())

    async def aclose(self) -> None:
        pass


async def sdk_alone(rounds: int, calls: int) -> None:
    app = AsyncBackendless(app_id=APP_ID, api_key=API_KEY, transport=_CannedTransport())
    users = app.users
    await users.login_as_guest()
    cases: dict[str, CallAsync] = {
        "login_with_oauth2": lambda: users.login_with_oauth2("google", "provider-access-token"),
        "login_as_guest": users.login_as_guest,
        "is_valid_login": users.is_valid_login,
    }
    print("\nthe async SDK's own work per call (a canned transport, no I/O), µs:")
    for name, call in cases.items():
        await _timed(call, 200)
        median = statistics.median([await _timed(call, calls * 10) for _ in range(rounds)])
        print(f"{name:<19}{median * 1e6:>10.1f}")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _async_round(call: CallAsync, tasks: int, calls: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def worker() -> None:
        for _ in range(calls):
            began = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(worker)
    return time.perf_counter() - began, latencies


def _threads_round(users: Backendless, threads: int, calls: int) -> tuple[float, list[float]]:
    return _threads_run(users.is_valid_login, threads, calls)


async def concurrency(
    server_url: str, tasks: int, threads: int, total: int, rounds: int
) -> dict[str, float]:
    sync_app = Backendless(app_id=APP_ID, api_key=API_KEY, server_url=server_url)
    sync_app.users.login_as_guest()
    # The bare baseline with the pool the SDK's own client has (32 connections, all kept).
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    bare = httpx.AsyncClient(timeout=httpx.Timeout(30, connect=10), limits=limits)
    async with (
        bare,
        AsyncBackendless(app_id=APP_ID, api_key=API_KEY, server_url=server_url) as app,
    ):
        await app.users.login_as_guest()
        token = app.users.user_token or ""
        url = f"{server_url}/{APP_ID}/{API_KEY}/users/isvalidusertoken/{token}"

        async def bare_check() -> object:
            return (await bare.get(url, headers={"user-token": token})).json()

        clients: dict[str, CallAsync] = {
            "async sdk": app.users.is_valid_login,
            "bare httpx": bare_check,
        }
        per_task = max(1, total // tasks)
        per_thread = max(1, total // threads)
        print(
            f"\nis_valid_login, {tasks} tasks x {per_task} calls on one event loop against "
            f"{threads} threads x {per_thread} calls (one shared app each), "
            f"{rounds} interleaved rounds (medians)"
        )
        for call in clients.values():
            await _async_round(call, tasks, 2)  # warm up the pool
        await anyio.to_thread.run_sync(_threads_round, sync_app.users, threads, 5)
        rates: dict[str, list[float]] = {name: [] for name in (*clients, "sync, threads")}
        lat: dict[str, list[float]] = {name: [] for name in rates}
        for _ in range(rounds):
            for name, call in clients.items():
                elapsed, measured = await _async_round(call, tasks, per_task)
                rates[name].append(tasks * per_task / elapsed)
                lat[name].extend(measured)
            elapsed, measured = await anyio.to_thread.run_sync(
                _threads_round, sync_app.users, threads, per_thread
            )
            rates["sync, threads"].append(threads * per_thread / elapsed)
            lat["sync, threads"].extend(measured)
    sync_app.close()
    print(f"{'client':<18}{'calls/s':>10}{'p50 µs':>10}{'p99 µs':>10}")
    results = {}
    for name in rates:
        results[name] = statistics.median(rates[name])
        print(
            f"{name:<18}{results[name]:>10.0f}{statistics.median(lat[name]) * 1e6:>10.0f}"
            f"{_quantile(lat[name], 0.99) * 1e6:>10.0f}"
        )
    ratio = results["async sdk"] / results["sync, threads"]
    print(f"throughput ratio async sdk / sync sdk with {threads} threads: {ratio:.3f}")
    ratio = results["async sdk"] / results["bare httpx"]
    print(f"throughput ratio async sdk / bare httpx, {tasks} tasks each: {ratio:.3f}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=200, help="calls per round, per client")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--total", type=int, default=3200, help="calls per concurrency round")
    args = parser.parse_args(argv)

    async def run() -> None:
        with InstantServerProcess() as server:
            await per_call(server.url, args.rounds, args.calls)
            await sdk_alone(args.rounds, args.calls)
            await concurrency(server.url, args.tasks, args.threads, args.total, args.rounds)
        print(f"\nTCP connections accepted by the server: {server.accepts}")

    print(f"event loop: {args.backend}")
    anyio.run(run, backend=args.backend)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
