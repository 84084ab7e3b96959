"""A web frontend on another loopback origin uses the emulator through the official JS SDK's
browser bundle, in a real headless Chromium (Debian's, driven by Playwright): the conformance
cases of tests/jssdk/cases.js, the very cases Node runs (test_emu_jssdk.py), every one of them
across origins (CORS on every call), in both URL forms, with nothing on the console but their
results; and the legacy popup login (``loginWithFacebook``), whose callback page posts the user
to its opener.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from test_emu_jssdk import (
    USERS,
    assert_forms,
    assert_the_same_requests_as_ours,
    compared_cases,
    conformance_config,
    declared_cases,
)

from backendless_auth.emulator import Emulator

pytestmark = pytest.mark.browser

JSSDK = Path(__file__).resolve().parent.parent / "jssdk"
BUNDLE = JSSDK / "node_modules" / "backendless" / "dist"
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
#: The whole table, like Node's subprocess timeout: a hang fails instead of blocking the suite.
RUN_MS = 120_000

#: The cases that cannot run in a browser, for a reason the browser imposes, with the reason.
#: Every other case of tests/jssdk/cases.js runs in Chromium.
NODE_ONLY: dict[str, str] = {}

#: The page of the conformance cases: the SDK's bundle, the cases, and a runner that logs one
#: result per case (a result is {"case", "ok", "detail", "refusals"}) and nothing else.
CONFORMANCE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>conformance</title>
<script src="/backendless.js"></script>
<script src="/cases.js"></script></head>
<body><script>
window.finished = false;
window.runCases = function (config, only) {
  const admin = (method, path, body = null) => window.admin(method, path, body);
  const emit = (result, refusals) => console.log(JSON.stringify({...result, refusals}));
  runConformance(Backendless, config, admin, only, emit)
    .catch(error => console.log(JSON.stringify({case: '(runner)', ok: false,
                                                detail: String(error), refusals: []})))
    .finally(() => { window.finished = true; });
};
</script></body></html>
"""

#: A page with a button for the legacy popup login.
POPUP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title>
<script src="/backendless.js"></script></head>
<body><button id="popup">Log in with Facebook</button>
<script>
const params = new URLSearchParams(location.search);
Backendless.initApp({appId: params.get('appId'), apiKey: params.get('apiKey'),
                     serverURL: params.get('server')});
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
        elif self.path == "/cases.js":
            body, kind = (JSSDK / "cases.js").read_bytes(), "text/javascript"
        elif self.path == "/conformance":
            body, kind = CONFORMANCE_PAGE.encode(), "text/html; charset=utf-8"
        elif self.path.startswith("/app"):
            body, kind = POPUP_PAGE.encode(), "text/html; charset=utf-8"
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
    """A dev server on another loopback origin (``http://localhost:PORT``) serving the pages."""
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


#: What Chromium itself prints on the console for every answer with an error status, a refusal
#: the case expected included; the page cannot keep it off.
_HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+) ")


class _Console:
    """Everything a page says: its console messages, its uncaught errors, its failed requests."""

    def __init__(self, page: Any) -> None:
        self.messages: list[Any] = []
        self.problems: list[str] = []
        page.on("console", lambda m: self.messages.append(m))
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))

    def results(self, server: str) -> tuple[list[dict[str, Any]], list[int]]:
        """The results the page logged, and the statuses of the HTTP errors Chromium reported
        (each from the emulator); any other message is a problem."""
        results: list[dict[str, Any]] = []
        statuses: list[int] = []
        for message in self.messages:
            error = _HTTP_ERROR.match(message.text)
            if message.type == "log":
                results.append(json.loads(message.text))  # anything else fails here
            elif message.type == "error" and error and message.location["url"].startswith(server):
                statuses.append(int(error[1]))
            else:
                self.problems.append(f"{message.type}: {message.text} ({message.location})")
        return results, statuses


