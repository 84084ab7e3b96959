"""Fixtures for the command-line tests: an emulator, and the CLI run as ``python -m``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from backendless_auth.emulator import Emulator

MODULE = [sys.executable, "-m", "backendless_auth"]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def env(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith("BACKENDLESS_")
    }
    environ.update(
        BACKENDLESS_APP_ID=emu.app_id,
        BACKENDLESS_API_KEY=emu.api_key,
        BACKENDLESS_SERVER_URL=emu.url,
        BACKENDLESS_TOKEN_STORE="file",
        BACKENDLESS_TOKEN_STORE_PATH=str(tmp_path / "sessions"),
    )
    return environ


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    """``run("guest", "--stay", input=None, extra_env=None)``: the CLI as ``python -m``."""

    def runner(
        *args: str, input: str | None = None, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MODULE, *args],
            env={**env, **(extra_env or {})},
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
        )

    return runner
