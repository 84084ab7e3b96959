"""A web frontend on another loopback origin uses the emulator through the official JS SDK's
browser bundle, in a real headless Chromium (Debian's, driven by Playwright): CORS preflights,
the app info at initApp, a guest login, an OAuth2 token login that upgrades the guest, the
legacy popup login (``loginWithFacebook``), whose callback page posts the user to its opener,
and a password account: registration (with the browser's language), a refused login, a login.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backendless_auth.emulator import Emulator

pytestmark = pytest.mark.browser

BUNDLE = Path(__file__).resolve().parent.parent / "jssdk" / "node_modules" / "backendless" / "dist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_MS = 20_000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title>
<script src="/backendless.js"></script></head>
<body><button id="popup">Log in with Facebook</button>
<script>
window.results = {};
const params = new URLSearchParams(location.search);
Backendless.initApp({appId: params.get('appId'), apiKey: params.get('apiKey'),
                     serverURL: params.get('server')});
window.run = async function () {
  const info = await Backendless.appInfoPromise();
  results.info = info.appId;
  const guest = await Backendless.UserService.loginAsGuest();
  results.guest = guest.objectId;
  results.valid = await Backendless.UserService.isValidLogin();
  const user = await Backendless.UserService.loginWithOauth2('google', params.get('token'), guest,
                                                             {email: 'email'});
  results.upgraded = user.objectId;
  results.email = user.email;
  const again = await Backendless.UserService.getCurrentUser(true);
  results.reloaded = again.objectId;
  await Backendless.UserService.logout();
  results.loggedOut = await Backendless.UserService.isValidLogin();
  return results;
};
window.runPassword = async function (email, password) {
  const out = {};
  const user = await Backendless.UserService.register({email, password, name: 'Dee'});
  out.registered = user.objectId;
  out.status = user.userStatus;
  out.locale = user.blUserLocale;
  out.tokenAfterRegister = Backendless.UserService.getCurrentUserToken();
  out.wrong = await Backendless.UserService.login(email, password + ' not').then(
    () => 'logged in', e => e.code);
  const logged = await Backendless.UserService.login(email, password, true);
  out.loggedIn = logged.objectId;
  out.email = logged.email;
  out.valid = await Backendless.UserService.isValidLogin();
  out.roles = await Backendless.UserService.getUserRoles();
  await Backendless.UserService.logout();
  out.loggedOut = await Backendless.UserService.isValidLogin();
  return out;
};
document.getElementById('popup').onclick = () => {
  window.popupResult = Backendless.UserService.loginWithFacebook({email: 'email'}, ['email'])
    .then(u => ({objectId: u.objectId, email: u.email,
                 token: Backendless.UserService.getCurrentUserToken()}),
          e => ({error: String(e && e.message || e)}));
};
</script></body></html>
"""


class _Frontend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/backendless.js":
            body, kind = (BUNDLE / "backendless.js").read_bytes(), "text/javascript"
        elif self.path.startswith("/app"):
            body, kind = PAGE.encode(), "text/html; charset=utf-8"
        elif self.path == "/favicon.ico":
            body, kind = b"", "image/x-icon"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def frontend(require_system: Callable[[bool, str], None]) -> Iterator[str]:
    """A dev server on another loopback origin (``http://localhost:PORT``) serving the page."""
    require_system((BUNDLE / "backendless.js").exists(), "the npm package backendless")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Frontend)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def browser(require_executable: Callable[[str], str]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = require_executable("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_frontend_on_another_origin_logs_in_through_the_js_sdk(
    frontend: str, browser: Any
) -> None:
    with Emulator() as emu:
        ann = emu.accounts("google")[0]
        token = emu.oauth2_token("google", ann)
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        preflights: list[str] = []
        page.on("request", lambda r: preflights.append(r.url) if r.method == "OPTIONS" else None)
        query = f"appId={emu.app_id}&apiKey={emu.api_key}&server={emu.url}&token={token}"
        page.goto(f"{frontend}/app?{query}", timeout=STEP_MS)
        results = page.evaluate("window.run()")
        assert results["info"] == emu.app_id
        assert results["valid"] is True
        assert results["upgraded"] == results["guest"] == results["reloaded"]
        assert results["email"] == "ann@example.com"
        assert results["loggedOut"] is False
        assert problems == []
        page.close()
        # Whether Chromium sends a preflight it answers from its cache is its business; the
        # user-token and JSON requests above could not have passed without one.
        assert preflights == [] or all(emu.url in u for u in preflights)


def test_a_frontend_on_another_origin_registers_and_logs_in_with_a_password(
    frontend: str, browser: Any
) -> None:
    with Emulator(users={"hashCost": 10}) as emu:
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        query = f"appId={emu.app_id}&apiKey={emu.api_key}&server={emu.url}"
        page.goto(f"{frontend}/app?{query}", timeout=STEP_MS)
        with emu.record_requests() as log:
            results = page.evaluate(
                "([email, password]) => window.runPassword(email, password)",
                ["dee@example.com", "Dee pass 1"],
            )
        assert results["status"] == "ENABLED"
        assert results["locale"] == "de"  # the browser's language, sent by the SDK
        assert results["tokenAfterRegister"] is None  # a registration logs nobody in
        # The refusal reached the page with its code: the error answer carries CORS too.
        assert results["wrong"] == 3003
        assert results["loggedIn"] == results["registered"]
        assert results["email"] == "dee@example.com"
        assert results["valid"] is True
        assert "AuthenticatedUser" in results["roles"]
        assert results["loggedOut"] is False
        user = emu.user(results["registered"])
        assert user is not None
        assert user["name"] == "Dee"
        assert user["blUserLocale"] == "de"
        assert [(r.method, r.route) for r in log if r.route.startswith("users/")][:3] == [
            ("POST", "users/register"),
            ("POST", "users/login"),
            ("POST", "users/login"),
        ]
        # Chromium reports the refused login's 401 on the console; nothing else may appear.
        assert [p for p in problems if "status of 401" not in p] == []
        context.close()


def test_the_legacy_popup_login_hands_the_user_to_the_page(frontend: str, browser: Any) -> None:
    with Emulator() as emu:
        context = browser.new_context()
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        query = f"appId={emu.app_id}&apiKey={emu.api_key}&server={emu.url}"
        page.goto(f"{frontend}/app?{query}", timeout=STEP_MS)
        with context.expect_page(timeout=STEP_MS) as popup_info:
            page.click("#popup")
        popup = popup_info.value
        popup.wait_for_selector("#account-1", timeout=STEP_MS)
        assert "/_providers/facebook/authorize" in popup.url
        popup.click("#account-1")
        result = page.evaluate("window.popupResult")
        assert "error" not in result, result
        assert result["email"] == "ann@example.com"
        user = emu.user(result["objectId"])
        assert user is not None
        assert user["socialAccount"] == "FACEBOOK"
        assert problems == []
        context.close()


def test_without_cors_the_browser_refuses(frontend: str, browser: Any) -> None:
    """The control: the same page against an emulator that allows no web origin fails."""
    with Emulator(cors_origins=[]) as emu:
        page = browser.new_page()
        query = f"appId={emu.app_id}&apiKey={emu.api_key}&server={emu.url}&token=x"
        page.goto(f"{frontend}/app?{query}", timeout=STEP_MS)
        outcome = page.evaluate("window.run().then(() => 'passed', e => 'refused: ' + e)")
        assert outcome.startswith("refused"), outcome
        assert emu.users() == []  # it stopped at its first call: the app info, withheld
        page.close()
