"""Bad answers from the server, for every call: only our error types, and nothing lost.

Generated statuses, headers and bodies (HTML error pages, truncated JSON, JSON of the wrong
types, empty bodies, 5xx, Backendless error bodies of the wrong shape, very large bodies) are
answered to each call of a service that holds a "stay logged in" session. Whatever comes back,
the call returns or raises a :class:`BackendlessError`; when it raises (other than
:class:`SessionExpiredError`, whose job is to clear the session), the previous session is intact
in memory and in the token store, and no error text shows the session token.

Two paths: a fake :class:`Transport` (the service's own parsing), and ``responses`` under the
real ``RequestsTransport`` (the transport's handling of statuses and bodies too). Both run
through both services (``both_services``, tests/drivers.py): under the async ones, ``responses``
answers the ``HttpxTransport``'s requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    Backendless,
    BackendlessError,
    FileTokenStore,
    HttpResponse,
    MemoryTokenStore,
    SessionExpiredError,
    StoredSession,
    TokenStore,
    UserService,
)

pytestmark = pytest.mark.both_services(http="responses")

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
PREVIOUS_TOKEN = "PREVIOUS-SESSION-TOKEN-0123456789ABCDEF"
PREVIOUS_USER = "PREVIOUS-USER-ID"
_FIGURES: dict[str, int] = {}


def _count(name: str, n: int = 1) -> None:
    _FIGURES[name] = _FIGURES.get(name, 0) + n


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    tried = _FIGURES.get("answers", 0)
    print(
        f"\n[figures] bad responses: {tried} generated answers, "
        f"{_FIGURES.get('raised', 0)} raised our errors, {_FIGURES.get('returned', 0)} returned, "
        f"{_FIGURES.get('expired', 0)} cleared the session by design (session expired), "
        f"sessions lost otherwise: {_FIGURES.get('lost', 0)}, foreign exceptions: 0; "
        f"{_FIGURES.get('broken login answers', 0)} broken login answers carrying a fresh "
        "token, tokens kept in an error: 0"
    )


# --- generated answers -------------------------------------------------------------------------

USER = {
    "___class": "Users",
    "objectId": "NEW-USER",
    "userStatus": "ENABLED",
    "email": "ann@example.com",
    "created": 1700000000000,
    "user-token": "NEW-SESSION-TOKEN-0123456789",
}
USER_JSON = json.dumps(USER)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)
wrong_user_types = st.fixed_dictionaries(
    {},
    optional={
        key: json_values for key in ("objectId", "user-token", "email", "created", "userStatus")
    },
)
error_bodies = st.fixed_dictionaries(
    {},
    optional={
        "code": json_values | st.sampled_from([3064, 3048, 3091, 2002, 3023, 8007, "3064"]),
        "message": json_values,
    },
)
html_pages = st.sampled_from(
    [
        "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
        "<!DOCTYPE html><title>Sign in to Wi-Fi</title><form action=/login></form>",
        "<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
    ]
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    html_pages.map(str.encode),
    st.integers(1, len(USER_JSON) - 1).map(lambda n: USER_JSON[:n].encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    wrong_user_types.map(lambda v: json.dumps(v).encode()),
    error_bodies.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"\xff\xfe\x00garbage", b"null", b"true", b"false", b'"text"', b"[]"]),
    st.sampled_from([2_000_000, 6_000_000]).map(lambda n: b"<" + b"x" * n),
    st.sampled_from([3_000_000]).map(lambda n: b'{"objectId": "' + b"a" * n + b'"}'),
)
statuses = st.one_of(
    st.sampled_from([200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 429, 500, 502, 503, 504]),
    st.integers(100, 599),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/html",
        "text/plain",
        "application/octet-stream",
        "",
        "application/json; charset=latin-1",
    ]
)


@st.composite
def answers(draw: st.DrawFn) -> HttpResponse:
    headers = {"content-type": draw(content_types)}
    if draw(st.booleans()):
        headers["location"] = "https://elsewhere.test/steal"
    return HttpResponse(status=draw(statuses), headers=headers, body=draw(bodies))


# --- the calls ---------------------------------------------------------------------------------

CALLS: dict[str, Callable[[UserService], object]] = {
    "login_with_oauth2": lambda s: s.login_with_oauth2("google", "provider-access-token-123"),
    "login_with_oauth1": lambda s: s.login_with_oauth1(
        "twitter", "provider-access-token-123", "provider-token-secret-123"
    ),
    "login_as_guest": lambda s: s.login_as_guest(stay_logged_in=True),
    "get_authorization_url": lambda s: s.get_authorization_url("google"),
    "logout": lambda s: s.logout(),
    "is_valid_login": lambda s: s.is_valid_login(),
    "get_current_user": lambda s: s.get_current_user(reload=True),
    "complete_browser_login": lambda s: s.complete_browser_login(
        "http://127.0.0.1:5000/cb?userId=NEW-USER&userToken=NEW-SESSION-TOKEN-0123456789",
        stay_logged_in=True,
    ),
}


class ScriptedTransport:
    """Answers every request with the one answer it was given."""

    def __init__(self, answer: HttpResponse) -> None:
        self.answer = answer
        self.sent = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        self.sent += 1
        return self.answer

    def close(self) -> None:
        pass


def _previous_session(store: TokenStore, namespace: str) -> StoredSession:
    session = StoredSession(
        user_token=PREVIOUS_TOKEN, user_id=PREVIOUS_USER, stay_logged_in=True, saved_at=1.0
    )
    store.save(namespace, session)
    return session


def _check(call: str, service: UserService, store: TokenStore, namespace: str) -> None:
    stored = store.load(namespace)
    assert stored is not None
    assert stored.user_token == PREVIOUS_TOKEN
    assert service.user_token == PREVIOUS_TOKEN  # restored from the store
    _count("answers")
    error: BackendlessError | None = None
    try:
        CALLS[call](service)
    except BackendlessError as exc:
        error = exc
    if error is None:
        _count("returned")
        return
    # A session-expired answer clears the session it was about, by design; the browser login's
    # answer is about the new token, so there the previous session must survive it too.
    if isinstance(error, SessionExpiredError) and call != "complete_browser_login":
        _count("expired")
        return
    _count("raised")
    for text in (str(error), repr(error), error.message):
        assert PREVIOUS_TOKEN not in text
    assert error.message.strip()
    after = store.load(namespace)
    lost = (
        service.user_token != PREVIOUS_TOKEN
        or service.current_user_id != PREVIOUS_USER
        or after is None
        or after.user_token != PREVIOUS_TOKEN
    )
    _count("lost", int(lost))
    assert not lost, f"{call} raised {error!r} and lost the previous session"


def _examples(service_driver: str, sync: int, each_async: int) -> settings:
    """``sync`` examples for the sync service, ``each_async`` for each async one.

    The profile is derandomised, so every driver draws the same answers in the same order: an
    async driver replays the start of the sync run. The parsing is the shared core's (what
    differs is the driver loop and the transport), so fewer keep the module's added time small.
    """
    return settings(
        max_examples=sync if service_driver == "sync" else each_async,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("call", list(CALLS))
def test_any_answer_gives_our_error_and_keeps_the_session(call: str, service_driver: str) -> None:
    @_examples(service_driver, sync=120, each_async=15)
    @given(answer=answers())
    def run(answer: HttpResponse) -> None:
        store = MemoryTokenStore()
        transport = ScriptedTransport(answer)
        app = Backendless(app_id="APP", api_key="KEY", transport=transport, token_store=store)
        _previous_session(store, app.namespace)
        _check(call, app.users, store, app.namespace)

    run()


@pytest.mark.parametrize("call", list(CALLS))
def test_any_answer_over_requests_keeps_the_file_store_intact(
    tmp_path_factory: pytest.TempPathFactory, call: str, service_driver: str
) -> None:
    @_examples(service_driver, sync=40, each_async=6)
    @given(status=statuses, content_type=content_types, body=bodies)
    def run(status: int, content_type: str, body: bytes) -> None:
        folder: Path = tmp_path_factory.mktemp("store")
        store = FileTokenStore(folder)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method in ("GET", "POST"):
                mock.add(
                    method,
                    re.compile(r"https://api\.backendless\.com/.*"),
                    body=body,
                    status=status,
                    content_type=content_type or None,
                )
            # 502/503/504 answers to GETs are retried after a short pause: keep the pause out.
            with Backendless(app_id="APP", api_key="KEY", token_store=store, timeout=2) as app:
                _previous_session(store, app.namespace)
                _check(call, app.users, store, app.namespace)

    run()


# --- a token in a broken answer ----------------------------------------------------------------

NEW_TOKEN = "ORPHAN-SESSION-TOKEN-0123456789ABCDEF"


@st.composite
def broken_login_answers(draw: st.DrawFn) -> HttpResponse:
    """An answer that carries a fresh session token but is not a usable login answer."""
    user = {**USER, "user-token": NEW_TOKEN}
    kind = draw(st.sampled_from(["wrong types", "truncated", "error status", "html"]))
    if kind == "wrong types":
        user[draw(st.sampled_from(["objectId", "created", "email"]))] = draw(
            st.sampled_from([[], {}, True])
        )
        text = json.dumps(user)
    elif kind == "truncated":
        full = json.dumps(user)
        text = full[: draw(st.integers(full.index(NEW_TOKEN) + len(NEW_TOKEN), len(full) - 1))]
    elif kind == "html":
        text = f"<html><body><pre>{json.dumps(user)}</pre></body></html>"
    else:
        text = json.dumps(user)
    status = draw(st.sampled_from([400, 500, 502])) if kind == "error status" else 200
    return HttpResponse(status, {"content-type": "application/json"}, text.encode())


@pytest.mark.parametrize(
    "call", ["login_with_oauth2", "login_with_oauth1", "login_as_guest", "complete_browser_login"]
)
@SETTINGS
@given(answer=broken_login_answers())
def test_a_token_in_a_broken_answer_is_not_kept_in_the_error(
    call: str, answer: HttpResponse
) -> None:
    app = Backendless(app_id="APP", api_key="KEY", transport=ScriptedTransport(answer))
    error: BackendlessError | None = None
    try:
        CALLS[call](app.users)
    except BackendlessError as exc:
        error = exc
    assert error is not None
    _count("broken login answers")
    for text in (str(error), repr(error), repr(vars(error))):
        assert NEW_TOKEN not in text
    assert app.users.user_token is None
