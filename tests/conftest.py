"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator

import pytest

# Run a test through both services: @pytest.mark.both_services (see tests/drivers.py).
from drivers import (  # noqa: F401  (fixtures and hooks, found here by pytest)
    _driver_portals,
    _swap_backendless,
    pytest_configure,
    pytest_generate_tests,
    service_driver,
)

from backendless_auth.emulator import Emulator

IN_CI = os.environ.get("CI", "").lower() == "true"

# Ctrl-C is part of what the suite tests. A suite started in the background by a shell without
# job control (`cmd &` in a script, as CI runners do) inherits SIGINT ignored, and Python then
# installs no KeyboardInterrupt handler, neither in itself nor in the processes it starts (an
# ignored signal stays ignored across exec; a handled one is reset to the default). Restore
# what a terminal gives.
if (
    signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    and threading.current_thread() is threading.main_thread()
):
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _require_system(available: bool, what: str) -> None:
    """Skip when a system package is missing, except in CI, where a missing one is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI=true: CI must install it (see .ci/run)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def require_system() -> Callable[[bool, str], None]:
    """``require_system(available, "chromium (Debian package)")``: skip here, fail in CI."""
    return _require_system


@pytest.fixture
def require_executable(require_system: Callable[[bool, str], None]) -> Callable[[str], str]:
    """``require_executable("chromium")`` returns its path, or skips (fails in CI)."""

    def require(name: str) -> str:
        path = shutil.which(name)
        require_system(path is not None, f"the executable {name!r}")
        assert path is not None
        return path

    return require


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """An emulator over real HTTP on 127.0.0.1, one for each test module."""
    with Emulator() as emulator:
        yield emulator


# --- hypothesis profiles -------------------------------------------------------------------------
# "ci" is derandomised: every run tries the same cases, so a fresh clone's `python -m pytest` and
# CI pass or fail the same way every time. It is the default (CI=true or not). "hunt" draws new
# random cases on every run, ten times as many where a test does not fix its own count:
# `python -m pytest --hypothesis-profile=hunt` (see docs/security.md).
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_hypothesis_settings.register_profile(
    "hunt",
    derandomize=False,
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_hypothesis_settings.load_profile("ci")
