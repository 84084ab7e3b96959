"""The command line, run as a real process against an emulator started in the test process.

Each test gets its own file token store (a fresh folder), so sessions persist between the
invocations of one test and never leak into another.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

import backendless_auth
from backendless_auth.demo import sign_in_with_requests
from backendless_auth.emulator import Emulator

IN_CI = os.environ.get("CI", "").lower() == "true"
MODULE = [sys.executable, "-m", "backendless_auth"]
Run = Callable[..., subprocess.CompletedProcess[str]]


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """The CLI in the background, for a flow the test finishes (or interrupts) from outside."""
    return subprocess.Popen(
        [*MODULE, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _token_of(run: Run) -> str:
    result = run("token")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_console_script_runs_the_same_command_line(env: dict[str, str]) -> None:
    script = Path(sysconfig.get_path("scripts")) / "backendless-auth"
    if not script.exists():
        if IN_CI:
            pytest.fail("the backendless-auth console script is not installed")
        pytest.skip("the backendless-auth console script is not installed")
    result = subprocess.run(
        [str(script), "--json", "guest"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["user"]["userStatus"] == "GUEST"


def test_guest_stay_then_whoami_token_valid_logout(
    run: Run, env: dict[str, str], emu: Emulator
) -> None:
    guest = _json(run("guest", "--stay", "--json"))
    assert guest["stored"] is True
    object_id = guest["user"]["objectId"]
    assert guest["user"]["userStatus"] == "GUEST"
    assert "user-token" not in guest["user"]

    whoami = _json(run("whoami", "--json"))
    assert whoami["user"]["objectId"] == object_id
    assert whoami["store"]["kind"] == "file"
    assert whoami["store"]["path"] == env["BACKENDLESS_TOKEN_STORE_PATH"]
    token = _token_of(run)
    sessions = [u for u in emu.users() if u["objectId"] == object_id]
    assert sessions, "the emulator knows the guest"
    assert _json(run("valid", "--json")) == {"valid": True, "loggedIn": True}

    logout = run("logout")
    assert logout.returncode == 0, logout.stderr
    assert logout.stdout.strip() == "logged out"
    assert token not in logout.stdout + logout.stderr

    after = run("valid")
    assert after.returncode == 1
    assert after.stdout.strip() == "not logged in"
    assert run("whoami").returncode == 1
    assert run("token").returncode == 1


def test_a_login_without_stay_is_not_kept(run: Run) -> None:
    result = run("guest")
    assert result.returncode == 0, result.stderr
    assert "not kept" in result.stdout
    assert run("valid").returncode == 1


def test_text_output_is_readable_and_holds_no_token(run: Run) -> None:
    result = run("guest", "--stay")
    assert result.returncode == 0, result.stderr
    token = _token_of(run)
    assert "userStatus" in result.stdout
    assert "GUEST" in result.stdout
    assert token not in result.stdout + result.stderr
    whoami = run("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert token not in whoami.stdout + whoami.stderr


def test_token_prints_only_the_token_for_command_substitution(
    run: Run, env: dict[str, str], emu: Emulator
) -> None:
    run("guest", "--stay")
    result = run("token")
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    token = result.stdout.strip()
    # The shell idiom: TOKEN="$(backendless-auth token)", then use it as the user-token header.
    shell = subprocess.run(
        [
            "sh",
            "-c",
            'TOKEN="$("$0" -m backendless_auth token)" || exit 9; printf %s "$TOKEN"',
            sys.executable,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout == token
    answer = requests.get(f"{emu.base_url}/users/isvalidusertoken/{token}", timeout=10)
    assert answer.json() is True
    assert _json(run("token", "--json")) == {"userToken": token}
    checked = run("token", "--check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == token


def test_token_check_fails_when_the_server_expired_the_session(run: Run, emu: Emulator) -> None:
    run("guest", "--stay")
    token = _token_of(run)
    assert emu.expire_sessions(token) == 1
    checked = run("token", "--check")
    assert checked.returncode == 1
    assert checked.stdout == ""
    assert token not in checked.stderr
    assert run("valid").returncode == 1


def test_login_with_an_oauth2_access_token_and_field_mapping(run: Run, emu: Emulator) -> None:
    account = emu.add_account("google", email="carol@example.com", name="Carol")
    access_token = emu.provider_token("google", account)
    result = run(
        "login",
        "google",
        "--access-token",
        access_token,
        "--map",
        "email=email",
        "--map",
        "name=name",
        "--stay",
        "--json",
    )
    document = _json(result)
    assert document["user"]["email"] == "carol@example.com"
    assert document["user"]["name"] == "Carol"
    assert document["stored"] is True
    assert access_token not in result.stdout + result.stderr
    assert _json(run("whoami", "--json"))["user"]["email"] == "carol@example.com"


def test_login_reads_the_access_token_from_stdin(run: Run, emu: Emulator) -> None:
    account = emu.add_account("github", email="dan@example.com", name="Dan")
    access_token = emu.provider_token("github", account)
    result = run("login", "github", "--access-token", "-", "--json", input=access_token + "\n")
    assert _json(result)["user"]["email"] == "dan@example.com"
    assert access_token not in result.stdout + result.stderr


def test_login_reads_the_access_token_from_the_environment(run: Run, emu: Emulator) -> None:
    account = emu.add_account("linkedin", email="eve@example.com", name="Eve")
    access_token = emu.provider_token("linkedin", account)
    result = run(
        "login", "linkedin", "--json", extra_env={"BACKENDLESS_ACCESS_TOKEN": access_token}
    )
    assert _json(result)["user"]["email"] == "eve@example.com"


def test_twitter_login_with_token_and_secret_from_stdin(run: Run, emu: Emulator) -> None:
    account = emu.add_account("twitter", email="fay@example.com", name="Fay")
    token, secret = emu.provider_token("twitter", account)
    result = run(
        "login",
        "twitter",
        "--access-token",
        "-",
        "--access-token-secret",
        "-",
        "--json",
        input=f"{token}\n{secret}\n",
    )
    document = _json(result)
    assert document["user"]["socialAccount"] == "TWITTER"
    assert secret not in result.stdout + result.stderr


def test_twitter_without_a_secret_is_a_usage_error(run: Run) -> None:
    result = run("login", "twitter", "--access-token", "abcdefgh")
    assert result.returncode == 2
    assert "--access-token-secret" in result.stderr


def test_upgrade_guest_keeps_the_objectid(run: Run, emu: Emulator) -> None:
    guest = _json(run("guest", "--stay", "--json"))["user"]
    account = emu.add_account("facebook", email="gus@example.com", name="Gus")
    access_token = emu.provider_token("facebook", account)
    upgraded = _json(
        run(
            "login",
            "facebook",
            "--access-token",
            access_token,
            "--upgrade-guest",
            "--stay",
            "--json",
        )
    )["user"]
    assert upgraded["objectId"] == guest["objectId"]
    assert upgraded["userStatus"] != "GUEST"


def test_upgrade_guest_without_a_session_is_rejected(run: Run, emu: Emulator) -> None:
    access_token = emu.provider_token("google", emu.accounts("google")[0])
    result = run("login", "google", "--access-token", access_token, "--upgrade-guest")
    assert result.returncode == 1
    assert "nobody is logged in" in result.stderr


def test_url_prints_the_authorization_url(run: Run, emu: Emulator) -> None:
    text = run("url", "google", "--scope", "openid email")
    assert text.returncode == 0, text.stderr
    url = text.stdout.strip()
    assert url.startswith(emu.url + "/_providers/google/authorize")
    document = _json(run("url", "google", "--json", "--redirect", "http://127.0.0.1:9/done"))
    assert document["url"].startswith(emu.url)


def test_options_work_before_and_after_the_command(run: Run) -> None:
    before = run("--json", "guest")
    after = run("guest", "--json")
    assert _json(before)["user"]["userStatus"] == "GUEST"
    assert _json(after)["user"]["userStatus"] == "GUEST"


def test_app_flags_override_the_environment(run: Run, emu: Emulator) -> None:
    result = run(
        "--app-id",
        emu.app_id,
        "--api-key",
        emu.api_key,
        "--server-url",
        emu.url,
        "guest",
        "--json",
        extra_env={"BACKENDLESS_APP_ID": "WRONG", "BACKENDLESS_API_KEY": "WRONG"},
    )
    assert _json(result)["user"]["userStatus"] == "GUEST"


def test_a_domain_app_from_the_flags(run: Run, emu: Emulator) -> None:
    result = run("--domain", emu.url, "guest", "--stay", "--json")
    assert _json(result)["user"]["userStatus"] == "GUEST"
    assert run("--domain", emu.url, "valid").returncode == 0
    # The domain app keeps its own session, apart from the app id one.
    assert run("valid").returncode == 1


def test_memory_store_lasts_one_command(run: Run) -> None:
    assert run("--store", "memory", "guest", "--stay").returncode == 0
    assert run("--store", "memory", "valid").returncode == 1


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == backendless_auth.__version__


def _read_url(stream: Any) -> str:
    for line in stream:
        if line.startswith("http://"):
            return str(line.strip())
    raise AssertionError("the command never printed the sign-in URL")


def test_login_with_the_browser_flow_and_no_open(env: dict[str, str], run: Run) -> None:
    process = _start(
        env, "login", "github", "--browser", "--no-open", "--stay", "--json", "--wait", "30"
    )
    try:
        assert process.stderr is not None
        url = _read_url(process.stderr)
        final = sign_in_with_requests(url, email="bob@example.com")
        assert final.startswith("http://127.0.0.1:")
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    document = json.loads(stdout)
    assert document["user"]["email"] == "bob@example.com"
    assert document["stored"] is True
    assert _json(run("whoami", "--json"))["user"]["email"] == "bob@example.com"


def test_a_denied_browser_login_exits_1(env: dict[str, str]) -> None:
    process = _start(env, "login", "google", "--browser", "--no-open", "--wait", "30")
    try:
        assert process.stderr is not None
        url = _read_url(process.stderr)
        page = requests.get(url, timeout=10)
        requests.post(page.url, data={"action": "deny"}, timeout=10)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1
    last = stderr.strip().splitlines()[-1]
    # Cancelled or failed, depending on how the server reports a denial: both are "rejected".
    assert last.startswith(
        ("backendless-auth: error: LoginCancelledError", "backendless-auth: error: LoginFlowError")
    )
    assert "Traceback" not in stderr


def test_a_browser_login_nobody_finishes_exits_1(run: Run) -> None:
    result = run("login", "google", "--browser", "--no-open", "--wait", "0.5")
    assert result.returncode == 1
    assert "LoginTimeoutError" in result.stderr.splitlines()[-1]


def test_the_emulator_command_runs_until_terminated(env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [*MODULE, "emulator", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if line.strip().startswith("URL:"):
                url = line.split("URL:", 1)[1].strip()
                break
        assert url is not None
        assert requests.get(f"{url}/_emulator/health", timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0


def test_the_emulator_command_takes_its_own_help(run: Run) -> None:
    result = run("emulator", "--help")
    assert result.returncode == 0
    assert "--port" in result.stdout


def test_the_demo_walks_every_flow_and_masks_tokens(run: Run) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    for title in (
        "Guest login",
        "OAuth2 login with a Google access token, upgrading the guest",
        "OAuth1 login with a Twitter token and secret",
        "Browser login",
        "Register a password account",
        "Confirm the address",
        "Log in with the password",
        "Stay logged in",
        "Restore the session",
        "Log out",
    ):
        assert title in result.stdout
    assert "yes: the guest became this user" in result.stdout
    for line in result.stdout.splitlines():
        if line.rstrip().endswith("(none)"):  # a registered user has no session yet
            continue
        if line.strip().startswith(("user-token", "access token", "token secret", "password")):
            assert line.rstrip().endswith("…"), line
            assert len(line.split()[-1]) == 5, line


def test_the_demo_as_json_lines(run: Run) -> None:
    result = run("demo", "--json")
    assert result.returncode == 0, result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert [step["step"] for step in steps] == list(range(1, len(steps) + 1))
    guest, upgraded = steps[1]["facts"], steps[2]["facts"]
    assert guest["userStatus"] == "GUEST"
    assert upgraded["objectId"] == guest["objectId"]


def test_ctrl_c_while_waiting_for_the_browser_exits_130(env: dict[str, str]) -> None:
    process = _start(env, "login", "google", "--browser", "--no-open", "--wait", "60")
    try:
        assert process.stderr is not None
        url = _read_url(process.stderr)
        assert url.startswith("http://")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
