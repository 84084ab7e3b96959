"""The hooks and fixtures of :mod:`backendless_auth.pytest_plugin` (imported only with the
``emulator`` extra installed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from backendless_auth import Backendless
    from backendless_auth.emulator import Emulator
    from backendless_auth.emulator.remote import RemoteEmulator

    AnyEmulator = Emulator | RemoteEmulator

__all__ = [
    "backendless_app",
    "backendless_emulator",
    "backendless_emulator_session",
    "pytest_addoption",
    "pytest_configure",
]

ADMIN_TOKEN_VARIABLE = "BACKENDLESS_EMULATOR_ADMIN_TOKEN"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backendless", "backendless-auth emulator fixtures")
    group.addoption(
        "--backendless-emulator-url",
        default=None,
        metavar="URL",
        help="use the emulator already running at URL instead of starting one in the test "
        f"process (its admin token from ${ADMIN_TOKEN_VARIABLE})",
    )
    group.addoption(
        "--backendless-emulator-db",
        default=None,
        metavar="FILE",
        help="keep the in-process emulator's data in this SQLite file "
        "(with xdist, one file per worker: FILE's name gets the worker id)",
    )


def pytest_configure(config: pytest.Config) -> None:
    url = config.getoption("backendless_emulator_url")
    if url is None:
        return
    if config.getoption("backendless_emulator_db"):
        raise pytest.UsageError(
            "--backendless-emulator-db is for the in-process emulator; "
            "it cannot be combined with --backendless-emulator-url"
        )
    if not os.environ.get(ADMIN_TOKEN_VARIABLE):
        raise pytest.UsageError(
            "--backendless-emulator-url needs the emulator's admin token in "
            f"${ADMIN_TOKEN_VARIABLE}"
        )
    if getattr(config.option, "numprocesses", None) or os.environ.get("PYTEST_XDIST_WORKER"):
        raise pytest.UsageError(
            "--backendless-emulator-url cannot be shared by parallel workers (each test resets "
            "the emulator); run without -n, or let each worker start its own emulator"
        )


def _worker_db(path: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return path
    root, ext = os.path.splitext(path)
    return f"{root}.{worker}{ext}"


@pytest.fixture(scope="session")
def backendless_emulator_session(request: pytest.FixtureRequest) -> Iterator[AnyEmulator]:
    """The test session's emulator, not reset: in process (one per xdist worker), or the one
    at ``--backendless-emulator-url``."""
    url = request.config.getoption("backendless_emulator_url")
    if url:
        from backendless_auth.emulator.remote import RemoteEmulator

        yield RemoteEmulator(url, os.environ[ADMIN_TOKEN_VARIABLE])
        return
    from backendless_auth.emulator import Emulator

    db = request.config.getoption("backendless_emulator_db")
    with Emulator(db=_worker_db(db) if db else None) as emulator:
        yield emulator


@pytest.fixture
def backendless_emulator(backendless_emulator_session: AnyEmulator) -> AnyEmulator:
    """The emulator, as new: reset before the test (users, sessions, provider accounts and
    tokens, faults, every record; providers and session lifetime as configured)."""
    backendless_emulator_session.reset()
    return backendless_emulator_session


@pytest.fixture
def backendless_app(backendless_emulator: AnyEmulator) -> Iterator[Backendless]:
    """A ``Backendless`` app on the emulator, with a fresh ``MemoryTokenStore``."""
    from backendless_auth import MemoryTokenStore

    app = backendless_emulator.app(token_store=MemoryTokenStore())
    try:
        yield app
    finally:
        app.close()


def _async_twin() -> Any:
    try:
        import backendless_auth
    except ImportError:  # pragma: no cover - the package itself is importable here
        return None
    return getattr(backendless_auth, "AsyncBackendless", None)


if _async_twin() is not None:
    __all__ += ["backendless_async_app"]

    @pytest.fixture
    def backendless_async_app(backendless_emulator: AnyEmulator) -> Iterator[Any]:
        """An ``AsyncBackendless`` app on the emulator, with a fresh ``MemoryTokenStore``."""
        from backendless_auth import MemoryTokenStore

        app = _async_twin()(
            app_id=backendless_emulator.app_id,
            api_key=backendless_emulator.api_key,
            server_url=backendless_emulator.url,
            token_store=MemoryTokenStore(),
        )
        try:
            yield app
        finally:
            # The test's event loop may be gone already, and its connections with it.
            with contextlib.suppress(RuntimeError):
                asyncio.run(app.aclose())
