"""``backendless-auth demo``: every login flow, step by step, against an in-process emulator.

It needs the ``emulator`` extra (``pip install 'backendless-auth[emulator]'``), no network and no
configuration, and takes a few seconds. Tokens are shown masked: their first four characters
and an ellipsis.

The module also holds the scripted browser used by the demo, the examples and the tests:
:func:`sign_in_with_requests` walks the emulator's sign-in page with plain ``requests``, and
:func:`scripted_opener` wraps it as an ``opener=`` for the browser login.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Backendless, BackendlessUser
    from .stores import TokenStore

__all__ = ["main", "mask", "scripted_opener", "sign_in_with_requests"]

_ACCOUNT_BUTTON = re.compile(r"<button[^>]*\bname=['\"]account['\"][^>]*>", re.IGNORECASE)
_VALUE = re.compile(r"\bvalue=['\"]([^'\"]*)['\"]", re.IGNORECASE)
_EMAIL = re.compile(r"\bdata-email=['\"]([^'\"]*)['\"]", re.IGNORECASE)


def mask(secret: str | None) -> str:
    """Show a secret as its first four characters and an ellipsis (``"(none)"`` for none)."""
    if not secret:
        return "(none)"
    return secret[:4] + "…"


def sign_in_with_requests(
    url: str, *, email: str | None = None, stop_at: str | None = None, timeout: float = 10.0
) -> str:
    """Play the person at the emulator's sign-in page, with plain HTTP.

    GETs the URL (a browser login's one-time start URL, or the provider's authorization URL),
    submits the account choice form (the account with ``email``, or the first one), and
    follows the redirects through the Backendless callback to wherever it sends the browser
    (the loopback page of a browser login). Cookies are kept along the way, as a browser
    keeps them: the loopback accepts the redirect only from the browser that opened the
    start URL.

    Args:
        url: The start URL or authorization URL.
        email: The account to choose; the first one on the page by default.
        stop_at: Do not load a redirect target starting with this: return its address instead
            (what a person copies from a page that did not load, for
            ``complete_browser_login``).
        timeout: Seconds for each request.

    Returns:
        The last URL reached, or the first one starting with ``stop_at``.

    Raises:
        LookupError: The page offers no such account (the message lists those it offers).
        requests.RequestException: A request failed.
    """
    import requests

    with requests.Session() as http:
        page_url, account = _open_sign_in(http, url, email, timeout)
        return _choose(http, page_url, account, stop_at, timeout)


def _open_sign_in(http: Any, url: str, email: str | None, timeout: float) -> tuple[str, str]:
    """GET the sign-in page; the page's address and the chosen account's form value."""
    page = http.get(url, timeout=timeout)
    page.raise_for_status()
    accounts = []
    for button in _ACCOUNT_BUTTON.findall(page.text):
        value = _VALUE.search(button)
        found = _EMAIL.search(button)
        if value:
            mail = unescape(found.group(1)) if found else ""
            accounts.append((unescape(value.group(1)), mail))
    chosen = [acct for acct, mail in accounts if email is None or mail == email]
    if not chosen:
        offered = ", ".join(mail or acct for acct, mail in accounts) or "none"
        wanted = f"no account {email}" if email else "no account"
        raise LookupError(f"the sign-in page offers {wanted} (it offers: {offered})")
    return str(page.url), chosen[0]


def _choose(http: Any, page_url: str, account: str, stop_at: str | None, timeout: float) -> str:
    """Submit the account choice and follow the redirects; where it ended."""
    from urllib.parse import urljoin

    # The form posts back to the page's own URL, query string included.
    answer = http.post(
        page_url,
        data={"action": "choose", "account": account},
        timeout=timeout,
        allow_redirects=False,
    )
    for _ in range(10):
        if not answer.is_redirect:
            break
        target = str(urljoin(answer.url, answer.headers["Location"]))
        if stop_at is not None and target.startswith(stop_at):
            return target
        answer = http.get(target, timeout=timeout, allow_redirects=False)
    return str(answer.url)


def scripted_opener(*, email: str | None = None) -> Callable[[str], bool]:
    """An ``opener=`` for the browser login that signs in with :func:`sign_in_with_requests`.

    The sign-in page is loaded before the opener returns, so that a page which does not offer
    the account ends the login at once, with that error. Choosing the account and following
    the redirects then runs in a background thread, as in a real browser: the login is
    waiting for the redirect while it happens.

    Args:
        email: The account to choose; the first one by default.

    Returns:
        A callable taking the URL to open and returning ``True`` (it was "opened").

    Raises:
        LookupError: From the callable, when the page offers no such account; the login
            then ends with it.
    """

    def opener(url: str) -> bool:
        import requests

        http = requests.Session()
        try:
            page_url, account = _open_sign_in(http, url, email, 10.0)
        except BaseException:
            http.close()
            raise
        threading.Thread(
            target=_walk_quietly,
            args=(http, page_url, account),
            name="scripted-browser",
            daemon=True,
        ).start()
        return True

    return opener


def _walk_quietly(http: Any, page_url: str, account: str) -> None:
    try:
        with http:
            _choose(http, page_url, account, None, 10.0)
    except Exception as exc:  # the login times out and says so; this only explains why
        sys.stderr.write(f"scripted browser: {type(exc).__name__}: {exc}\n")


# --- the demo ----------------------------------------------------------------------------------


class _Show:
    """Prints the steps: readable lines, or one JSON object per step with ``--json``."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.number = 0
        self.current: dict[str, Any] = {}

    def step(self, title: str, call: str) -> None:
        self.flush()
        self.number += 1
        self.current = {"step": self.number, "title": title, "call": call, "facts": {}}
        if not self.as_json:
            print(f"\n{self.number}. {title}")
            print(f"   {call}")

    def fact(self, label: str, value: object) -> None:
        self.current.setdefault("facts", {})[label] = value
        if not self.as_json:
            print(f"   {label:<13} {value}")

    def user(self, user: BackendlessUser) -> None:
        self.fact("objectId", user.object_id)
        if user.email:
            self.fact("email", user.email)
        self.fact("userStatus", user.user_status)
        if user.social_account:
            self.fact("socialAccount", user.social_account)
        self.fact("user-token", mask(user.user_token))

    def line(self, text: str) -> None:
        if not self.as_json:
            print(text)

    def flush(self) -> None:
        if self.as_json and self.current:
            print(json.dumps(self.current, sort_keys=True, default=str))
        self.current = {}


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"expected {what}")


