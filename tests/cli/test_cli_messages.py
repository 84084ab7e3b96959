"""Messages that point at the fix, and commands that fail before they send anything."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendless_auth import Backendless, ConfigurationError
from backendless_auth.emulator import Emulator

MODULE = [sys.executable, "-m", "backendless_auth"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    "command",
    [[*MODULE, "emulator"], [sys.executable, "-m", "backendless_auth.emulator"]],
    ids=["backendless-auth emulator", "python -m backendless_auth.emulator"],
)
def test_the_emulator_on_a_port_in_use_says_one_line_and_exits_2(
    command: list[str], busy_port: int
) -> None:
    result = subprocess.run(
        [*command, "--port", str(busy_port)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("emulator: ")
    assert str(busy_port) in lines[0]
    assert "in use" in lines[0]


def test_the_emulator_help_names_the_command_it_was_run_as() -> None:
    result = subprocess.run(
        [*MODULE, "emulator", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: backendless-auth emulator ")


VARIABLES = ("BACKENDLESS_APP_ID", "BACKENDLESS_API_KEY", "BACKENDLESS_DOMAIN")


@pytest.mark.parametrize(
    ("present", "missing"),
    [("BACKENDLESS_API_KEY", "BACKENDLESS_APP_ID"), ("BACKENDLESS_APP_ID", "BACKENDLESS_API_KEY")],
)
def test_from_env_names_the_missing_variable(present: str, missing: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Backendless.from_env({present: "ABC-123"})
    assert missing in str(caught.value)
    assert "non-empty string" not in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "BACKENDLESS_APP_ID": st.sampled_from(["APP-1", "bad id", ""]),
            "BACKENDLESS_API_KEY": st.sampled_from(["KEY-1", "bad/key", ""]),
            "BACKENDLESS_DOMAIN": st.sampled_from(["https://x.backendless.app", ""]),
            "BACKENDLESS_SERVER_URL": st.sampled_from(["https://eu-api.backendless.com", ""]),
        },
    )
)
def test_every_refused_environment_names_a_variable(environ: dict[str, str]) -> None:
    message = ""
    try:
        Backendless.from_env(environ).close()
    except ConfigurationError as exc:
        message = str(exc)
    assert not message or "BACKENDLESS_" in message, message


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MODULE, *args], env=env, input="", capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("present", ["BACKENDLESS_API_KEY", "BACKENDLESS_APP_ID"])
def test_the_cli_names_the_missing_half_of_the_address(env: dict[str, str], present: str) -> None:
    partial = {key: value for key, value in env.items() if key not in VARIABLES}
    partial[present] = env[present]
    result = _cli(partial, "guest")
    assert result.returncode == 2
    missing = ({"BACKENDLESS_API_KEY", "BACKENDLESS_APP_ID"} - {present}).pop()
    assert missing in result.stderr
    assert ("--app-id" if missing.endswith("APP_ID") else "--api-key") in result.stderr


def test_an_option_completes_the_address_from_the_environment(
    env: dict[str, str], emu: Emulator
) -> None:
    partial = {key: value for key, value in env.items() if key != "BACKENDLESS_APP_ID"}
    result = _cli(partial, "--app-id", emu.app_id, "guest", "--json")
    assert result.returncode == 0, result.stderr


def test_after_an_expiry_the_hint_is_to_log_in_again_not_to_be_a_guest(
    env: dict[str, str], emu: Emulator
) -> None:
    account = emu.add_account("google", email="expiring@example.com", name="Expiring")
    token = emu.provider_token("google", account)
    login = subprocess.run(
        [*MODULE, "login", "google", "--access-token", "-", "--stay"],
        env=env,
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 0, login.stderr
    user_token = _cli(env, "token").stdout.strip()
    assert emu.expire_sessions(user_token) == 1
    result = _cli(env, "whoami")
    assert result.returncode == 1
    assert "expired" in result.stderr
    assert "guest --stay" not in result.stderr
    assert "Traceback" not in result.stderr


def test_nobody_logged_in_hints_at_both_ways(env: dict[str, str]) -> None:
    result = _cli(env, "whoami")
    assert result.returncode == 1
    assert "login PROVIDER" in result.stderr
    assert "guest --stay" in result.stderr


def _users(emu: Emulator) -> list[dict[str, Any]]:
    return emu.users()


@pytest.mark.parametrize(
    "login",
    [["guest", "--stay"], ["login", "google", "--access-token", "tok", "--stay"]],
    ids=["guest", "oauth2"],
)
def test_a_store_that_cannot_save_fails_before_anything_is_sent(
    env: dict[str, str], emu: Emulator, login: list[str]
) -> None:
    before = len(_users(emu))
    broken = {
        **env,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "BACKENDLESS_TOKEN_STORE": "keyring",
    }
    result = _cli(broken, *login)
    assert result.returncode == 4, result.stderr
    assert "TokenStoreError" in result.stderr
    assert len(_users(emu)) == before, "a login reached the server before the store failed"


def test_a_file_store_in_a_folder_it_cannot_write_fails_before_anything_is_sent(
    env: dict[str, str], emu: Emulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = len(_users(emu))
    result = _cli(
        {**env, "BACKENDLESS_TOKEN_STORE_PATH": str(blocker / "sessions")},
        "guest",
        "--stay",
        "--json",
    )
    assert result.returncode == 4, result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["error"]["type"] == "TokenStoreError"
    assert len(_users(emu)) == before, "a guest was created before the store failed"


REPORT = """
import sys
heavy = sorted(name for name in ("requests", "urllib3", "keyring", "oauthlib", "werkzeug",
                                 "filelock", "platformdirs", "attrs", "attr", "inspect",
                                 "dataclasses", "platform", "httpx", "anyio", "asyncio")
               if name in sys.modules)
print("IMPORTED", ",".join(heavy))
"""
PROBE = f"""
import sys
from backendless_auth.cli import main
status = main(sys.argv[1:])
{REPORT}
raise SystemExit(status)
"""


def test_token_reads_the_store_without_importing_an_http_client(
    env: dict[str, str], emu: Emulator
) -> None:
    """``$(backendless-auth token)`` in a shell loop: no network, so no requests; a read of a
    file store in a named folder needs neither its lock (filelock) nor platformdirs."""
    assert _cli(env, "guest", "--stay").returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "token"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    token, imported = result.stdout.splitlines()
    assert imported == "IMPORTED ", imported
    assert token == _cli(env, "token", "--check").stdout.strip()


def test_valid_imports_the_http_client_and_nothing_else_it_does_not_use(
    env: dict[str, str], emu: Emulator
) -> None:
    """``backendless-auth valid || exit 1`` in a shell loop: requests for the one call, and none
    of what only other commands need (attrs, which the user objects are built with, inspect,
    the async stack, the store's lock)."""
    assert _cli(env, "guest", "--stay").returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "valid"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # What requests itself brings is requests' (Python 3.13's importlib.metadata imports
    # inspect, say); nothing of the list beyond it.
    requests_alone = subprocess.run(
        [sys.executable, "-c", "import requests\n" + REPORT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert requests_alone.returncode == 0, requests_alone.stderr
    assert result.stdout.splitlines()[-1] == requests_alone.stdout.splitlines()[-1]
    assert "attrs" not in result.stdout.splitlines()[-1]


def test_token_without_a_session_says_so_without_the_network(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "token"],
        env={**env, "BACKENDLESS_SERVER_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "not logged in" in result.stderr
