"""Start, stop and reset: what a test suite sharing one emulator relies on."""

from __future__ import annotations

import socket

import pytest
import requests
from emu_helpers import Client

from backendless_auth import TransportError
from backendless_auth.emulator import Emulator


def _populate(emu: Emulator) -> str:
    app = emu.app()
    guest = app.users.login_as_guest()
    account = emu.add_account("github", email="gh@example.com")
    app.users.login_with_oauth2("github", emu.oauth2_token("github", account), guest_user=guest)
    emu.provider_token("twitter", emu.accounts("twitter")[0])
    emu.set_fault("delay", delay=0.0, count=None, path="nothing-matches-this")
    c = Client(emu, emu.domain_url)
    c.post("users/oauth/google/request_url", json={"redirect": False})  # a flow in progress
    token = app.users.user_token
    assert token is not None
    return token


def test_reset_empties_every_table_but_the_apps_identity(emu: Emulator) -> None:
    token = _populate(emu)
    # A table another module adds later (accounts, outbox, roles ...) is covered too.
    emu._db.execute("CREATE TABLE IF NOT EXISTS later_feature (x TEXT)")
    emu._db.execute("INSERT INTO later_feature VALUES ('left over')")
    identity = emu.app_id, emu.api_key, emu.admin_token
    before = {t: emu._db.one(f'SELECT COUNT(*) FROM "{t}"') for t in emu._db.tables()}
    assert all(before[t] != (0,) for t in ("users", "sessions", "identities", "flows"))

    emu.reset()

    for table in emu._db.tables():
        (count,) = emu._db.one(f'SELECT COUNT(*) FROM "{table}"') or (0,)
        if table == "meta":
            assert count > 0
        elif table == "accounts":
            assert count == 10  # the demo accounts, seeded again
        else:
            assert count == 0, table
    assert emu.faults() == []
    assert (emu.app_id, emu.api_key, emu.admin_token) == identity
    assert emu.users() == []
    valid = requests.get(f"{emu.domain_url}/users/isvalidusertoken/{token}", timeout=5)
    assert valid.json() is False


def test_reset_restores_providers_and_session_ttl(emu: Emulator) -> None:
    emu.disable_provider("google")
    emu.session_ttl = 1.0
    emu.reset()
    assert emu.session_ttl == 3600.0
    assert emu.wsgi_app.providers["google"].enabled is True
    token = emu.oauth2_token("google", emu.accounts("google")[0])
    assert emu.app().users.login_with_oauth2("google", token).email == "ann@example.com"


def test_reset_keeps_providers_configured_at_construction() -> None:
    with Emulator(disabled_providers=["facebook"], session_ttl=None) as emu:
        emu.enable_provider("facebook")
        emu.session_ttl = 5
        emu.reset()
        assert emu.wsgi_app.providers["facebook"].enabled is False
        assert emu.session_ttl is None


def test_stop_closes_keep_alive_connections_and_frees_the_port() -> None:
    emu = Emulator().start()
    app = emu.app(timeout=5)
    app.users.login_as_guest()  # a pooled keep-alive connection stays open
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    emu.stop()
    with pytest.raises(TransportError):
        app.users.login_as_guest()
    with socket.socket() as probe:
        # Nothing listens any more (closed connections may linger in TIME_WAIT, as for any
        # server, hence SO_REUSEADDR as servers use it).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, int(port)))
    emu.start()  # serves the same data again, on a new port
    assert requests.get(f"{emu.url}/_emulator/health", timeout=5).status_code == 200
    emu.close()


def test_stop_is_idempotent_and_start_after_stop_works() -> None:
    emu = Emulator()
    emu.stop()
    emu.start()
    emu.start()
    emu.stop()
    emu.stop()
    emu.start()
    assert emu.app().users.login_as_guest().is_guest
    emu.close()


def test_seed_user_and_seed_guest(emu: Emulator) -> None:
    app = emu.app()
    for as_id in (False, True):
        guest = app.users.login_as_guest()
        given = guest.object_id if as_id else guest
        user = emu.seed_user("github", email=f"{as_id}@example.com", guest=given)
        assert user["objectId"] == guest.object_id  # upgraded
    seeded = emu.seed_guest()
    assert seeded["userStatus"] == "GUEST"
    valid = requests.get(
        f"{emu.domain_url}/users/isvalidusertoken/{seeded['user-token']}", timeout=5
    )
    assert valid.json() is True
    with pytest.raises(ValueError):
        emu.seed_user("github", email="x@example.com", guest={"no": "id"})
    with pytest.raises(ValueError):
        emu.seed_user("nosuch", email="x@example.com")
