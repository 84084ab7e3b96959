"""The account commands as real processes against an emulator: register, login --email,
confirm-email, password-reset, roles, update; passwords from stdin, the variable or a prompt,
never from argv; ``--json`` and the exit statuses."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backendless_auth.emulator import Emulator

Run = Callable[..., subprocess.CompletedProcess[str]]
PASSWORD = "Cli-pass 1234"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _fast_accounts(emu: Emulator) -> Iterator[None]:
    emu.configure_users(hashCost=10, emailConfirmation=False, roles=["Pro"])
    yield
    emu.configure_users(emailConfirmation=False)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _error(result: subprocess.CompletedProcess[str], status: int) -> Any:
    assert result.returncode == status, (result.stdout, result.stderr)
    return json.loads(result.stderr)["error"]


def test_register_then_login_with_the_password_from_stdin(run: Run, emu: Emulator) -> None:
    made = _json(
        run(
            "register",
            "--email",
            "cli-1@example.com",
            "--prop",
            "name=Ann",
            "--prop",
            "age=37",
            "--password-stdin",
            "--json",
            input=PASSWORD + "\n",
        )
    )
    assert made["user"]["email"] == "cli-1@example.com"
    assert made["user"]["name"] == "Ann"
    assert made["user"]["age"] == 37
    assert "password" not in made["user"]
    assert run("whoami").returncode == 1  # registration does not log in

    logged = _json(
        run(
            "login",
            "--email",
            "cli-1@example.com",
            "--password-stdin",
            "--stay",
            "--json",
            input=PASSWORD + "\n",
        )
    )
    assert logged["stored"] is True
    assert logged["user"]["objectId"] == made["user"]["objectId"]
    assert _json(run("whoami", "--json"))["user"]["email"] == "cli-1@example.com"

    roles = _json(run("roles", "--json"))["roles"]
    assert "AuthenticatedUser" in roles
    assert "AuthenticatedUser" in run("roles").stdout.splitlines()

    updated = _json(run("update", "--prop", "name=Ann B.", "--json"))
    assert updated["user"]["name"] == "Ann B."
    assert _json(run("whoami", "--json"))["user"]["name"] == "Ann B."


def test_the_password_from_the_variable_and_identity(run: Run) -> None:
    env = {"BACKENDLESS_PASSWORD": PASSWORD}
    assert run("register", "--email", "cli-2@example.com", extra_env=env).returncode == 0
    result = run("login", "--identity", "cli-2@example.com", "--json", extra_env=env)
    assert _json(result)["user"]["email"] == "cli-2@example.com"
    assert PASSWORD not in result.stdout + result.stderr


def test_wrong_password_and_duplicates_exit_1_with_their_class(run: Run) -> None:
    env = {"BACKENDLESS_PASSWORD": PASSWORD}
    assert run("register", "--email", "cli-3@example.com", extra_env=env).returncode == 0
    again = _error(run("register", "--email", "cli-3@example.com", "--json", extra_env=env), 1)
    assert again["type"] == "UserAlreadyExistsError"
    assert again["code"] == 3033
    wrong = run(
        "login",
        "--email",
        "cli-3@example.com",
        "--json",
        extra_env={"BACKENDLESS_PASSWORD": "not the password 1"},
    )
    error = _error(wrong, 1)
    assert error["type"] == "InvalidCredentialsError"
    assert "not the password 1" not in wrong.stderr


def test_no_password_anywhere_is_a_usage_error(run: Run) -> None:
    result = run("login", "--email", "x@example.com", "--json")  # stdin is not a terminal
    error = _error(result, 2)
    assert "--password-stdin" in error["message"]
    result = run("register", "--email", "x@example.com", "--password-stdin", "--json", input="")
    assert _error(result, 2)["type"] == "UsageError"


def test_a_password_on_the_command_line_is_refused(run: Run) -> None:
    result = run(
        "register", "--email", "x@example.com", "--prop", "password=Argv-pass 99", "--json"
    )
    assert _error(result, 2)["type"] == "UsageError"
    assert "Argv-pass 99" not in result.stderr
    for extra in (["--password", "p"], ["--password=p"]):
        assert run("login", "--email", "x@example.com", *extra).returncode == 2


def test_login_options_that_belong_to_a_provider_are_refused_with_email(run: Run) -> None:
    result = run("login", "--email", "x@example.com", "--browser", "--json")
    assert _error(result, 2)["type"] == "UsageError"
    result = run("login", "google", "--email", "x@example.com", "--json")
    assert _error(result, 2)["type"] == "UsageError"
    assert run("login", "--json").returncode == 2


def test_confirm_email_and_password_reset_land_in_the_outbox(run: Run, emu: Emulator) -> None:
    emu.configure_users(emailConfirmation=True)
    env = {"BACKENDLESS_PASSWORD": PASSWORD}
    made = run("register", "--email", "cli-4@example.com", extra_env=env)
    assert made.returncode == 0, made.stderr
    assert "confirmed" in made.stderr
    assert (
        _error(run("login", "--email", "cli-4@example.com", "--json", extra_env=env), 1)["type"]
        == "EmailNotConfirmedError"
    )
    before = len(emu.outbox(to="cli-4@example.com", kind="confirmation"))
    assert _json(run("confirm-email", "cli-4@example.com", "--json")) == {
        "sent": True,
        "to": "cli-4@example.com",
    }
    mails = emu.outbox(to="cli-4@example.com", kind="confirmation")
    assert len(mails) == before + 1
    assert "Email confirmed" in requests.get(mails[-1].link, timeout=10).text
    assert run("login", "--email", "cli-4@example.com", extra_env=env).returncode == 0

    result = run("password-reset", "cli-4@example.com")
    assert result.returncode == 0, result.stderr
    assert "cli-4@example.com" in result.stdout
    [mail] = emu.outbox(to="cli-4@example.com", kind="password-reset")
    assert mail.link.startswith(emu.url)
    missing = _error(run("password-reset", "nobody@example.com", "--json"), 1)
    assert missing["type"] == "UserNotFoundError"


def test_update_without_a_session_says_log_in(run: Run) -> None:
    error = _error(run("update", "--prop", "name=x", "--json"), 1)
    assert error["type"] == "NotLoggedIn"


def test_the_prompt_asks_twice_on_register_in_a_terminal(env: dict[str, str]) -> None:
    """getpass on a real terminal (a pty): the password is typed, never echoed, never in argv."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "backendless_auth", "register", "--email", "tty@example.com"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,  # no controlling terminal: getpass uses the pty on stdin
    )
    os.close(terminal)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while marker not in seen and time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk

    try:
        read_until(b"Password: ")
        os.write(controller, PASSWORD.encode() + b"\n")
        read_until(b"again: ")
        os.write(controller, PASSWORD.encode() + b"\n")
        read_until(b"tty@example.com")
        assert process.wait(30) == 0, seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert b"tty@example.com" in seen
    assert PASSWORD.encode() not in seen  # not echoed


def test_the_console_script_registers_and_logs_in(env: dict[str, str], tmp_path: Path) -> None:
    script = Path(sysconfig.get_path("scripts")) / "backendless-auth"
    if not script.exists():
        if IN_CI:
            pytest.fail("the backendless-auth console script is not installed")
        pytest.skip("the backendless-auth console script is not installed")
    environ = {**env, "BACKENDLESS_PASSWORD": PASSWORD}
    for args in (
        ["register", "--email", "script@example.com"],
        ["login", "--email", "script@example.com", "--stay"],
        ["--json", "roles"],
    ):
        result = subprocess.run(
            [str(script), *args], env=environ, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    assert "AuthenticatedUser" in json.loads(result.stdout)["roles"]
