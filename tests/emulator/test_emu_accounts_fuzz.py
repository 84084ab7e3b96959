"""Generated hostile input for the account routes: never a 500, always a Backendless-shaped
error; the where-clause parser never raises anything but its own error; no password leaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth.emulator import Emulator
from backendless_auth.emulator.where import WhereError, compile_where

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
SECRET = "Fuzz-secret-pw 1"

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
keys = st.one_of(
    st.sampled_from(
        [
            "email",
            "password",
            "login",
            "objectId",
            "user",
            "roleName",
            "userStatus",
            "name",
            "id",
            "blUserLocale",
            "created",
            "user-token",
        ]
    ),
    st.text(max_size=12),
)
bodies = st.one_of(
    st.dictionaries(keys, json_values, max_size=5),
    json_values,
    st.binary(max_size=40),
)


@pytest.fixture(scope="module")
def fuzz_emu() -> Iterator[Emulator]:
    with Emulator(users={"roles": ["Trial"], "lockout": {"attempts": 3, "seconds": 60}}) as emu:
        requests.post(
            f"{emu.base_url}/users/register",
            json={"email": "victim@example.com", "password": SECRET},
            timeout=10,
        ).raise_for_status()
        yield emu


ROUTES = [
    ("POST", "users/register"),
    ("POST", "users/login"),
    ("POST", "users/verifypassowrd"),
    ("POST", "users/assignRole"),
    ("POST", "users/unassignRole"),
    ("PUT", "users/{id}"),
    ("PUT", "users/{id}/status"),
]


def _send(emu: Emulator, base: str, method: str, route: str, body: Any, token: str | None) -> Any:
    victim = next(u for u in emu.users() if u.get("email") == "victim@example.com")
    url = f"{base}/{route.format(id=victim['objectId'])}"
    headers = {"user-token": token} if token is not None else {}
    if isinstance(body, bytes):
        kw: dict[str, Any] = {"data": body}
    else:
        kw = {"data": json.dumps(body), "headers": {"Content-Type": "application/json", **headers}}
    if "headers" not in kw:
        kw["headers"] = headers
    return requests.request(method, url, timeout=10, **kw)


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_bad_bodies_never_500(fuzz_emu: Emulator, method: str, route: str) -> None:
    @SETTINGS
    @given(
        body=bodies,
        server=st.booleans(),
        token=st.one_of(st.none(), st.text(max_size=20).filter(lambda t: "\n" not in t)),
    )
    def check(body: Any, server: bool, token: str | None) -> None:
        base = fuzz_emu.cloud_code_url if server else fuzz_emu.base_url
        try:
            resp = _send(fuzz_emu, base, method, route, body, token)
        except (ValueError, requests.exceptions.InvalidHeader):
            return  # requests refuses to send that header: nothing reached the emulator
        assert resp.status_code < 500, (route, body, resp.text)
        assert SECRET not in resp.text
        if resp.status_code >= 400:
            answer = resp.json()
            assert isinstance(answer["code"], int)
            assert isinstance(answer["message"], str)
            assert answer["message"]

    check()
    # The victim's account still works (nothing the fuzzer sent changed its password).
    ok = requests.post(
        f"{fuzz_emu.base_url}/users/login",
        json={"login": "victim@example.com", "password": SECRET},
        timeout=10,
    )
    if ok.status_code != 200:  # the fuzzer may have locked or disabled it; never a 500
        assert ok.json()["code"] in (3036, 3090, 3087), ok.text


@SETTINGS
@given(
    identity=st.text(max_size=40),
    route=st.sampled_from(
        [
            ("GET", "users/restorepassword/"),
            ("POST", "users/resendconfirmation/"),
            ("POST", "users/createEmailConfirmationURL/"),
            ("GET", "users/userroles/"),
            ("GET", "users/role/"),
            ("GET", "users/email/confirm/"),
            ("GET", "users/password/reset/"),
            ("POST", "users/password/reset/"),
        ]
    ),
)
def test_path_arguments_never_500(
    fuzz_emu: Emulator, identity: str, route: tuple[str, str]
) -> None:
    method, prefix = route
    url = f"{fuzz_emu.domain_url}/{prefix}{requests.utils.quote(identity, safe='')}"
    resp = requests.request(method, url, timeout=10)
    assert resp.status_code < 500, (url, resp.text)


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "where",
                "sortBy",
                "props",
                "property",
                "excludeProps",
                "pageSize",
                "offset",
                "loadRoles",
            ]
        ),
        st.text(max_size=40),
        max_size=4,
    )
)
def test_find_by_role_queries_never_500(fuzz_emu: Emulator, params: dict[str, str]) -> None:
    resp = requests.get(f"{fuzz_emu.domain_url}/users/role/Trial", params=params, timeout=10)
    assert resp.status_code < 500, (params, resp.text)
    if resp.status_code != 200:
        assert resp.json()["code"] in (1017, 8007)


_WHERE_WORDS = st.sampled_from(
    [
        "age",
        "name",
        "`x`",
        "=",
        "!=",
        "<>",
        "<",
        ">=",
        "AND",
        "OR",
        "NOT",
        "IS",
        "NULL",
        "LIKE",
        "IN",
        "(",
        ")",
        ",",
        "'a'",
        "'it''s'",
        "1",
        "-2.5",
        "TRUE",
        "false",
        ";",
        "--",
        "'",
    ]
)


@settings(max_examples=400, deadline=None, database=None)
@given(
    words=st.lists(_WHERE_WORDS, max_size=14),
    row=st.dictionaries(st.sampled_from(["age", "name", "x"]), json_scalars, max_size=3),
)
def test_where_parser_raises_only_its_own_error(words: list[str], row: dict[str, Any]) -> None:
    try:
        predicate = compile_where(" ".join(words))
    except WhereError:
        return
    assert predicate(row) in (True, False)
