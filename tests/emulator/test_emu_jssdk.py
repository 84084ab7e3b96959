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

from backendless_auth import Backendless
from backendless_auth.emulator import Emulator
from backendless_auth.emulator.recording import RecordedRequest

JSSDK = Path(__file__).resolve().parent.parent / "jssdk"
PACKAGE = JSSDK / "node_modules" / "backendless" / "package.json"
AFTER = "http://127.0.0.1:9/done"


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
    with Emulator() as emulator:
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
    assert {r.form for r in log} == {form}
    # Nothing on the console but the results: no "could not load backendless app info".
    assert stderr == ""
    failed = [r for r in results if not r["ok"]]
    assert failed == []
    names = [r["case"] for r in results]
    declared = re.findall(r"^  \['([^']+)'", (JSSDK / "conformance.cjs").read_text(), re.M)
    assert names == declared  # every case of the table ran, in order
    assert len(names) >= 15


# --- what each SDK sends -------------------------------------------------------------------------


def shape(r: RecordedRequest) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """A request without its values: method, route with ids and tokens as placeholders, which
    of the Backendless headers it sends, the keys of its JSON body."""
    route = re.sub(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", "<id>", r.route)
    headers = tuple(sorted(h for h in r.headers if h in ("user-token", "content-type")))
    keys = tuple(sorted(r.body)) if isinstance(r.body, dict) else ()
    return r.method, route, headers, keys


def _python_calls(app: Backendless, emu: Emulator) -> dict[str, Callable[[], object]]:
    tokens = _tokens(emu)
    state: dict[str, Any] = {}

    def guest() -> None:
        state["guest"] = app.users.login_as_guest()

    return {
        "loginAsGuest": guest,
        "getCurrentUser (reload)": lambda: app.users.get_current_user(reload=True),
        "isValidLogin": app.users.is_valid_login,
        "loginWithOauth2 upgrades the guest": lambda: app.users.login_with_oauth2(
            "google", tokens["google"], guest_user=state["guest"], fields_mapping={"email": "email"}
        ),
        "loginWithOauth1": lambda: app.users.login_with_oauth1("twitter", *tokens["twitter"]),
        "getAuthorizationUrlLink": lambda: app.users.get_authorization_url(
            "google",
            fields_mapping={"email": "email"},
            scope="openid email",
            redirect_after_login_url=AFTER,
        ),
        "logout": app.users.logout,
    }


#: Where the two SDKs' requests differ on purpose (docs/emulator.md has the same table).
INTENDED_DIFFERENCES = {
    # The JS SDK uses the legacy "social" path; Backendless's REST docs give "oauth". Both are
    # served by Backendless and by the emulator.
    "loginWithOauth2 upgrades the guest": "users/social/<p>/login, not users/oauth/<p>/login",
    "loginWithOauth1": "users/social/<p>/login, not users/oauth/<p>/login",
}


def test_the_two_sdks_send_the_same_requests_but_the_documented_differences(
    node: str, emu: Emulator
) -> None:
    with emu.record_requests() as js_log:
        results, _ = run_js(node, emu, *_python_calls(emu.app(), emu))
    assert all(r["ok"] for r in results), results
    # The JS SDK's initApp asks for the app info first; ours never needs it.
    assert shape(js_log[0])[:2] == ("GET", "info")
    js_requests = js_log[1:]

    app = emu.app()
    py_requests: list[tuple[str, RecordedRequest]] = []
    for name, call in _python_calls(app, emu).items():
        with emu.record_requests() as log:
            call()
        assert len(log) == 1, (name, log)
        py_requests.append((name, log[0]))

    assert len(js_requests) == len(py_requests)
    differences = {}
    for js, (name, py) in zip(js_requests, py_requests, strict=True):
        if shape(js) != shape(py):
            differences[name] = (shape(js), shape(py))
    assert set(differences) == set(INTENDED_DIFFERENCES), differences
    for name, (js_shape, py_shape) in differences.items():
        # Only the route differs: same method, headers and body keys.
        assert js_shape[0] == py_shape[0], name
        assert js_shape[2:] == py_shape[2:], name
        assert js_shape[1].replace("users/social/", "users/oauth/") == py_shape[1], name


def test_the_docs_list_the_intended_differences() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()
    for name in INTENDED_DIFFERENCES:
        assert f"| `{name.split(' ')[0]}`" in page, name