@contextmanager
def _demo_store() -> Iterator[tuple[TokenStore, str]]:
    """A file store in a temporary folder, so that the demo never touches your sessions."""
    from . import stores

    with tempfile.TemporaryDirectory(prefix="backendless-auth-demo-") as folder:
        file_store = getattr(stores, "FileTokenStore", None)
        if file_store is not None:
            yield file_store(Path(folder)), "a file store in a temporary folder"
        else:
            yield stores.MemoryTokenStore(), "a memory store shared by two app objects"


def _run(show: _Show) -> None:
    from . import MemoryTokenStore, StoredSession
    from .emulator import Emulator

    started = time.perf_counter()
    with Emulator() as emu, _demo_store() as (store, store_label):
        show.line("backendless-auth demo: every login flow against an in-process emulator")
        show.step("Start the emulator", "Emulator().start()")
        show.fact("URL", emu.url)
        show.fact("app id", mask(emu.app_id))
        show.fact("token store", store_label)
        app = emu.app(token_store=store)

        show.step("Guest login", "app.users.login_as_guest()")
        guest = app.users.login_as_guest()
        show.user(guest)
        _check(guest.is_guest, "a guest user")

        google = emu.accounts("google")[0]
        show.step(
            "OAuth2 login with a Google access token, upgrading the guest",
            'app.users.login_with_oauth2("google", access_token, guest_user=guest)',
        )
        access_token = emu.provider_token("google", google)
        show.fact("access token", mask(access_token))
        user = app.users.login_with_oauth2(
            "google",
            access_token,
            guest_user=guest,
            fields_mapping={"email": "email", "name": "name"},
        )
        show.user(user)
        _check(user.object_id == guest.object_id, "the guest's objectId to be kept")
        _check(not user.is_guest, "a real user after the upgrade")
        show.fact("same user", "yes: the guest became this user")

        twitter = emu.accounts("twitter")[1]
        show.step(
            "OAuth1 login with a Twitter token and secret",
            'app.users.login_with_oauth1("twitter", token, token_secret)',
        )
        token, secret = emu.provider_token("twitter", twitter)
        show.fact("access token", mask(token))
        show.fact("token secret", mask(secret))
        user = app.users.login_with_oauth1("twitter", token, secret)
        show.user(user)
        show.fact("new user", "yes: another person, another objectId")

        _browser_step(show, app)
        _password_steps(show, emu, app)

        show.step(
            "Stay logged in",
            'app.users.login_with_oauth2("github", access_token, stay_logged_in=True)',
        )
        github_token = emu.provider_token("github", emu.accounts("github")[0])
        kept = app.users.login_with_oauth2("github", github_token, stay_logged_in=True)
        show.user(kept)
        show.fact("stored", "yes: the token store now holds the session")
        app.close()

        show.step(
            "Restore the session in a fresh app object (a new run of your program)",
            "emu.app(token_store=store).users.get_current_user()",
        )
        again = emu.app(token_store=store)
        restored = again.users.get_current_user()
        _check(restored is not None, "a restored session")
        assert restored is not None
        show.user(restored)
        _check(restored.object_id == kept.object_id, "the same user after a restart")
        valid = again.users.is_valid_login()
        show.fact("valid", valid)
        _check(valid, "the restored session to be valid")

        show.step("Log out", "app.users.logout()")
        old_token = again.users.user_token
        again.users.logout()
        show.fact("logged in", again.users.user_token is not None)
        third = emu.app(token_store=store)
        show.fact("stored", "no" if third.users.user_token is None else "yes")
        _check(third.users.user_token is None, "the store to be empty after logout")
        _check(old_token is not None, "a token before logout")
        assert old_token is not None
        # A program that still had the old token would find it refused by the server.
        leftover = MemoryTokenStore()
        checker = emu.app(token_store=leftover)
        leftover.save(
            checker.namespace, StoredSession(user_token=old_token, user_id=kept.object_id)
        )
        still_valid = checker.users.is_valid_login()
        show.fact("old token", f"{mask(old_token)} {'accepted' if still_valid else 'refused'}")
        _check(not still_valid, "the old token to be refused after logout")
        again.close()
        third.close()
        checker.close()
        show.flush()
    show.line(f"\nAll steps done in {time.perf_counter() - started:.2f} s.")


