"""Per-call overhead of the SDK against the same request made with a bare ``requests.Session``.

The server answers canned bytes at once on loopback, so what differs is the client. Prints the
median ratio over interleaved rounds and the absolute overhead per call; ``http.client`` is
printed as the floor. Never asserts time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from instant_server import InstantServer

from backendless_auth import Backendless

APP_ID = "BENCH-APP"
API_KEY = "BENCH-KEY"


def _timed(call: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def _cases(
    server_url: str,
) -> dict[str, tuple[Callable[[], object], Callable[[], object], Callable[[], object]]]:
    app = Backendless(app_id=APP_ID, api_key=API_KEY, server_url=server_url)
    users = app.users
    users.login_as_guest()  # a session, so every call carries user-token as in real use
    token = users.user_token or ""
    base = f"{server_url}/{APP_ID}/{API_KEY}/"
    bare = requests.Session()
    port = int(server_url.rsplit(":", 1)[1])
    floor = http.client.HTTPConnection("127.0.0.1", port)
    json_headers = {"user-token": token, "Content-Type": "application/json"}
    login_body = json.dumps({"accessToken": "provider-access-token"}, separators=(",", ":"))

    def floor_call(method: str, path: str, body: str | None, headers: dict[str, str]) -> object:
        floor.request(method, f"/{APP_ID}/{API_KEY}/{path}", body=body, headers=headers)
        return json.loads(floor.getresponse().read())

    return {
        "login_with_oauth2": (
            lambda: users.login_with_oauth2("google", "provider-access-token"),
            lambda: bare.post(
                base + "users/oauth/google/login",
                data=login_body,
                headers=json_headers,
                timeout=(10, 30),
            ).json(),
            lambda: floor_call("POST", "users/oauth/google/login", login_body, json_headers),
        ),
        "login_as_guest": (
            lambda: users.login_as_guest(),
            lambda: bare.post(
                base + "users/register/guest", headers={"user-token": token}, timeout=(10, 30)
            ).json(),
            lambda: floor_call("POST", "users/register/guest", None, {"user-token": token}),
        ),
        "is_valid_login": (
            users.is_valid_login,
            lambda: bare.get(
                base + f"users/isvalidusertoken/{token}",
                headers={"user-token": token},
                timeout=(10, 30),
            ).json(),
            lambda: floor_call(
                "GET", f"users/isvalidusertoken/{token}", None, {"user-token": token}
            ),
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="calls per round and side")
    args = parser.parse_args(argv)
    with InstantServer() as server:
        cases = _cases(server.url)
        print(f"per-call overhead: {args.rounds} interleaved rounds x {args.calls} calls")
        print(
            f"{'call':<20}{'sdk µs':>10}{'requests µs':>13}{'http.client µs':>16}"
            f"{'overhead µs':>13}{'ratio':>8}"
        )
        for name, (sdk, bare, floor) in cases.items():
            for call in (sdk, bare, floor):  # warm up connections and caches
                _timed(call, 20)
            sdk_times, bare_times, floor_times, ratios = [], [], [], []
            for _ in range(args.rounds):
                s = _timed(sdk, args.calls)
                b = _timed(bare, args.calls)
                f = _timed(floor, args.calls)
                sdk_times.append(s)
                bare_times.append(b)
                floor_times.append(f)
                ratios.append(s / b)
            s, b, f = (statistics.median(x) * 1e6 for x in (sdk_times, bare_times, floor_times))
            print(
                f"{name:<20}{s:>10.1f}{b:>13.1f}{f:>16.1f}{s - b:>13.1f}"
                f"{statistics.median(ratios):>8.3f}"
            )
        print(f"TCP connections accepted by the server: {server.accepts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
