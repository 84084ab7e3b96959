"""Fixtures for the emulator's server-level tests: a real emulator over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_helpers import Client

from backendless_auth.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(params=["keyed", "domain"])
def client(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Client]:
    """A client in each URL form: ``/<APP_ID>/<API_KEY>/...`` and ``/api/...``."""
    base = emu.base_url if request.param == "keyed" else emu.domain_url
    c = Client(emu, base)
    yield c
    c.http.close()


@pytest.fixture
def keyed(emu: Emulator) -> Iterator[Client]:
    c = Client(emu, emu.base_url)
    yield c
    c.http.close()
