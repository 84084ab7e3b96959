"""Smoke tests: the SDK's public API against the emulator over real HTTP."""

from __future__ import annotations

import pytest

from backendless_auth import Backendless
from backendless_auth.emulator import Emulator
from backendless_auth.exceptions import ApiError, UnknownApplicationError

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services


@pytest.fixture(params=["keyed", "domain"])
def app(request: pytest.FixtureRequest, emu: Emulator) -> Backendless:
    return emu.app() if request.param == "keyed" else emu.domain_app()


def test_guest_login_and_logout(app: Backendless) -> None:
    user = app.users.login_as_guest()
    assert user.user_status == "GUEST"
    assert user.user_token
    assert app.users.is_valid_login() is True
    app.users.logout()
    assert app.users.is_valid_login() is False


def test_oauth2_google_with_fields_mapping(emu: Emulator, app: Backendless) -> None:
    acct = emu.add_account("google", email="sdk@example.com", name="Sdk User")
    user = app.users.login_with_oauth2(
        "google", emu.provider_token("google", acct), fields_mapping={"picture": "avatar"}
    )
    assert user.email == "sdk@example.com"
    assert user.name == "Sdk User"
    assert user["avatar"].endswith(".png")
    reloaded = app.users.get_current_user(reload=True)
    assert reloaded is not None
    assert reloaded.object_id == user.object_id


def test_oauth1_twitter(emu: Emulator, app: Backendless) -> None:
    token, secret = emu.provider_token("twitter", emu.accounts("twitter")[0])
    user = app.users.login_with_oauth1("twitter", token, secret)
    assert user.email == "ann@example.com"
    assert user.social_account == "TWITTER"


def test_guest_upgrade_keeps_object_id(emu: Emulator, app: Backendless) -> None:
    guest = app.users.login_as_guest()
    token = emu.provider_token("github", emu.add_account("github", email="gh@example.com"))
    user = app.users.login_with_oauth2("github", token, guest_user=guest)
    assert user.object_id == guest.object_id
    assert user.user_status == "ENABLED"
    assert len(emu.users()) == 1


def test_rejected_provider_token(app: Backendless) -> None:
    with pytest.raises(ApiError) as info:
        app.users.login_with_oauth2("google", "not-a-token")
    assert info.value.code == 3060


def test_wrong_api_key_raises(emu: Emulator) -> None:
    app = Backendless(app_id=emu.app_id, api_key="WRONG", server_url=emu.url)
    with pytest.raises(UnknownApplicationError) as info:
        app.users.login_as_guest()
    assert info.value.code == 2002
