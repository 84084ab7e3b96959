"""The outbox's links in a real headless Chromium: the confirmation link confirms, the reset link's
form sets a new password (policy enforced, escaped, CSRF-safe, once).

Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright install``), one browser
for the module, a fresh context (no cookies) per test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from emu_helpers import Client, assert_error

from backendless_auth.emulator import Emulator

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_MS = 15_000
PW = "correct horse 1"
NEW = "Brand-new pass 9"


@pytest.fixture(scope="module")
def browser_holder() -> Iterator[dict[str, Any]]:
    """Started lazily by :func:`browser`, after the executable check; closed once."""
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


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(STEP_MS)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


@pytest.fixture
def strict() -> Iterator[Emulator]:
    policy = {"minLength": 10, "uppercase": True, "digits": True}
    with Emulator(users={"emailConfirmation": True, "passwordPolicy": policy}) as emulator:
        yield emulator


def register(emu: Emulator, **props: Any) -> dict[str, Any]:
    body = {"email": "ann@example.com", "password": "First-pass 1", **props}
    resp = requests.post(f"{emu.base_url}/users/register", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def login_status(emu: Emulator, password: str, identity: str = "ann@example.com") -> int:
    resp = requests.post(
        f"{emu.base_url}/users/login", json={"login": identity, "password": password}, timeout=10
    )
    return int(resp.json().get("code", 0)) if resp.status_code != 200 else 0


def test_confirmation_link_confirms_in_chromium(strict: Emulator, page: Any) -> None:
    register(strict)
    assert login_status(strict, "First-pass 1") == 3087
    [mail] = strict.outbox(kind="confirmation")
    answer = page.goto(mail.link)
    assert answer.status == 200
    assert page.text_content("#title") == "Email confirmed"
    assert login_status(strict, "First-pass 1") == 0
    again = page.goto(mail.link)
    assert again.status == 400
    assert page.text_content("#title") == "Link expired"


def test_reset_link_sets_a_new_password_in_chromium(strict: Emulator, page: Any) -> None:
    user = register(strict)
    s = Client(strict, strict.cloud_code_url)
    put = s.http.put(
        f"{s.base}/users/{user['objectId']}/status", json={"userStatus": "ENABLED"}, timeout=10
    )
    assert put.status_code == 200
    session = requests.post(
        f"{strict.base_url}/users/login",
        json={"login": "ann@example.com", "password": "First-pass 1"},
        timeout=10,
    ).json()["user-token"]
    assert requests.get(f"{strict.base_url}/users/restorepassword/ann%40example.com", timeout=10).ok
    [mail] = strict.outbox(kind="password-reset")
    assert page.goto(mail.link).status == 200
    assert page.text_content("#identity") == "ann@example.com"
    assert "at least 10 characters" in (page.text_content("#policy") or "")

    # The policy is enforced on the page, and nothing changes.
    page.fill("#password", "weak")
    page.fill("#confirm", "weak")
    page.click("#submit")
    assert "at least 10 characters" in (page.text_content("#error") or "")
    assert "an uppercase letter" in (page.text_content("#error") or "")
    # Two different passwords.
    page.fill("#password", NEW)
    page.fill("#confirm", NEW + "x")
    page.click("#submit")
    assert page.text_content("#error") == "The two passwords differ."
    assert login_status(strict, "First-pass 1") == 0

    page.fill("#password", NEW)
    page.fill("#confirm", NEW)
    page.click("#submit")
    assert page.text_content("#title") == "Password changed"
    assert login_status(strict, NEW) == 0
    assert login_status(strict, "First-pass 1") == 3003
    # The sessions from before the reset are gone.
    valid = requests.get(f"{strict.base_url}/users/isvalidusertoken/{session}", timeout=10)
    assert valid.json() is False
    # The link worked once.
    assert page.goto(mail.link).status == 400
    assert page.text_content("#title") == "Link expired"
    assert page.dialogs == []


def test_reset_page_escapes_what_it_shows(page: Any) -> None:
    evil = "<img src=x onerror=alert(1)>'\"><script>alert(2)</script>"
    with Emulator(users={"identity": "username"}) as emu:
        resp = requests.post(
            f"{emu.base_url}/users/register",
            json={"username": evil, "email": "eve@example.com", "password": PW},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        assert requests.get(
            f"{emu.base_url}/users/restorepassword/" + requests.utils.quote(evil, safe=""),
            timeout=10,
        ).ok
        [mail] = emu.outbox()
        page.goto(mail.link)
        assert page.text_content("#identity") == evil
        assert page.query_selector("img") is None
        page.fill("#password", "<b>x</b>")
        page.fill("#confirm", "<b>y</b>")
        page.click("#submit")
        assert page.text_content("#error") == "The two passwords differ."
        assert page.query_selector("b") is None
        assert page.dialogs == []


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><form id='f' method='post' action='" + self.target + "'>"
            "<input name='csrf' value='guess'><input name='password' value='Attacker-pw 1'>"
            "<input name='confirm' value='Attacker-pw 1'></form>"
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_cross_origin_form_cannot_set_the_password(strict: Emulator, page: Any) -> None:
    register(strict)
    strict.configure_users(emailConfirmation=False)
    assert requests.get(f"{strict.base_url}/users/restorepassword/ann%40example.com", timeout=10).ok
    [mail] = strict.outbox(kind="password-reset")
    # The person has the reset page open (its cookie is set) when another page attacks.
    page.goto(mail.link)
    handler = type("Handler", (_Attacker,), {"target": mail.link})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with page.expect_navigation(url=mail.link):
            page.goto(f"http://127.0.0.1:{server.server_port}/")
        assert page.text_content("#title") == "Request refused"
    finally:
        server.shutdown()
        server.server_close()
    assert login_status(strict, "Attacker-pw 1") == 3003
    # The person's own form still works afterwards.
    page.goto(mail.link)
    page.fill("#password", NEW)
    page.fill("#confirm", NEW)
    page.click("#submit")
    assert page.text_content("#title") == "Password changed"


def test_reset_form_without_its_cookie_over_http(keyed: Client) -> None:
    emu = keyed.emu
    keyed.post("users/register", json={"email": "ann@example.com", "password": PW})
    keyed.get("users/restorepassword/ann%40example.com")
    [mail] = emu.outbox()
    form = {"csrf": "x", "password": NEW, "confirm": NEW}
    assert requests.post(mail.link, data=form, timeout=10).status_code == 403
    with requests.Session() as http:
        first = http.get(mail.link, timeout=10)
        assert first.headers["X-Frame-Options"] == "DENY"
        assert "no-referrer" in first.headers["Referrer-Policy"]
        cookie = http.cookies.get("bl_emu_reset_csrf")
        assert cookie
        assert "samesite=strict" in first.headers["Set-Cookie"].lower()
        assert "httponly" in first.headers["Set-Cookie"].lower()
        assert http.post(mail.link, data=form, timeout=10).status_code == 403  # wrong field
        ok = http.post(mail.link, data={**form, "csrf": cookie}, timeout=10)
        assert ok.status_code == 200, ok.text
    login = keyed.post("users/login", json={"login": "ann@example.com", "password": NEW})
    assert login.status_code == 200
    assert requests.get(mail.link, timeout=10).status_code == 400
    assert_error(
        keyed.post("users/login", json={"login": "ann@example.com", "password": PW}), 3003, 401
    )
    assert requests.get(f"{emu.url}/api/users/password/reset/forged", timeout=10).status_code == 400
