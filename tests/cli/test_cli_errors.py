"""Command-line failures: exit statuses 1, 2 and 3, one line on stderr, tracebacks with --debug.

The documented statuses are ``backendless_auth.cli.EXIT_STATUSES``: 0 done, 1 rejected, 2 usage,
3 network, 4 token store or internal error.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backendless_auth.cli import EXIT_STATUSES
from backendless_auth.emulator import Emulator

MODULE = [sys.executable, "-m", "backendless_auth"]
Run = Callable[..., subprocess.CompletedProcess[str]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("backendless-auth: error: ")
    return lines[0]


def test_the_documented_statuses() -> None:
    assert set(EXIT_STATUSES) == {0, 1, 2, 3, 4, 130}


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["login"],
        ["guest", "--no-such-option"],
        ["--store", "nowhere", "guest"],
        ["login", "google", "--browser", "--access-token", "x"],
    ],
)
def test_a_bad_command_line_exits_2(run: Run, args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr


def test_no_command_exits_2(run: Run) -> None:
    result = run()
    assert result.returncode == 2
    assert "a command is required" in result.stderr


def test_login_without_a_token_or_browser_exits_2(run: Run) -> None:
    line = _one_error_line(run("login", "google"))
    assert "--access-token" in line


def test_a_bad_map_exits_2(run: Run) -> None:
    line = _one_error_line(run("login", "google", "--access-token", "abcdef", "--map", "email"))
    assert "PROVIDER_FIELD=COLUMN" in line


def test_a_bad_provider_code_exits_2_before_any_request(run: Run) -> None:
    line = _one_error_line(run("login", "go/ogle", "--access-token", "abcdef"))
    assert "InvalidArgumentError" in line


def test_no_app_configured_exits_2(run: Run, env: dict[str, str]) -> None:
    bare = {key: value for key, value in env.items() if not key.startswith("BACKENDLESS_APP")}
    bare.pop("BACKENDLESS_API_KEY")
    result = subprocess.run(
        [*MODULE, "whoami"], env=bare, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "--app-id" in line
    assert "BACKENDLESS_APP_ID" in line


def test_plain_http_to_a_remote_host_exits_2(run: Run) -> None:
    result = run("--server-url", "http://example.com", "guest")
    assert result.returncode == 2
    _one_error_line(result)


def test_a_rejected_access_token_exits_1(run: Run) -> None:
    result = run("login", "google", "--access-token", "not-a-real-token-123456")
    assert result.returncode == 1
    line = _one_error_line(result)
    assert "code 3060" in line
    assert "not-a-real-token-123456" not in result.stderr


def test_a_wrong_api_key_exits_1(run: Run) -> None:
    result = run("guest", extra_env={"BACKENDLESS_API_KEY": "WRONG-KEY"})
    assert result.returncode == 1
    assert "UnknownApplicationError" in _one_error_line(result)


def test_not_logged_in_exits_1(run: Run) -> None:
    assert "not logged in" in _one_error_line(run("whoami"))


def test_an_unreachable_server_exits_3(run: Run) -> None:
    result = run("--server-url", f"http://127.0.0.1:{_closed_port()}", "guest")
    assert result.returncode == 3
    assert "NetworkError" in _one_error_line(result)


def test_a_dropped_connection_exits_3(run: Run, emu: Emulator) -> None:
    emu.set_fault("reset", path="register/guest", count=None)
    try:
        result = run("guest")
    finally:
        emu.clear_faults()
    assert result.returncode == 3
    _one_error_line(result)


class _HtmlPage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_that_is_not_backendless_exits_3(run: Run) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run("--domain", f"http://127.0.0.1:{server.server_port}", "guest")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 3
    assert "HTML" in _one_error_line(result)


def test_json_errors_are_one_json_line(run: Run) -> None:
    result = run("--json", "whoami")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    error = json.loads(lines[0])["error"]
    assert error["exitStatus"] == 1
    assert error["type"] == "NotLoggedIn"
    assert "not logged in" in error["message"]


def test_json_error_carries_the_backendless_code(run: Run) -> None:
    result = run("--json", "login", "google", "--access-token", "not-a-real-token-123456")
    error = json.loads(result.stderr)["error"]
    assert error == {
        "code": 3060,
        "exitStatus": 1,
        "message": error["message"],
        "type": "ProviderError",
    }


def test_json_usage_errors_are_json_too(run: Run) -> None:
    result = run("--json", "guest", "--bogus")
    assert result.returncode == 2
    assert json.loads(result.stderr)["error"]["exitStatus"] == 2
    assert json.loads(result.stderr)["error"]["type"] == "UsageError"


def test_debug_shows_the_traceback_and_a_redacted_log(run: Run, emu: Emulator) -> None:
    result = run("--debug", "login", "google", "--access-token", "not-a-real-token-123456")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ProviderError" in result.stderr
    assert emu.api_key not in result.stderr
    assert "not-a-real-token-123456" not in result.stderr


def test_debug_log_masks_the_user_token(run: Run, emu: Emulator) -> None:
    assert run("guest", "--stay").returncode == 0
    token = run("token").stdout.strip()
    result = run("--debug", "valid")
    assert result.returncode == 0
    assert "isvalidusertoken" in result.stderr  # urllib3's request line, with the token masked
    assert token not in result.stderr
    assert emu.api_key not in result.stderr


def test_no_command_prints_the_api_key(run: Run, emu: Emulator) -> None:
    # Not `url`: the authorization URL is the server's, and may name its callback address.
    outputs = [
        run("guest", "--stay"),
        run("whoami"),
        run("valid"),
        run("logout"),
        run("--debug", "guest"),
    ]
    for result in outputs:
        assert emu.api_key not in result.stdout + result.stderr


def test_a_broken_store_exits_4(run: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store wants a folder")
    result = run("--store-path", str(blocker), "guest", "--stay")
    assert result.returncode == 4
    assert "TokenStoreError" in _one_error_line(result)


def test_upgrade_guest_with_the_browser_is_refused_before_any_request(
    run: Run, emu: Emulator
) -> None:
    emu.set_fault("error", count=None, status=503)
    try:
        result = run("login", "google", "--browser", "--upgrade-guest")
    finally:
        emu.clear_faults()
    assert result.returncode == 2
    assert "--upgrade-guest" in _one_error_line(result)


def test_a_stray_secret_variable_does_not_turn_oauth2_into_oauth1(run: Run, emu: Emulator) -> None:
    account = emu.add_account("google", email="stray@example.com", name="Stray")
    result = run(
        "login",
        "google",
        "--access-token",
        "-",
        "--json",
        input=emu.provider_token("google", account) + "\n",
        extra_env={"BACKENDLESS_ACCESS_TOKEN_SECRET": "left-over-secret"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["user"]["email"] == "stray@example.com"


def test_an_access_token_starting_with_a_dash_is_a_value(run: Run, emu: Emulator) -> None:
    # URL-safe base64 tokens may start with '-'; argparse alone would take it for an option.
    result = run("login", "google", "--access-token", "-not-an-option-token", "--json")

    assert "expected one argument" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert EXIT_STATUSES[1].startswith("rejected")
