"""RemoteEmulator: the test-facing methods of Emulator, over the admin routes of a running one."""

from __future__ import annotations

import pytest

from backendless_auth.emulator import Emulator, RemoteEmulator, RemoteEmulatorError


def test_every_method_against_a_running_emulator(emu: Emulator) -> None:
    remote = RemoteEmulator(emu.url, emu.admin_token)
    assert (remote.app_id, remote.api_key) == (emu.app_id, emu.api_key)
    assert (remote.base_url, remote.domain_url) == (emu.base_url, emu.domain_url)
    assert remote.admin_token not in repr(remote)

    account = remote.add_account("github", email="gh@example.com", name="Gee")
    assert account in remote.accounts("github")
    token = remote.oauth2_token("github", account)
    user = remote.app().users.login_with_oauth2("github", token)
    assert remote.user(user.object_id)["email"] == "gh@example.com"  # type: ignore[index]
    secret_pair = remote.oauth1_token("twitter", remote.accounts("twitter")[0])
    assert remote.domain_app().users.login_with_oauth1("twitter", *secret_pair).object_id
    with pytest.raises(ValueError):
        remote.oauth1_token("github", account)
    with pytest.raises(ValueError):
        remote.oauth2_token("twitter", remote.accounts("twitter")[0])

    guest = remote.seed_guest()
    upgraded = remote.seed_user("google", email="g@example.com", guest=guest)
    assert upgraded["objectId"] == guest["objectId"]
    assert remote.expire_sessions(upgraded["user-token"]) == 1

    fault = remote.set_fault("error", status=502, path="register/guest", count=2)
    assert [f.id for f in remote.faults()] == [fault.id] == [f.id for f in emu.faults()]
    remote.clear_faults()
    assert emu.faults() == []

    remote.disable_provider("facebook")
    assert emu.wsgi_app.providers["facebook"].enabled is False
    remote.enable_provider("facebook")
    assert emu.wsgi_app.providers["facebook"].enabled is True

    remote.reset()
    assert emu.users() == []


def test_errors_are_ours_and_hold_no_token(emu: Emulator) -> None:
    with pytest.raises(RemoteEmulatorError) as info:
        RemoteEmulator(emu.url, "wrong-token").reset()
    assert "401" in str(info.value)
    assert "wrong-token" not in str(info.value)
    with pytest.raises(RemoteEmulatorError):
        RemoteEmulator(emu.url, emu.admin_token).provider_token("nosuch", "x")
    with pytest.raises(RemoteEmulatorError, match="cannot be reached"):
        RemoteEmulator("http://127.0.0.1:9", emu.admin_token, timeout=2)
