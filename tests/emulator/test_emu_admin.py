"""Admin routes, the admin token guard, fault mode and the OpenAPI description."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

# Imported at collection, not inside a test: pytest rewrites schemathesis's modules as they
# load (it is a pytest plugin), and a rewrite in the middle of the run, with emulator threads
# busy, has hit CPython 3.11's spurious "AST constructor recursion depth mismatch" (gh-106905).
import schemathesis
import schemathesis.openapi
from emu_helpers import Client, assert_error
from schemathesis import GenerationMode

from backendless_auth.emulator import Emulator, Fault, FaultError


def test_admin_token_guard(emu: Emulator) -> None:
    for method, route in [
        ("POST", "reset"),
        ("GET", "users"),
        ("GET", "accounts/google"),
        ("POST", "tokens"),
        ("POST", "sessions/expire"),
        ("GET", "faults"),
        ("DELETE", "faults"),
        ("GET", "providers"),
        ("PATCH", "providers/google"),
    ]:
        url = f"{emu.url}/_emulator/{route}"
        assert_error(requests.request(method, url, timeout=5), 401, 401)
        wrong = requests.request(method, url, headers={"X-Admin-Token": "wrong"}, timeout=5)
        assert_error(wrong, 401, 401)
    bearer = requests.get(
        f"{emu.url}/_emulator/users",
        headers={"Authorization": f"Bearer {emu.admin_token}"},
        timeout=5,
    )
    assert bearer.status_code == 200
    # Health and the API description are public.
    assert requests.get(f"{emu.url}/_emulator/health", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{emu.url}/_emulator/openapi.json", timeout=5).status_code == 200


def test_admin_accounts_tokens_users_reset(keyed: Client) -> None:
    listed = keyed.admin("GET", "accounts/github").json()
    assert [a["email"] for a in listed] == ["ann@example.com", "bob@example.com"]
    assert listed[0]["profile"]["login"] == "ann"
    added = keyed.admin("POST", "accounts/github", json={"email": "c@example.com", "name": "C"})
    assert added.status_code == 201
    account = added.json()
    assert account["profile"]["email"] == "c@example.com"
    minted = keyed.admin("POST", "tokens", json={"provider": "github", "account": account["id"]})
    token = minted.json()["accessToken"]
    user = keyed.post("users/oauth/github/login", json={"accessToken": token}).json()
    assert keyed.admin("GET", "users").json() == [
        {k: v for k, v in user.items() if k != "user-token"}
    ]
    tw = keyed.admin("GET", "accounts/twitter").json()[0]
    pair = keyed.admin("POST", "tokens", json={"provider": "twitter", "account": tw["id"]}).json()
    assert set(pair) == {"accessToken", "accessTokenSecret"}
    expired = keyed.admin("POST", "sessions/expire", json={"userToken": user["user-token"]})
    assert expired.json() == {"expired": 1}
    assert keyed.get(f"users/isvalidusertoken/{user['user-token']}").json() is False
    assert keyed.admin("POST", "reset").json() == {"reset": True}
    assert keyed.admin("GET", "users").json() == []
    assert_error(keyed.admin("GET", "accounts/myspace"), 8007, 404)
    assert_error(keyed.admin("POST", "accounts/google", json={"name": "no email"}), 8007)
    assert_error(keyed.admin("POST", "tokens", json={"provider": "google", "account": "x"}), 8007)
    assert_error(keyed.admin("POST", "tokens", data=b"{"), 8002)


def test_admin_providers(keyed: Client) -> None:
    providers = keyed.admin("GET", "providers").json()
    assert set(providers) == {"google", "facebook", "github", "linkedin", "twitter"}
    assert providers["google"]["endpoints"]["client_id"] == "google-desktop-client"
    off = keyed.admin("PATCH", "providers/linkedin", json={"enabled": False})
    assert off.json()["enabled"] is False
    token = keyed.emu.provider_token("linkedin", keyed.emu.accounts("linkedin")[0])
    assert_error(keyed.post("users/oauth/linkedin/login", json={"accessToken": token}), 3060)
    keyed.admin("PATCH", "providers/linkedin", json={"enabled": True})
    assert keyed.post("users/oauth/linkedin/login", json={"accessToken": token}).ok
    assert_error(keyed.admin("PATCH", "providers/linkedin", json={"enabled": "no"}), 8007)


# --- faults ------------------------------------------------------------------------------------


def test_fault_error_for_next_requests(keyed: Client) -> None:
    fault = keyed.emu.set_fault("error", status=502, count=2, path="register/guest")
    assert isinstance(fault, Fault)
    # A route that does not match is untouched.
    assert keyed.get("users/isvalidusertoken/x").status_code == 200
    assert_error(keyed.post("users/register/guest"), 502, 502)
    assert_error(keyed.post("users/register/guest"), 502, 502)
    assert keyed.post("users/register/guest").status_code == 200
    assert keyed.emu.faults() == []


def test_fault_delay(keyed: Client) -> None:
    # One delayed answer, then none: a second (the delay, long enough that a busy machine's
    # plain answer never takes as long) tells the two apart.
    keyed.emu.set_fault("delay", delay=1.0, method="POST")
    start = time.monotonic()
    assert keyed.post("users/register/guest").status_code == 200
    assert time.monotonic() - start >= 1.0
    start = time.monotonic()
    assert keyed.post("users/register/guest").status_code == 200
    assert time.monotonic() - start < 1.0


def test_fault_delay_hits_client_timeout(keyed: Client) -> None:
    keyed.emu.set_fault("delay", delay=0.5)
    with pytest.raises(requests.Timeout):
        keyed.post("users/register/guest", timeout=0.1)


def test_fault_reset_mid_response(keyed: Client) -> None:
    keyed.emu.set_fault("reset", path="/users/")
    # Headers and part of the body arrive, then the connection is reset.
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        keyed.post("users/register/guest")
    assert keyed.post("users/register/guest").status_code == 200


def test_fault_until_cleared_and_admin_route(keyed: Client) -> None:
    made = keyed.admin("POST", "faults", json={"kind": "error", "status": 503, "count": None})
    assert made.status_code == 201
    assert made.json()["kind"] == "error"
    for _ in range(3):
        assert_error(keyed.post("users/register/guest"), 503, 503)
    # Admin routes are never faulted, so the fault can be listed and cleared.
    assert keyed.admin("GET", "faults").json()[0]["fired"] == 3
    assert keyed.admin("DELETE", "faults").json() == []
    assert keyed.post("users/register/guest").status_code == 200
    keyed.emu.set_fault("error", count=None)
    keyed.emu.clear_faults()
    assert keyed.post("users/register/guest").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "explode"},
        {},
        {"kind": "error", "status": 200},
        {"kind": "delay", "delay": -1},
        {"kind": "delay", "delay": "1"},
        {"kind": "error", "count": 0},
        {"kind": "error", "path": "("},
        {"kind": "error", "bogus": 1},
        [1],
    ],
)
def test_bad_faults_are_refused(keyed: Client, body: object) -> None:
    assert_error(keyed.admin("POST", "faults", json=body), 8007)


def test_bad_fault_in_python() -> None:
    with pytest.raises(FaultError):
        Fault("explode")  # type: ignore[arg-type]


# --- OpenAPI -----------------------------------------------------------------------------------


def test_openapi_document_is_valid(emu: Emulator) -> None:
    from openapi_spec_validator import validate

    doc = requests.get(f"{emu.url}/_emulator/openapi.json", timeout=5).json()
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["servers"][0]["url"] == emu.url
    assert "/api/users/{kind}/{provider}/login" in doc["paths"]
    assert "/_emulator/faults" in doc["paths"]


def test_schemathesis_fuzz_never_500(emu: Emulator) -> None:
    """Positive and negative cases from the description: always an answer below 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable

    doc = requests.get(f"{emu.url}/_emulator/openapi.json", timeout=5).json()
    schema = schemathesis.openapi.from_dict(doc)
    http = requests.Session()
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if operation.path in ("/_emulator/reset", "/_emulator/faults"):
            continue  # would wipe state or slow the run; covered above
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))  # type: ignore[arg-type]
            @settings(
                max_examples=10,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: schemathesis.Case[Any]) -> None:
                nonlocal seen
                resp = case.call(
                    base_url=emu.url,
                    session=http,
                    headers={"X-Admin-Token": emu.admin_token},
                    allow_redirects=False,
                    timeout=5,
                )
                seen += 1
                assert resp.status_code < 500, (case.method, case.path, resp.text)
                if resp.status_code >= 400 and "json" in resp.headers.get("Content-Type", ""):
                    assert isinstance(resp.json()["code"], int)

            try:
                check()
            except Unsatisfiable:
                # Nothing to make invalid (e.g. no parameters and no body): no negative cases.
                assert mode is GenerationMode.NEGATIVE
    assert seen > 100
