"""Accounts with passwords against the emulator over real HTTP, through both services.

The whole life of an account, as a program lives it: register (a guest converted too), the
confirmation email's link, log in, the password checked by server code, a password reset whose
emailed link is opened and filled in headless Chromium, roles assigned and found, an update of
the current user, the status changed by server code, the user class described; and each
refusal raising its own class. The async service runs on a real ``httpx`` client (no mock),
driven from this thread through an anyio blocking portal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio.from_thread
import pytest
import requests
from drivers import DRIVERS, _BlockingUsers

from backendless_auth import (
    AccountDisabledError,
    AccountLockedError,
    ApiError,
    AsyncBackendless,
    Backendless,
    EmailNotConfirmedError,
    InvalidCredentialsError,
    InvalidEmailError,
    MemoryTokenStore,
    NotAllowedError,
    NotLoggedInError,
    PasswordPolicyError,
    RoleNotFoundError,
    UserAlreadyExistsError,
    UserNotFoundError,
)
from backendless_auth.emulator import Emulator

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST = "First-pass 12"
SECOND = "Second-pass 34"
OPTIONS = {
    "emailConfirmation": True,
    "passwordPolicy": {"minLength": 10, "digits": True},
    "lockout": {"attempts": 3, "seconds": 600},
    "roles": ["Pro", "Trial"],
    "hashCost": 10,
}


class Apps:
    """A client app (REST key) and a server app (CloudCode key), of one kind of service."""

    def __init__(self, client: Any, server: Any, verifier: Any) -> None:
        self.client = client
        self.server = server
        # Server code acting for one user (with that user's token): an app of its own.
        self.verifier = verifier


@contextmanager
def apps(driver: str, emu: Emulator) -> Iterator[Apps]:
    def options(key: str) -> dict[str, Any]:
        return {
            "app_id": emu.app_id,
            "api_key": key,
            "server_url": emu.url,
            "token_store": MemoryTokenStore(),
        }

    if driver == "sync":
        with (
            Backendless(**options(emu.api_key)) as client,
            Backendless(**options(emu.cloud_code_key)) as server,
            Backendless(**options(emu.cloud_code_key)) as verifier,
        ):
            yield Apps(client, server, verifier)
        return
    with anyio.from_thread.start_blocking_portal() as portal:
        made = [
            AsyncBackendless(**options(key))
            for key in (emu.api_key, emu.cloud_code_key, emu.cloud_code_key)
        ]
        try:
            yield Apps(*(_Proxy(_BlockingUsers(one.users, portal)) for one in made))
        finally:
            for one in made:
                portal.call(one.aclose)


class _Proxy:
    def __init__(self, users: Any) -> None:
        self.users = users


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(users=OPTIONS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def browser_holder() -> Iterator[dict[str, Any]]:
    holder: dict[str, Any] = {}
    yield holder
    if "browser" in holder:
        holder["browser"].close()
        holder["playwright"].stop()


@pytest.fixture
def browser(require_executable: Callable[[str], str], browser_holder: dict[str, Any]) -> Any:
    found = require_executable("chromium")
    if "browser" not in browser_holder:
        from playwright.sync_api import sync_playwright

        debian = "/usr/bin/chromium"
        playwright = sync_playwright().start()
        browser_holder["playwright"] = playwright
        browser_holder["browser"] = playwright.chromium.launch(
            executable_path=debian if os.path.exists(debian) else found,
            headless=True,
            args=CHROMIUM_ARGS,
        )
    return browser_holder["browser"]


def open_in_chromium(browser: Any, link: str) -> Any:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    assert page.goto(link).status == 200
    return context, page


@pytest.mark.browser
@pytest.mark.parametrize("driver", DRIVERS)
def test_register_confirm_login_reset_roles_update_status(
    driver: str, emu: Emulator, browser: Any
) -> None:
    with apps(driver, emu) as app:
        users = app.client.users
        email = f"ann-{driver}@example.com"

        # Register: not logged in, waiting for the confirmation.
        user = users.register({"email": email, "password": FIRST, "name": "Ann"})
        assert user.user_status == "EMAIL_CONFIRMATION_PENDING"
        assert user["blUserLocale"]
        assert users.current_user is None
        with pytest.raises(UserAlreadyExistsError):
            users.register({"email": email.upper(), "password": FIRST})
        with pytest.raises(EmailNotConfirmedError):
            users.login(email, FIRST)
        users.resend_email_confirmation(email)
        assert users.create_email_confirmation_url(email).startswith(emu.url)

        # Confirm: the emailed link, opened in Chromium.
        mail = emu.outbox(to=email, kind="confirmation")[-1]
        context, page = open_in_chromium(browser, mail.link)
        assert page.text_content("#title") == "Email confirmed"
        context.close()

        # Log in; the roles a logged-in user has.
        me = users.login(email, FIRST)
        assert me.object_id == user.object_id
        assert me.user_status == "ENABLED"
        assert users.current_user == me
        assert "AuthenticatedUser" in users.get_user_roles()

        # Server code checks the password with the user's session.
        server = app.server.users
        verifier = app.verifier.users
        verifier.set_current_user_token(me.user_token, user_id=me.object_id)
        assert verifier.verify_password(FIRST) is True
        assert verifier.verify_password("not the one 1") is False
        assert verifier.get_current_user() == me
        with pytest.raises(NotAllowedError):  # only server code may
            users.verify_password(FIRST)

        # Update the current user: refreshed, same session.
        updated = users.update({"objectId": me.object_id, "name": "Ann B."})
        assert updated.name == "Ann B."
        assert updated.user_token == me.user_token
        assert users.current_user is not None
        assert users.current_user.name == "Ann B."
        assert users.get_current_user(reload=True).name == "Ann B."  # type: ignore[union-attr]

        # Roles: assigned by server code, found by role, read back.
        server.assign_role(email, "Pro")
        assert "Pro" in server.get_user_roles(me.object_id)
        assert "Pro" in users.get_user_roles()
        [found] = users.find_by_role("Pro", load_roles=True, properties=["email", "name"])
        assert found.object_id == me.object_id
        assert "Pro" in found["roles"]
        assert users.find_by_role("Pro", where="name = 'nobody'") == []
        with pytest.raises(RoleNotFoundError):
            users.find_by_role("NoSuchRole")
        server.unassign_role(email, "Pro")
        assert users.find_by_role("Pro") == []

        # The user class.
        columns = {column.name: column for column in users.describe_user_class()}
        assert columns["email"].identity
        assert columns["email"].type == "STRING"

        # Reset the password through the emailed link, in Chromium.
        users.restore_password(email)
        mail = emu.outbox(to=email, kind="password-reset")[-1]
        context, page = open_in_chromium(browser, mail.link)
        page.fill("#password", SECOND)
        page.fill("#confirm", SECOND)
        page.click("#submit")
        assert page.text_content("#title") == "Password changed"
        context.close()
        with pytest.raises(InvalidCredentialsError):
            users.login(email, FIRST)
        again = users.login(email, SECOND, stay_logged_in=True)
        assert again.object_id == me.object_id

        # Status: disabled by server code, then enabled again.
        server.disable_user(me.object_id)
        with pytest.raises(AccountDisabledError):
            users.login(email, SECOND)
        server.enable_user(me.object_id)
        assert users.login(email, SECOND).object_id == me.object_id
        with pytest.raises(NotAllowedError):  # a client may not change a status
            users.disable_user(me.object_id)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_guest_registers_and_keeps_its_object_id(driver: str, emu: Emulator) -> None:
    emu.configure_users(emailConfirmation=False)
    with apps(driver, emu) as app:
        users = app.client.users
        guest = users.login_as_guest()
        user = users.register({"email": f"g-{driver}@example.com", "password": FIRST})
        assert user.object_id == guest.object_id
        assert user.user_status == "ENABLED"
        assert users.current_user is not None
        assert users.current_user.user_status == "ENABLED"
        assert users.is_valid_login()
        me = users.login(f"g-{driver}@example.com", FIRST)
        assert me.object_id == guest.object_id


@pytest.mark.parametrize("driver", DRIVERS)
def test_refusals_have_their_classes(driver: str, emu: Emulator) -> None:
    emu.configure_users(emailConfirmation=False)
    with apps(driver, emu) as app:
        users = app.client.users
        with pytest.raises(PasswordPolicyError):
            users.register({"email": "p@example.com", "password": "short"})
        with pytest.raises(InvalidEmailError):
            users.register({"email": "not an address", "password": FIRST})
        with pytest.raises(ApiError) as off:
            users.resend_email_confirmation("nobody@example.com")
        assert off.value.code == 3103  # the app does not confirm addresses
        emu.configure_users(emailConfirmation=True)
        with pytest.raises(UserNotFoundError):
            users.resend_email_confirmation("nobody@example.com")
        emu.configure_users(emailConfirmation=False)
        with pytest.raises(NotLoggedInError):
            users.verify_password(FIRST)
        users.register({"email": "l@example.com", "password": FIRST})
        for _ in range(3):
            with pytest.raises(InvalidCredentialsError):
                users.login("l@example.com", "wrong password 1")
        with pytest.raises(AccountLockedError):
            users.login("l@example.com", FIRST)
        assert users.current_user is None


def test_the_emulators_routes_answer_what_the_sdk_sends(emu: Emulator) -> None:
    """A plain request, as the docs' curl would: the SDK's bytes are not special."""
    emu.configure_users(emailConfirmation=False)
    answer = requests.post(
        f"{emu.base_url}/users/register",
        json={"email": "plain@example.com", "password": FIRST},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    with Backendless(app_id=emu.app_id, api_key=emu.api_key, server_url=emu.url) as app:
        assert app.users.login("plain@example.com", FIRST).email == "plain@example.com"
