"""Conformance: the official Backendless JS SDK (npm ``backendless``, pinned in
tests/jssdk/package.json) runs every UserService call against the emulator in Node, and what it
sends is compared with what our SDK sends for the same calls.

Node and the npm package come from CI (.ci/run installs Debian's nodejs and npm, then
``npm install`` in tests/jssdk); elsewhere the test skips when they are missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backendless_auth import Backendless
from backendless_auth.emulator import Emulator
from backendless_auth.emulator.recording import RecordedRequest
from backendless_auth.exceptions import ApiError

JSSDK = Path(__file__).resolve().parent.parent / "jssdk"
PACKAGE = JSSDK / "node_modules" / "backendless" / "package.json"
AFTER = "http://127.0.0.1:9/done"
#: What the conformance runner needs of the app: confirmed emails, a custom role; a cheap hash.
USERS = {"emailConfirmation": True, "roles": ["Pro"], "hashCost": 10}
#: The browser language the runner gives the JS SDK (it sends ``blUserLocale`` from it).
LOCALE = "de-DE"


@pytest.fixture
def node(require_system: Callable[[bool, str], None]) -> str:
    path = shutil.which("node")
    require_system(path is not None, "node (Debian package nodejs)")
    require_system(PACKAGE.exists(), "the npm package backendless (npm install in tests/jssdk)")
    version = json.loads(PACKAGE.read_text())["version"]
    pinned = json.loads((JSSDK / "package.json").read_text())["dependencies"]["backendless"]
    assert version == pinned, f"tests/jssdk has backendless {version}, package.json pins {pinned}"
    assert path is not None
    return path


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(users=USERS) as emulator:
        yield emulator


def _tokens(emu: Emulator) -> dict[str, Any]:
    def ann(provider: str) -> Any:
        return emu.accounts(provider)[0]

    return {
        "google": emu.oauth2_token("google", ann("google")),
        "github": emu.oauth2_token("github", ann("github")),
        "twitter": list(emu.oauth1_token("twitter", ann("twitter"))),
        "facebook": emu.oauth2_token("facebook", ann("facebook")),
        "googleplus": emu.oauth2_token("google", ann("google")),
    }


def run_js(
    node: str, emu: Emulator, *cases: str, domain: bool = False
) -> tuple[list[dict[str, Any]], str]:
    config: dict[str, Any] = {
        "serverURL": emu.url,
        "appId": emu.app_id,
        "apiKey": emu.api_key,
        "tokens": _tokens(emu),
        "cloudCodeKey": emu.cloud_code_key,
        "adminToken": emu.admin_token,
        "locale": LOCALE,
    }
    if domain:
        config["domain"] = emu.url
    done = subprocess.run(
        [node, "conformance.cjs", *cases],
        cwd=JSSDK,
        env={**os.environ, "BL_CONFORMANCE": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    results = [json.loads(line) for line in lines]  # anything that is not a result fails here
    assert done.returncode == 0, done.stdout + done.stderr
    return results, done.stderr


@pytest.mark.parametrize("form", ["keyed", "domain"])
def test_every_user_service_call_of_the_js_sdk_works(node: str, emu: Emulator, form: str) -> None:
    with emu.record_requests() as log:
        results, stderr = run_js(node, emu, domain=form == "domain")
    failed = [r for r in results if not r["ok"]]
    assert failed == []
    # Nothing on the console but the results: no "could not load backendless app info".
    assert stderr == ""
    names = [r["case"] for r in results]
    declared = re.findall(r"^  \['([^']+)'", (JSSDK / "conformance.cjs").read_text(), re.M)
    assert names == declared  # every case of the table ran, in order
    assert len(names) >= 45
    # The app uses the form it was given. Server code is always keyed, with the CloudCode key:
    # its app info, then one request for each "(CloudCode key)" case. The emailed link is always
    # in the domain form.
    links = [r for r in log if r.route.startswith("users/email/")]
    server = [r for r in log if r.server]
    assert [r.form for r in links] == ["domain"]
    assert [r.route for r in server][:1] == ["info"]
    assert len(server) == 1 + sum(name.endswith("(CloudCode key)") for name in names)
    assert {r.form for r in server} == {"keyed"}
    assert {r.form for r in log if r not in links and r not in server} == {form}


# --- what each SDK sends -------------------------------------------------------------------------


_ID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
_LINK = re.compile(r"^users/email/confirm/[^/]+$")

Shape = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]


def shape(r: RecordedRequest) -> Shape:
    """A request without its values: method, route and query string (as sent) with ids and
    tokens as placeholders, which of the Backendless headers it sends, the keys of its JSON
    body."""
    route = _LINK.sub("users/email/confirm/<token>", _ID.sub("<id>", r.route))
    headers = tuple(sorted(h for h in r.headers if h in ("user-token", "content-type")))
    keys = tuple(sorted(r.body)) if isinstance(r.body, dict) else ()
    return r.method, route, _ID.sub("<id>", r.query_string), headers, keys


# The runner's password user (tests/jssdk/conformance.cjs has the same).
BOB = "bob@example.com"
PASSWORD = "Bob pass 1"


def refused(code: int, call: Callable[[], object]) -> Callable[[], None]:
    """A call that Backendless refuses with ``code``."""

    def run() -> None:
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.code == code, caught.value

    return run


def expect(value: object, call: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        assert call() == value

    return run


def _python_calls(app: Backendless, emu: Emulator) -> dict[str, Callable[[], object]]:
    """Our SDK's call for each case of the runner that makes one request, in the table's order,
    keyed by the case's name. ``server`` holds the CloudCode key, as the runner's second app."""
    tokens = _tokens(emu)
    server = emu.server_app()
    state: dict[str, Any] = {}
    users = app.users

    def guest() -> None:
        state["guest"] = users.login_as_guest()

    def register() -> None:
        user = users.register({"email": BOB, "password": PASSWORD, "name": "Bob"})
        assert user.user_status == "EMAIL_CONFIRMATION_PENDING"
        state["bob"] = user.object_id

    def confirm() -> None:
        # Not a call of either SDK: the link a person opens, fetched the same way by both.
        link = emu.outbox(to=BOB, kind="confirmation")[-1].link
        requests.get(link, timeout=30).raise_for_status()

    def update_current() -> None:
        current = users.current_user
        assert current is not None
        user = users.update({**current.to_wire(), "name": "Bobby", "age": 42})
        assert user["age"] == 42

    def find_by_role() -> None:
        [ann] = users.find_by_role(
            "Pro",
            load_roles=True,
            where="email LIKE '%@example.com'",
            properties=["email", "name"],
            sort_by=["email DESC"],
            page_size=1,
            offset=1,
        )
        assert ann.email == "ann@example.com"

    return {
        "loginAsGuest": guest,
        "getCurrentUser (reload)": lambda: users.get_current_user(reload=True),
        "isValidLogin": users.is_valid_login,
        "loginWithOauth2 upgrades the guest": lambda: users.login_with_oauth2(
            "google", tokens["google"], guest_user=state["guest"], fields_mapping={"email": "email"}
        ),
        "loginWithOauth1": lambda: users.login_with_oauth1("twitter", *tokens["twitter"]),
        "getAuthorizationUrlLink": lambda: users.get_authorization_url(
            "google",
            fields_mapping={"email": "email"},
            scope="openid email",
            redirect_after_login_url=AFTER,
        ),
        "logout": users.logout,
        "register": register,
        "register a taken identity": refused(
            3033, lambda: users.register({"email": "BOB@example.com", "password": "other pass"})
        ),
        # "register without a password": ours refuses it before sending.
        "register with an invalid email": refused(
            3040, lambda: users.register({"email": "not an address", "password": PASSWORD})
        ),
        "login before the confirmation": refused(3087, lambda: users.login(BOB, PASSWORD)),
        "createEmailConfirmationURL": lambda: users.create_email_confirmation_url(BOB),
        "resendEmailConfirmation": lambda: users.resend_email_confirmation(BOB),
        "the confirmation link from the outbox": confirm,
        "login with a wrong password": refused(3003, lambda: users.login(BOB, "not the password")),
        "login": lambda: users.login(BOB, PASSWORD),
        "update": lambda: users.update({"objectId": state["bob"], "name": "Bobby"}),
        "update with the logged-in user": update_current,
        "getUserRoles": users.get_user_roles,
        "describeUserClass": users.describe_user_class,
        "restorePassword": lambda: users.restore_password(BOB),
        "verifyPassword needs the CloudCode key": refused(
            3122, lambda: users.verify_password(PASSWORD)
        ),
        "logout of the password user": users.logout,
        "login (CloudCode key)": lambda: server.users.login(BOB, PASSWORD),
        "verifyPassword (CloudCode key)": expect(
            True, lambda: server.users.verify_password(PASSWORD)
        ),
        "verifyPassword with a wrong password (CloudCode key)": expect(
            False, lambda: server.users.verify_password("not the password")
        ),
        # "login by objectId ...": ours logs in with a password only.
        "logout (CloudCode key)": server.users.logout,
        "assignRole from a client": refused(2011, lambda: users.assign_role(BOB, "Pro")),
        "assignRole (CloudCode key)": lambda: server.users.assign_role(BOB, "Pro"),
        "assignRole to a social user (CloudCode key)": lambda: server.users.assign_role(
            "ann@example.com", "Pro"
        ),
        "getUserRoles of another user (CloudCode key)": lambda: server.users.get_user_roles(
            state["bob"]
        ),
        "findByRole": find_by_role,
        "unassignRole (CloudCode key)": lambda: server.users.unassign_role(BOB, "Pro"),
        "findByRole after unassignRole": lambda: users.find_by_role("Pro"),
        "findByRole with a system role": refused(
            2005, lambda: users.find_by_role("AuthenticatedUser", load_roles=True, page_size=5)
        ),
        "disableUser from a client": refused(3054, lambda: users.disable_user(state["bob"])),
        "disableUser (CloudCode key)": lambda: server.users.disable_user(state["bob"]),
        "login of a disabled user": refused(3090, lambda: users.login(BOB, PASSWORD)),
        "enableUser (CloudCode key)": lambda: server.users.enable_user(state["bob"]),
        "updateUserStatus (CloudCode key)": lambda: server.users.update_user_status(
            state["bob"], "DISABLED"
        ),
        "updateUserStatus needs the CloudCode key": refused(
            3054, lambda: users.update_user_status(state["bob"], "ENABLED")
        ),
    }


def _legacy_social(js: Shape) -> Shape:
    method, route, query, headers, keys = js
    return method, route.replace("users/social/", "users/oauth/"), query, headers, keys


def _url_quote(js: Shape) -> Shape:
    method, route, query, headers, keys = js
    return method, route, query.replace("%27", "'"), headers, keys


def _no_token_in_body(js: Shape) -> Shape:
    method, route, query, headers, keys = js
    return method, route, query, headers, tuple(k for k in keys if k != "user-token")


#: Where the two SDKs' requests differ on purpose (docs/emulator.md has the same table): what
#: turns the JS SDK's request into ours.
INTENDED_DIFFERENCES: dict[str, Callable[[Shape], Shape]] = {
    # The JS SDK uses the legacy "social" path; Backendless's REST docs give "oauth". Both are
    # served by Backendless and by the emulator.
    "loginWithOauth2 upgrades the guest": _legacy_social,
    "loginWithOauth1": _legacy_social,
    # The JS SDK builds the query with encodeURIComponent, which keeps "'"; the WHATWG URL
    # parser of Node and of browsers then sends it as %27 in a query. Ours sends the
    # encodeURIComponent text as it is. Both decode to the same where clause.
    "findByRole": _url_quote,
    # The JS SDK sends the user object as it is, its session's "user-token" key included (the
    # server drops it); ours never puts a token in a body: it goes in the header only.
    "update with the logged-in user": _no_token_in_body,
}


def _declared() -> list[str]:
    return re.findall(r"^  \['([^']+)'", (JSSDK / "conformance.cjs").read_text(), re.M)


def test_the_two_sdks_send_the_same_requests_but_the_documented_differences(
    node: str, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = list(_python_calls(emu.app(), emu))
    assert names == [name for name in _declared() if name in names]  # in the table's order
    with emu.record_requests() as js_log:
        results, _ = run_js(node, emu, *names)
    assert [r["case"] for r in results] == names
    assert all(r["ok"] for r in results), results
    # The JS SDK's initApp asks for the app info (in both apps); ours never needs it.
    assert sorted(r.server for r in js_log if r.route == "info") == [False, True]
    js_requests = [r for r in js_log if r.route != "info"]

    # Our SDK from the same start: the same users and outbox, the same language.
    emu.reset()
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", LOCALE.replace("-", "_") + ".UTF-8")
    py_requests: list[tuple[str, RecordedRequest]] = []
    for name, call in _python_calls(emu.app(), emu).items():
        with emu.record_requests() as log:
            call()
        assert len(log) == 1, (name, log)
        py_requests.append((name, log[0]))

    assert len(js_requests) == len(py_requests)
    differences = {}
    for js, (name, py) in zip(js_requests, py_requests, strict=True):
        assert js.server == py.server, name  # the CloudCode key where the runner's server has it
        if shape(js) != shape(py):
            differences[name] = (shape(js), shape(py))
    assert set(differences) == set(INTENDED_DIFFERENCES), differences
    for name, (js_shape, py_shape) in differences.items():
        assert INTENDED_DIFFERENCES[name](js_shape) == py_shape, name
    # Both send the client's language on registration: the same one.
    [(js, py)] = [
        (js, py)
        for js, (name, py) in zip(js_requests, py_requests, strict=True)
        if name == "register"
    ]
    assert js.body["blUserLocale"] == py.body["blUserLocale"] == "de"


def test_the_docs_list_the_intended_differences() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()
    for name in INTENDED_DIFFERENCES:
        assert f"| `{name.split(' ')[0]}`" in page, name
