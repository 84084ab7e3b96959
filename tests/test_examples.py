"""Every example runs: against an emulator of its own by default, and against an app named by
the ``BACKENDLESS_*`` variables (here: an emulator started by the test, standing in for your
app). ``examples/notebook.ipynb`` is executed with nbclient on an IPython kernel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backendless_auth.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_"))
CLI = [sys.executable, "-m", "backendless_auth"]


def _base_env(tmp_path: Path) -> dict[str, str]:
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith("BACKENDLESS_")
    }
    # No keyring here: the automatic store falls back to files in the test's folder.
    environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    environ["BACKENDLESS_TOKEN_STORE_PATH"] = str(tmp_path / "sessions")
    return environ


def _run(
    command: list[str], env: dict[str, str], input: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=EXAMPLES, input=input, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def app_env(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    """Variables naming the test's emulator as if it were a real app."""
    return {
        **_base_env(tmp_path),
        "BACKENDLESS_APP_ID": emu.app_id,
        "BACKENDLESS_API_KEY": emu.api_key,
        "BACKENDLESS_SERVER_URL": emu.url,
    }


def test_every_example_is_tested() -> None:
    assert set(SCRIPTS) == {
        "custom_token_store.py",
        "guest_then_upgrade.py",
        "quickstart.py",
        "twitter_oauth1.py",
        "unattended_script.py",
    }
    assert (EXAMPLES / "notebook.ipynb").exists()


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_against_its_own_emulator(script: str, tmp_path: Path) -> None:
    result = _run([sys.executable, script], _base_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_quickstart_output(tmp_path: Path) -> None:
    result = _run([sys.executable, "quickstart.py"], _base_env(tmp_path))
    assert "(same objectId: True)" in result.stdout
    assert "valid: True" in result.stdout
    assert "logged out, valid: False" in result.stdout


def test_twitter_example_does_both_ways(tmp_path: Path) -> None:
    result = _run([sys.executable, "twitter_oauth1.py"], _base_env(tmp_path))
    assert "token login:   Ann Example <ann@example.com>, TWITTER" in result.stdout
    assert "browser flow:  Bob Example <bob@example.com>, TWITTER" in result.stdout


def test_quickstart_against_an_app_from_the_environment(
    app_env: dict[str, str], emu: Emulator
) -> None:
    account = emu.add_account("google", email="quick@example.com", name="Quick")
    env = {**app_env, "BACKENDLESS_ACCESS_TOKEN": emu.provider_token("google", account)}
    result = _run([sys.executable, "quickstart.py"], env)
    assert result.returncode == 0, result.stderr
    assert "Talking to your Backendless app" in result.stdout
    assert "quick@example.com (same objectId: True)" in result.stdout
    assert any(user.get("email") == "quick@example.com" for user in emu.users())


def test_examples_against_an_app_without_provider_tokens_stop_politely(
    app_env: dict[str, str],
) -> None:
    for script in ("guest_then_upgrade.py", "twitter_oauth1.py"):
        result = _run([sys.executable, script], app_env)
        assert result.returncode == 0, (script, result.stderr)
        assert "BACKENDLESS_ACCESS_TOKEN" in result.stdout


def test_the_quickstart_without_an_access_token_says_what_to_set_and_fails(
    app_env: dict[str, str], emu: Emulator
) -> None:
    """It cannot finish without the token: a non-zero status, not a half run that looks done."""
    before = len(emu.users())
    result = _run([sys.executable, "quickstart.py"], app_env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "BACKENDLESS_ACCESS_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(emu.users()) == before, "a guest was created for a run that could not finish"


def test_twitter_token_login_against_an_app_from_the_environment(
    app_env: dict[str, str], emu: Emulator
) -> None:
    account = emu.add_account("twitter", email="tweet@example.com", name="Tweet")
    token, secret = emu.provider_token("twitter", account)
    env = {
        **app_env,
        "BACKENDLESS_ACCESS_TOKEN": token,
        "BACKENDLESS_ACCESS_TOKEN_SECRET": secret,
    }
    result = _run([sys.executable, "twitter_oauth1.py"], env)
    assert result.returncode == 0, result.stderr
    assert "token login:   Tweet <tweet@example.com>, TWITTER" in result.stdout
    assert "browser flow:  skipped" in result.stdout


def test_cron_script_fails_without_a_session_and_works_after_a_cli_login(
    app_env: dict[str, str], emu: Emulator
) -> None:
    """The README's path: log in once with the CLI (--stay), then the cron script runs."""
    before = _run([sys.executable, "unattended_script.py"], app_env)
    assert before.returncode == 1
    assert "no valid session" in before.stderr
    assert before.stdout == ""

    account = emu.add_account("google", email="cron@example.com", name="Cron")
    login = _run(
        [*CLI, "login", "google", "--access-token", "-", "--stay"],
        app_env,
        input=emu.provider_token("google", account) + "\n",
    )
    assert login.returncode == 0, login.stderr

    after = _run([sys.executable, "unattended_script.py"], app_env)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "working as cron@example.com"

    # The session ends on the server: the next cron run says so with status 1.
    assert _run([*CLI, "logout"], app_env).returncode == 0
    assert _run([sys.executable, "unattended_script.py"], app_env).returncode == 1


def test_cron_script_exits_3_when_the_server_is_unreachable(
    app_env: dict[str, str], emu: Emulator
) -> None:
    account = emu.add_account("google", email="net@example.com", name="Net")
    login = _run(
        [*CLI, "login", "google", "--access-token", "-", "--stay"],
        app_env,
        input=emu.provider_token("google", account) + "\n",
    )
    assert login.returncode == 0, login.stderr
    emu.set_fault("reset", path="isvalidusertoken", count=None)
    try:
        result = _run([sys.executable, "unattended_script.py"], app_env)
    finally:
        emu.clear_faults()
    assert result.returncode == 3, result.stderr
    assert "cannot reach Backendless" in result.stderr


def test_the_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    for key in [key for key in os.environ if key.startswith("BACKENDLESS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()
    html = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    assert len(html) >= 4, "users render as HTML tables"
    assert all("<table>" in table and "••••••" in table for table in html)
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