def _browser_step(show: _Show, app: Backendless) -> None:
    show.step(
        "Browser login, the person played by a script",
        'app.users.login_with_browser("facebook", opener=scripted_opener())',
    )
    show.line("   the script GETs the sign-in page, submits the account choice and follows")
    show.line("   the redirects to the loopback page the login waits on")
    user = app.users.login_with_browser("facebook", opener=scripted_opener(), timeout=30)
    show.user(user)


def _password_steps(show: _Show, emu: Any, app: Backendless) -> None:
    """A password account: register, confirm through the emulator's outbox, log in."""
    import secrets

    import requests

    emu.configure_users(emailConfirmation=True, hashCost=10)
    password = "Demo-" + secrets.token_urlsafe(12)
    email = "demo-password@example.com"
    show.step(
        "Register a password account (the app asks for confirmed addresses)",
        'app.users.register({"email": email, "password": password})',
    )
    show.fact("password", mask(password))
    user = app.users.register({"email": email, "password": password, "name": "Demo"})
    show.user(user)
    _check(user.user_status == "EMAIL_CONFIRMATION_PENDING", "a user waiting for confirmation")

    show.step(
        "Confirm the address: the link from the email, read in the emulator's outbox",
        'requests.get(emu.outbox(to=email, kind="confirmation")[-1].link)',
    )
    mail = emu.outbox(to=email, kind="confirmation")[-1]
    show.fact("email", mail.subject)
    page = requests.get(mail.link, timeout=10)
    confirmed = page.status_code == 200 and "Email confirmed" in page.text
    show.fact("confirmed", "yes" if confirmed else "no")
    _check(confirmed, "the confirmation link to confirm the address")

    show.step("Log in with the password", "app.users.login(email, password)")
    me = app.users.login(email, password)
    show.user(me)
    _check(me.object_id == user.object_id, "the registered user to log in")
    _check(me.user_status == "ENABLED", "a confirmed user")
    show.fact("roles", ", ".join(app.users.get_user_roles()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo.

    Args:
        argv: ``["--json"]`` for one JSON object per step; nothing else is accepted.

    Returns:
        0 when every step did what it should, 1 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog="backendless-auth demo",
        description="Walk every login flow against an in-process emulator (takes seconds).",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per step")
    args = parser.parse_args(argv)
    show = _Show(as_json=args.json)
    try:
        _run(show)
    except ImportError as exc:
        sys.stderr.write(
            f"demo: the emulator is not installed ({exc}); "
            "install it with: python -m pip install 'backendless-auth[emulator]'\n"
        )
        return 2
    except Exception as exc:
        from ._redact import REDACTOR

        show.flush()
        message = REDACTOR.redact(f"{type(exc).__name__}: {exc}")
        sys.stderr.write(f"demo: step {show.number} failed: {message}\n")
        return 1
    return 0
