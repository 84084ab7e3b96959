"""KeyringTokenStore against a real Secret Service: gnome-keyring on a private D-Bus session bus.

The fixture starts its own session bus (``dbus-daemon --session``) and ``gnome-keyring-daemon
--foreground --unlock --components=secrets`` on it, with HOME and the XDG folders in a temporary
folder, so that nothing touches the keyring of the person running the tests. It needs the
Debian packages ``dbus`` (or ``dbus-daemon``) and ``gnome-keyring``: without them the tests skip,
except in CI, where they fail.
"""

from __future__ import annotations

import os
import secrets
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from backendless_auth import (
    AutoTokenStore,
    Backendless,
    KeyringTokenStore,
    StoredSession,
    TokenStoreError,
)

pytestmark = [
    pytest.mark.keyring,
    pytest.mark.skipif(sys.platform != "linux", reason="the Secret Service is Linux's"),
]

SESSION = StoredSession(user_token="tok-SSSS", user_id="user-1", stay_logged_in=True, saved_at=5.0)
NS = "Backendless_APP-ONE"
SERVICE = "backendless-auth-tests"


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretService:
    """A private session bus with an unlocked gnome-keyring on it."""

    def __init__(self, address: str, env: dict[str, str], root: Path) -> None:
        self.address = address
        self.env = env
        self.root = root

    def backend(self) -> Any:
        """keyring's Secret Service backend; it connects to the bus named in the environment."""
        from keyring.backends import SecretService as secret_service_backend

        return secret_service_backend.Keyring()

    def collection(self) -> Any:
        """The default collection, through secretstorage (independent of our store)."""
        import secretstorage

        connection = secretstorage.dbus_init()
        return secretstorage.get_default_collection(connection)


