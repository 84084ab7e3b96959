"""A browser login finished from another machine: the redirected address pasted into the CLI.

Over SSH or in a container the browser runs elsewhere; its last page (the loopback receiver
here) does not load there, and the person pastes its address. Tested with the real console
script, on a pipe (``--paste``) and at a terminal (a pty), where the prompt is offered unasked.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest

from backendless_auth.demo import sign_in_with_requests

IN_CI = os.environ.get("CI", "").lower() == "true"
LOOPBACK = "http://127.0.0.1:"
PLAIN = [sys.executable, "-m", "backendless_auth"]


def _script() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "backendless-auth"
    if not script.exists():
        if IN_CI:
            pytest.fail("the backendless-auth console script is not installed")
        pytest.skip("the backendless-auth console script is not installed")
    return [str(script)]


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    """The emulator named as ``localhost``, so that its own pages (``localhost``) and the CLI's
    loopback receiver (``127.0.0.1``) are told apart by the address alone."""
    server = env["BACKENDLESS_SERVER_URL"]
    return {**env, "BACKENDLESS_SERVER_URL": server.replace("127.0.0.1", "localhost")}


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*_script(), *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_url(stream: Any) -> str:
    for line in stream:
        if line.startswith("http://"):
            return str(line.strip())
    raise AssertionError("the command never printed the sign-in URL")


def _finish(process: subprocess.Popen[str], stdin: str | None = None) -> tuple[str, str]:
    try:
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin)
            process.stdin.close()
        stdout = process.stdout.read() if process.stdout else ""
        stderr = process.stderr.read() if process.stderr else ""
        process.wait(timeout=60)
        return stdout, stderr
    finally:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        if process.poll() is None:
            process.kill()
            process.wait()


def test_paste_finishes_the_login_with_the_redirected_address(
    env: dict[str, str], run: Any
) -> None:
    process = _start(env, "login", "github", "--browser", "--paste", "--stay", "--json")
    assert process.stderr is not None
    url = _read_url(process.stderr)
    # The browser "on another machine" never reaches our loopback: the address is pasted.
    redirected = sign_in_with_requests(url, email="bob@example.com", stop_at=LOOPBACK)
    assert redirected.startswith(LOOPBACK)
    stdout, stderr = _finish(process, stdin=f"\n  {redirected}  \n")
    assert process.returncode == 0, stderr
    document = json.loads(stdout)
    assert document["user"]["email"] == "bob@example.com"
    assert document["stored"] is True
    token = run("token").stdout.strip()
    assert token
    assert token not in stdout + stderr
    whoami = run("whoami", "--json")
    assert json.loads(whoami.stdout)["user"]["email"] == "bob@example.com"


def test_paste_still_accepts_the_loopback_redirect(env: dict[str, str]) -> None:
    """A browser on this machine reaches the receiver: that ends the wait for a paste."""
    process = _start(env, "login", "github", "--browser", "--paste", "--json", "--wait", "30")
    assert process.stderr is not None
    url = _read_url(process.stderr)
    final = sign_in_with_requests(url, email="bob@example.com")
    assert final.startswith(LOOPBACK)
    # stdin stays open (nothing pasted): the command must end on the redirect alone.
    stdout, stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert json.loads(stdout)["user"]["email"] == "bob@example.com"


def test_paste_of_a_denied_sign_in_exits_1(env: dict[str, str]) -> None:
    process = _start(env, "login", "google", "--browser", "--paste")
    assert process.stderr is not None
    url = _read_url(process.stderr)
    redirected = sign_in_with_requests(url, stop_at=LOOPBACK)
    denied = redirected.split("?", 1)[0] + "?error=access_denied&code=3060"
    _, stderr = _finish(process, stdin=denied + "\n")
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("backendless-auth: error: Login")


@pytest.mark.parametrize(
    "pasted",
    ["", "not a url\n", "http://127.0.0.1:9/cb?userId=only-an-id\n"],
    ids=["nothing", "not-a-url", "no-token"],
)
def test_paste_of_nothing_useful_is_a_usage_error(env: dict[str, str], pasted: str) -> None:
    process = _start(env, "login", "google", "--browser", "--paste", "--json")
    assert process.stderr is not None
    _read_url(process.stderr)
    _, stderr = _finish(process, stdin=pasted)
    assert process.returncode == 2, stderr
    error = json.loads(stderr.strip().splitlines()[-1])["error"]
    assert error["exitStatus"] == 2


def test_paste_goes_with_browser(run: Any) -> None:
    result = run("login", "google", "--access-token", "x", "--paste")
    assert result.returncode == 2
    assert "--paste" in result.stderr


def _read_until(fd: int, marker: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, seen.decode(errors="replace")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the pty closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_at_a_terminal_the_prompt_is_offered_without_paste(env: dict[str, str]) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*_script(), "login", "github", "--browser", "--no-open", "--wait", "60"],
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    try:
        assert process.stderr is not None
        url = _read_url(process.stderr)
        prompt = process.stderr.readline() + process.stderr.readline()
        assert "paste it here" in prompt
        redirected = sign_in_with_requests(url, email="bob@example.com", stop_at=LOOPBACK)
        os.write(leader, redirected.encode() + b"\n")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        os.close(leader)
    assert process.returncode == 0, stderr
    assert "bob@example.com" in stdout


def test_at_a_terminal_a_mistyped_paste_asks_again(env: dict[str, str]) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*_script(), "login", "github", "--browser", "--no-open", "--wait", "60"],
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    try:
        assert process.stderr is not None
        url = _read_url(process.stderr)
        os.write(leader, b"oops\n")
        assert "Paste it again" in _read_line_with(process.stderr, "Paste it again")
        redirected = sign_in_with_requests(url, email="bob@example.com", stop_at=LOOPBACK)
        os.write(leader, redirected.encode() + b"\n")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        os.close(leader)
    assert process.returncode == 0, stderr
    assert "bob@example.com" in stdout


def _read_line_with(stream: Any, text: str) -> str:
    for line in stream:
        if text in line:
            return str(line)
    raise AssertionError(f"never printed {text!r}")


def test_no_paste_prompt_when_stdin_is_not_a_terminal(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*PLAIN, "login", "google", "--browser", "--no-open", "--wait", "0.5"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "paste" not in result.stderr.lower()


def test_ctrl_c_while_waiting_for_a_paste_exits_130(env: dict[str, str]) -> None:
    import signal

    process = _start(env, "login", "google", "--browser", "--paste", "--wait", "60")
    try:
        assert process.stderr is not None
        _read_url(process.stderr)
        assert "redirected address" in process.stderr.readline()
        process.send_signal(signal.SIGINT)
        _, stderr = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
