"""The process entry point, persistence with --db, config files and custom providers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from emu_helpers import Client, assert_error

from backendless_auth.emulator import ConfigError, CustomProvider, Emulator, main


def test_db_file_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite"
    with Emulator(db=db) as emu:
        ids = (emu.app_id, emu.api_key, emu.admin_token)
        c = Client(emu, emu.base_url)
        token = emu.provider_token("google", emu.accounts("google")[0])
        user = c.post("users/oauth/google/login", json={"accessToken": token}).json()
        accounts = emu.accounts("google")
    with Emulator(db=db) as emu:
        assert (emu.app_id, emu.api_key, emu.admin_token) == ids
        assert emu.accounts("google") == accounts  # not seeded twice
        c = Client(emu, emu.base_url)
        assert c.get(f"users/isvalidusertoken/{user['user-token']}").json() is True
        loaded = c.get(f"data/Users/{user['objectId']}", headers={"user-token": user["user-token"]})
        assert loaded.json()["email"] == user["email"]
        # The identity is still linked: the same person logs into the same user.
        again = c.post("users/oauth/google/login", json={"accessToken": token}).json()
        assert again["objectId"] == user["objectId"]


def test_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "emu.json"
    cfg.write_text(
        json.dumps(
            {
                "appId": "APP-1",
                "apiKey": "KEY-1",
                "adminToken": "admin-1",
                "sessionTtl": None,
                "providers": {"github": {"enabled": False}, "google": {"clientId": "g-web"}},
                "accounts": {"google": [{"email": "zed@example.com", "name": "Zed"}]},
                "allowedRedirects": ["https://app.example/"],
            }
        )
    )
    with Emulator(config=cfg) as emu:
        assert (emu.app_id, emu.api_key, emu.admin_token) == ("APP-1", "KEY-1", "admin-1")
        assert emu.session_ttl is None
        assert [a.email for a in emu.accounts("google")] == ["zed@example.com"]
        c = Client(emu, f"{emu.url}/APP-1/KEY-1")
        token = emu.provider_token("github", emu.accounts("github")[0])
        assert_error(c.post("users/oauth/github/login", json={"accessToken": token}), 3060)
        url = c.post(
            "users/oauth/google/request_url",
            json={"redirect": False, "redirectAfterLoginUrl": "https://app.example/x"},
        ).text
        assert "client_id=g-web" in url
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    with pytest.raises(ConfigError, match="nope"):
        Emulator(config=bad)
    with pytest.raises(ConfigError):
        Emulator(config=tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="providers"):
        Emulator(config={"providers": {"google": True}})
    with pytest.raises(ConfigError, match="myspace"):
        Emulator(config={"providers": {"myspace": {"enabled": False}}})
    with pytest.raises(ConfigError, match="tokenUrl"):
        Emulator(config={"customProviders": [{"code": "acme", "authorizeUrl": "x"}]})


def test_custom_provider_in_front_of_another_oauth2_server(emu: Emulator) -> None:
    """A custom provider configured by URLs does real HTTP: here to a second emulator's Google."""
    with Emulator() as upstream:
        ep = upstream.oauth2_endpoints("google")
        web = upstream.wsgi_app.providers["google"]
        emu.add_custom_provider(
            CustomProvider(
                code="acme",
                authorize_url=ep.authorize_url,
                token_url=ep.token_url,
                userinfo_url=ep.userinfo_url,
                client_id=web.client_id,
                client_secret=web.client_secret,
                scope="openid email",
                id_field="sub",
                fields_mapping={"email": "email", "picture": "photo"},
            )
        )
        c = Client(emu, emu.base_url)
        acct = upstream.accounts("google")[0]
        token = upstream.provider_token("google", acct)
        user = c.post("users/oauth/acme/login", json={"accessToken": token}).json()
        assert user["email"] == acct.email
        assert user["photo"].endswith(".png")
        assert user["oAuthIdentities"] == [{"providerCode": "acme", "providerUserId": acct.id}]
        assert_error(c.post("users/oauth/acme/login", json={"accessToken": "bad"}), 3060)
        # The browser flow goes to the upstream's sign-in page and back.
        after = "http://127.0.0.1:9/done"
        url = c.post(
            "users/oauth/acme/request_url",
            json={"redirect": False, "redirectAfterLoginUrl": after},
        ).text
        assert url.startswith(ep.authorize_url)
        http = requests.Session()
        back = http.post(
            url, data={"action": "choose", "account": acct.id}, allow_redirects=False, timeout=10
        )
        done = http.get(back.headers["Location"], allow_redirects=False, timeout=10)
        assert "userToken=" in done.headers["Location"]
    # The upstream is gone: the provider cannot be reached, a 3060 (not a 500, not a hang).
    assert_error(c.post("users/oauth/acme/login", json={"accessToken": token}), 3060)


def test_main_rejects_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["--config", str(bad)]) == 2
    assert "config" in capsys.readouterr().err
    not_a_db = tmp_path / "not.sqlite"
    not_a_db.write_bytes(b"this is not a database" * 100)
    assert main(["--db", str(not_a_db)]) == 2
    assert "emulator:" in capsys.readouterr().err


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+(URL|App id|API key|Admin token):\s+(\S+)", line)
        if m:
            info[m.group(1)] = m.group(2)
        if line.startswith("Press Ctrl+C"):
            break
    return proc, info


@pytest.mark.parametrize(
    ("entry", "sig"),
    [
        (["-m", "backendless_auth.emulator"], signal.SIGINT),
        (["-m", "backendless_auth.emulator"], signal.SIGTERM),
        (["-m", "backendless_auth", "emulator"], signal.SIGINT),
    ],
)
def test_process_entry_point_stops_cleanly(
    tmp_path: Path, entry: list[str], sig: signal.Signals
) -> None:
    db = tmp_path / "proc.sqlite"
    proc, info = _start([*entry, "--db", str(db)], tmp_path)
    try:
        assert set(info) == {"URL", "App id", "API key", "Admin token"}
        assert info["URL"].startswith("http://127.0.0.1:")
        base = f"{info['URL']}/{info['App id']}/{info['API key']}"
        assert requests.post(f"{base}/users/register/guest", timeout=5).status_code == 200
        users = requests.get(
            f"{info['URL']}/_emulator/users",
            headers={"X-Admin-Token": info["Admin token"]},
            timeout=5,
        )
        assert len(users.json()) == 1
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Emulator stopped." in out
    assert "Traceback" not in err
    with Emulator(db=db) as emu:  # the guest survived in the file
        assert len(emu.users()) == 1
        assert emu.app_id == info["App id"]
