"""Per-call overhead of the SDK against the same request made with a bare ``requests.Session``.

The server answers canned bytes at once on loopback, so what differs is the client. Two
baselines: a bare ``requests.Session`` as people write it (it reads proxy variables, CA bundle
variables and ``~/.netrc`` on every call), and one with ``trust_env = False`` (the environment
read never), which is what the SDK's own session amounts to, since it reads the environment
once per origin. ``http.client`` on one kept-alive connection is the floor. Prints medians over
interleaved rounds; never asserts time.
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

from instant_server import USER, InstantServer, InstantServerProcess

from backendless_auth import Backendless, HttpResponse

APP_ID = "BENCH-APP"
API_KEY = "BENCH-KEY"
CLIENTS = ("sdk", "requests", "requests, no env", "http.client")
Call = Callable[[], object]


def _timed(call: Call, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def _cases(server_url: str) -> dict[str, dict[str, Call]]:
    app = Backendless(app_id=APP_ID, api_key=API_KEY, server_url=server_url)
    users = app.users
    users.login_as_guest()  # a session, so every call carries user-token as in real use
    token = users.user_token or ""
    base = f"{server_url}/{APP_ID}/{API_KEY}/"
    bare = requests.Session()
    no_env = requests.Session()
    no_env.trust_env = False
    port = int(server_url.rsplit(":", 1)[1])
    floor = http.client.HTTPConnection("127.0.0.1", port)
    json_headers = {"user-token": token, "Content-Type": "application/json"}
    token_header = {"user-token": token}
    login_body = json.dumps({"accessToken": "provider-access-token"}, separators=(",", ":"))

    def with_requests(session: requests.Session, method: str, path: str, body: str | None) -> Call:
        headers = json_headers if body is not None else token_header
        url = base + path
        return lambda: session.request(
            method, url, data=body, headers=headers, timeout=(10, 30), allow_redirects=False
        ).json()

    def with_http_client(method: str, path: str, body: str | None) -> Call:
        headers = json_headers if body is not None else token_header
        target = f"/{APP_ID}/{API_KEY}/{path}"

        def call() -> object:
            floor.request(method, target, body=body, headers=headers)
            return json.loads(floor.getresponse().read())

        return call

    requests_cases = {
        "login_with_oauth2": ("POST", "users/oauth/google/login", login_body),
        "login_as_guest": ("POST", "users/register/guest", None),
        "is_valid_login": ("GET", f"users/isvalidusertoken/{token}", None),
    }
    sdk_calls: dict[str, Call] = {
        "login_with_oauth2": lambda: users.login_with_oauth2("google", "provider-access-token"),
        "login_as_guest": users.login_as_guest,
        "is_valid_login": users.is_valid_login,
    }
    return {
        name: {
            "sdk": sdk_calls[name],
            "requests": with_requests(bare, *request),
            "requests, no env": with_requests(no_env, *request),
            "http.client": with_http_client(*request),
        }
        for name, request in requests_cases.items()
    }


class _CannedTransport:
    """Answers every call at once from memory: what is left is the SDK's own work."""

    def send(
        self, method: str, url: str, *, headers: object, body: bytes | None, label: str
    ) -> HttpResponse:
        if label.startswith("users/isvalidusertoken"):
            return HttpResponse(200, {"content-type": "application/json"}, b"true")
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(USER).encode())

    def close(self) -> None:
        pass


def _sdk_alone(rounds: int, calls: int) -> None:
    users = Backendless(app_id=APP_ID, api_key=API_KEY, transport=_CannedTransport()).users
    users.login_as_guest()
    cases: dict[str, Call] = {
        "login_with_oauth2": lambda: users.login_with_oauth2("google", "provider-access-token"),
        "login_as_guest": users.login_as_guest,
        "is_valid_login": users.is_valid_login,
    }
    print("\nthe SDK's own work per call (a canned transport, no I/O), µs:")
    for name, call in cases.items():
        _timed(call, 200)
        median = statistics.median(_timed(call, calls * 10) for _ in range(rounds))
        print(f"{name:<19}{median * 1e6:>10.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="calls per round and client")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="serve from a thread of this process (shares the GIL with the clients measured)",
    )
    args = parser.parse_args(argv)
    server: InstantServer | InstantServerProcess = (
        InstantServer() if args.in_process else InstantServerProcess()
    )
    with server:
        cases = _cases(server.url)
        print(f"per-call time, µs: median of {args.rounds} interleaved rounds x {args.calls} calls")
        print(
            f"{'call':<19}"
            + "".join(f"{client:>18}" for client in CLIENTS)
            + f"{'sdk/requests':>14}{'sdk/no env':>12}{'overhead µs':>13}"
        )
        for name, clients in cases.items():
            for call in clients.values():  # warm up connections and caches
                _timed(call, 20)
            times: dict[str, list[float]] = {client: [] for client in CLIENTS}
            ratios: dict[str, list[float]] = {"requests": [], "requests, no env": []}
            for _ in range(args.rounds):
                measured = {client: _timed(clients[client], args.calls) for client in CLIENTS}
                for client, seconds in measured.items():
                    times[client].append(seconds)
                for baseline, values in ratios.items():
                    values.append(measured["sdk"] / measured[baseline])
            median = {client: statistics.median(values) * 1e6 for client, values in times.items()}
            print(
                f"{name:<19}"
                + "".join(f"{median[client]:>18.1f}" for client in CLIENTS)
                + f"{statistics.median(ratios['requests']):>14.3f}"
                + f"{statistics.median(ratios['requests, no env']):>12.3f}"
                + f"{median['sdk'] - median['requests, no env']:>13.1f}"
            )
        print("overhead µs: the SDK's time less the 'requests, no env' baseline's")
    print(f"TCP connections accepted by the server: {server.accepts}")
    _sdk_alone(args.rounds, args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