def _read_line(stream: Any, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise RuntimeError("dbus-daemon printed no address")
    return str(stream.readline()).strip()


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def secret_service(
    require_executable: Callable[[str], str],
    require_system: Callable[[bool, str], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SecretService]:
    dbus_daemon = require_executable("dbus-daemon")
    gnome_keyring = require_executable("gnome-keyring-daemon")
    try:
        import secretstorage  # noqa: F401  (keyring's Secret Service backend needs it)

        have_secretstorage = True
    except ImportError:
        have_secretstorage = False
    require_system(have_secretstorage, "the Python package secretstorage (a keyring dependency)")

    root = tmp_path / "secret-service"
    runtime = root / "run"
    runtime.mkdir(parents=True, mode=0o700)
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.update(
        HOME=str(root / "home"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_RUNTIME_DIR=str(runtime),
    )
    # The session bus's own configuration minus its service folders: with them, a call made
    # before our daemon owns the Secret Service name would make the bus start another
    # gnome-keyring (D-Bus activation), which would win the name and leave ours out.
    config = root / "session.conf"
    config.write_text(BUS_CONFIG)
    bus = subprocess.Popen(
        [dbus_daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    daemon: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = _read_line(bus.stdout, 10)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        with open(root / "gnome-keyring.log", "wb") as log:
            # --unlock reads the login keyring's password on stdin and creates that keyring
            # when there is none; an empty password creates none (every write then fails
            # with "Prompt dismissed"), so a throwaway one is given.
            daemon = subprocess.Popen(
                [gnome_keyring, "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=env,
            )
        assert daemon.stdin is not None
        daemon.stdin.write(secrets.token_hex(8).encode())
        daemon.stdin.close()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        service = SecretService(address, env, root)
        _wait_until_ready(service, daemon)
        yield service
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(bus)
        if bus.stdout is not None:
            bus.stdout.close()


def _wait_until_ready(service: SecretService, daemon: subprocess.Popen[bytes]) -> None:
    backend = service.backend()
    deadline = time.monotonic() + 15
    while True:
        try:
            backend.set_password(SERVICE, "ready", "yes")
            backend.delete_password(SERVICE, "ready")
            return
        except Exception:
            if daemon.poll() is not None or time.monotonic() > deadline:
                log = (service.root / "gnome-keyring.log").read_text(errors="replace")
                raise RuntimeError(f"gnome-keyring did not come up: {log}") from None
            time.sleep(0.05)


def test_round_trip_through_the_secret_service(secret_service: SecretService) -> None:
    store = KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend())
    assert store.load(NS) is None
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION
    # Read back independently of keyring: the item holds the session's JSON, filed under
    # the service and the namespace.
    items = list(secret_service.collection().search_items({"service": SERVICE, "username": NS}))
    assert len(items) == 1
    assert items[0].get_secret().decode() == SESSION.to_json()
    store.clear(NS)
    assert store.load(NS) is None
    store.clear(NS)


def test_a_new_store_reads_what_an_earlier_one_saved(secret_service: SecretService) -> None:
    KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend()).save(NS, SESSION)
    assert KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend()).load(NS) == SESSION


def test_a_locked_collection_gives_token_store_error(secret_service: SecretService) -> None:
    store = KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend(), timeout=10)
    store.save(NS, SESSION)
    secret_service.collection().lock()
    with pytest.raises(TokenStoreError, match="unlock") as info:
        store.load(NS)
    assert "tok-SSSS" not in str(info.value)
    with pytest.raises(TokenStoreError):
        store.save(NS, SESSION)


def test_auto_chooses_the_secret_service_when_it_works(
    secret_service: SecretService, tmp_path: Path
) -> None:
    store = AutoTokenStore(
        service=SERVICE, keyring_backend=secret_service.backend(), path=tmp_path / "files"
    )
    assert store.backend_name == "keyring"
    assert "SecretService" in store.reason
    store.save(NS, SESSION)
    assert store.load(NS) == SESSION


def test_auto_falls_back_to_files_when_the_collection_is_locked(
    secret_service: SecretService, tmp_path: Path
) -> None:
    secret_service.collection().lock()
    store = AutoTokenStore(
        service=SERVICE, keyring_backend=secret_service.backend(), path=tmp_path / "files"
    )
    assert store.backend_name == "file"
    assert "unlock" in store.reason


DEFAULT_STORE = textwrap.dedent(
    """
    import sys
    from backendless_auth import StoredSession, default_token_store

    store = default_token_store(service=sys.argv[1])
    print("CHOSEN", store.backend_name, store.reason)
    store.save("NS", StoredSession(user_token="tok-sub", user_id="u"))
    print("LOADED", store.load("NS").user_id)
    store.clear("NS")
    """
)


def test_the_default_store_finds_the_secret_service_by_itself(
    secret_service: SecretService,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DEFAULT_STORE, SERVICE],
        env=secret_service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "CHOSEN keyring" in result.stdout, result.stderr
    assert "SecretService" in result.stdout
    assert "LOADED u" in result.stdout


def test_a_session_survives_a_restart_in_the_secret_service(
    secret_service: SecretService,
) -> None:
    api_key = "KEY-secret-service-77"
    with responses.RequestsMock() as http:
        http.add(
            responses.POST,
            f"https://api.backendless.com/APP-ONE/{api_key}/users/register/guest",
            json={"objectId": "user-9", "user-token": "tok-restart", "userStatus": "GUEST"},
        )
        store = KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend())
        with Backendless(app_id="APP-ONE", api_key=api_key, token_store=store) as app:
            app.users.login_as_guest(stay_logged_in=True)
    store = KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend())
    with Backendless(app_id="APP-ONE", api_key=api_key, token_store=store) as app:
        assert app.users.user_token == "tok-restart"
        assert app.users.current_user_id == "user-9"
    secrets_stored = [item.get_secret() for item in secret_service.collection().get_all_items()]
    assert any(b"tok-restart" in secret for secret in secrets_stored)
    assert not any(api_key.encode() in secret for secret in secrets_stored)


def test_an_unreachable_bus_gives_token_store_error(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyringTokenStore(SERVICE, keyring_backend=secret_service.backend(), timeout=5)
    store.save(NS, SESSION)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={secret_service.root / 'no-bus'}")
    with pytest.raises(TokenStoreError, match="could not load"):
        store.load(NS)
