"""No secret given on the command line comes back in the CLI's output: usage errors, other
errors, ``--json`` and ``--debug`` alike. The argument lists are generated: every spelling
argparse accepts for a secret option (``--opt V``, ``--opt=V``, unambiguous and ambiguous
prefixes), secrets in the wrong place, and values that look like options."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from backendless_auth.cli import main

MODULE = [sys.executable, "-m", "backendless_auth"]
REJECTED = "Zq-rejected-access-token-9x"
SECRET_CHARS = st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/="
)
secrets_ = st.text(SECRET_CHARS, min_size=1, max_size=40).map(lambda s: "Zq" + s + "9x")
spellings = st.sampled_from(
    [
        "--access-token",
        "--access-token-secret",
        "--api-key",
        "--access-tok",
        "--access",
        "--acc",
        "--api",
        "--ap",
        "--a",
    ]
)
commands = st.sampled_from(
    [
        ["login", "google"],
        ["login", "twitter"],
        ["url", "google"],
        ["guest"],
        ["whoami"],
        ["valid"],
        ["logout"],
        ["token"],
        [],
    ]
)
noise = st.lists(
    st.sampled_from(["--json", "--debug", "--bogus", "--stay", "--browser", "--scope", "x"]),
    max_size=3,
)


@st.composite
def argv_with_secrets(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    argv = list(draw(commands))
    secrets: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        secret = draw(secrets_)
        secrets.append(secret)
        where = draw(st.sampled_from(["option", "equals", "positional"]))
        spelling = draw(spellings)
        piece = {
            "option": [spelling, secret],
            "equals": [f"{spelling}={secret}"],
            "positional": [secret],
        }[where]
        at = draw(st.integers(0, len(argv)))
        argv[at:at] = piece
    for item in draw(noise):
        argv.insert(draw(st.integers(0, len(argv))), item)
    return argv, secrets


def _run_in_process(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BACKENDLESS_")}
    clean["BACKENDLESS_TOKEN_STORE"] = "memory"
    with (
        mock.patch.dict(os.environ, clean, clear=True),
        mock.patch.object(sys, "stdin", io.StringIO("")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.suppress(SystemExit),
    ):
        main(argv)
    return out.getvalue() + err.getvalue()


@settings(max_examples=300, deadline=None)
@given(argv_with_secrets())
def test_no_secret_from_argv_in_any_output(case: tuple[list[str], list[str]]) -> None:
    argv, secrets = case
    output = _run_in_process(argv)
    for secret in secrets:
        assert secret not in output, (argv, output)


def test_the_reported_case_as_a_process() -> None:
    """``url google --access-token X`` (and under ``--json``), run as the real program."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BACKENDLESS_")}
    env.update(BACKENDLESS_APP_ID="APP", BACKENDLESS_API_KEY="KEY")
    for extra in ([], ["--json"]):
        result = subprocess.run(
            [*MODULE, *extra, "url", "google", "--access-token", "Zq-super-secret-9x"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "Zq-super-secret-9x" not in result.stdout + result.stderr
        assert "--access-token" in result.stderr


def test_debug_output_holds_no_secret_of_a_failed_login(env: dict[str, str]) -> None:
    """``--debug`` prints the traceback (the whole chain) and the SDK's log: both redacted."""
    for provider, extra in (
        ("google", []),
        ("twitter", ["--access-token-secret", "Zq-oauth1-secret-9x"]),
    ):
        result = subprocess.run(
            [*MODULE, "--debug", "login", provider, "--access-token", REJECTED, *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" in result.stderr
        output = result.stdout + result.stderr
        assert REJECTED not in output
        assert "Zq-oauth1-secret-9x" not in output
        assert env["BACKENDLESS_API_KEY"] not in output


def test_debug_traceback_of_a_chained_error_is_redacted() -> None:
    """An error whose cause quotes a token the SDK knows: the printed chain masks it."""
    from backendless_auth import cli
    from backendless_auth._redact import REDACTOR

    token = "Zq-live-user-token-in-a-cause-9x"
    REDACTOR.add(token)
    try:
        try:
            raise ValueError(f"the keyring said: {token}")
        except ValueError as inner:
            raise RuntimeError("saving failed") from inner
    except RuntimeError as outer:
        err = io.StringIO()
        args = cli._build_parser().parse_args(["--debug", "whoami"])
        with contextlib.redirect_stderr(err):
            cli._report(args, outer, 4)
    text = err.getvalue()
    assert "the keyring said" in text, "the cause is printed"
    assert "saving failed" in text
    assert token not in text