def run_in_chromium(
    browser: Any, frontend: str, emu: Emulator, *names: str, domain: bool = False
) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    """Runs the cases ``names`` (by default all but NODE_ONLY) on a page of ``frontend``, in a
    browser whose language is the cases' locale; the admin helper is the test's (Python calls
    the admin route). Answers the results, the HTTP error statuses Chromium reported, and every
    other thing the page said."""
    config = conformance_config(emu, domain=domain)
    only = list(names) or [name for name in declared_cases() if name not in NODE_ONLY]
    assert not set(only) & set(NODE_ONLY)

    def admin(method: str, path: str, body: Any) -> Any:
        assert path.startswith("/_emulator/"), path
        answer = requests.request(
            method,
            emu.url + path,
            headers={"X-Admin-Token": emu.admin_token},
            json=body,
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    context = browser.new_context(locale=config["locale"])
    try:
        page = context.new_page()
        console = _Console(page)
        page.expose_function("admin", admin)
        page.goto(f"{frontend}/conformance", timeout=STEP_MS)
        page.evaluate("([config, only]) => window.runCases(config, only)", [config, only])
        page.wait_for_function("window.finished", timeout=RUN_MS, polling=50)
        results, statuses = console.results(emu.url)
        return results, statuses, console.problems
    finally:
        context.close()


@pytest.mark.parametrize("form", ["keyed", "domain"])
def test_a_frontend_on_another_origin_runs_every_user_service_call(
    frontend: str, browser: Any, form: str
) -> None:
    with Emulator(users=USERS) as emu, emu.record_requests() as log:
        results, statuses, problems = run_in_chromium(
            browser, frontend, emu, domain=form == "domain"
        )
    assert [r for r in results if not r["ok"]] == []
    names = [r["case"] for r in results]
    # Every case of the table but a few the browser cannot run, each for a stated reason.
    assert set(NODE_ONLY) <= set(declared_cases())
    assert len(NODE_ONLY) <= 3
    assert all(NODE_ONLY.values())
    assert names == [name for name in declared_cases() if name not in NODE_ONLY]
    assert problems == []
    # Chromium reports each error answer on the console: exactly the refusals the cases
    # expected (and checked the code of), no other.
    assert sorted(statuses) == sorted(s for r in results for s in r["refusals"])
    assert len(statuses) == (JSSDK / "cases.js").read_text().count("await rejects(")
    # Every call crossed origins: the page is on localhost, the emulator on 127.0.0.1.
    assert {r.headers.get("origin") for r in log} == {frontend}
    assert_forms(log, names, form)


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


def test_the_browser_sends_what_our_sdk_sends_but_the_documented_differences(
    frontend: str, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison of test_emu_jssdk.py, with the requests of the bundle in Chromium."""
    with Emulator(users=USERS) as emu:
        names = compared_cases(emu)
        with emu.record_requests() as log:
            results, _, problems = run_in_chromium(browser, frontend, emu, *names)
        assert [r["case"] for r in results] == names
        assert [r for r in results if not r["ok"]] == []
        assert problems == []
        assert_the_same_requests_as_ours(log, emu, monkeypatch)


def test_without_cors_the_browser_refuses(frontend: str, browser: Any) -> None:
    """The control: the same cases against an emulator that allows no web origin fail, all but
    the one that sends no request (``isValidLogin`` without a session answers false at once)."""
    with Emulator(users=USERS, cors_origins=[]) as emu:
        results, _, problems = run_in_chromium(browser, frontend, emu)
        assert [r["case"] for r in results if r["ok"]] == ["isValidLogin after logout"]
        assert results[0]["case"] == "initApp loads the app info"
        assert results[0]["detail"] == "Network Error"
        assert problems  # Chromium's own reports of the withheld answers
        # A request that needs no preflight (a guest registration: a POST without a body) still
        # reaches the server, as CORS has it; its answer never reached the page. A JSON one
        # (register) never left the browser.
        assert {user["userStatus"] for user in emu.users()} <= {"GUEST"}
