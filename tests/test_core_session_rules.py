"""Session rules and requests of the core, through both services' public API.

* a ``guest_user`` JSON cannot encode is refused before anything is sent (issue 11, item 15);
* adopting a session obtained elsewhere with a dead token touches neither the current nor the
  stored session, even in a fresh process before the store was read (issue 11, item 17).
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    Backendless,
    InvalidArgumentError,
    MemoryTokenStore,
    SessionExpiredError,
    StoredSession,
)

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services(http="responses")

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
BASE = f"https://api.backendless.com/{APP_ID}/{API_KEY}/"
NAMESPACE = f"Backendless_{APP_ID}"
USER_TOKEN = "user-session-token-0006"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _cycle(kind: str) -> Any:
    if kind == "list":
        loop: list[Any] = []
        loop.append(loop)
        return loop
    table: dict[str, Any] = {}
    table["self"] = table
    return table


# Values json.dumps(..., allow_nan=False) refuses, each a class of its own.
unencodable = st.one_of(
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.binary(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.complex_numbers(max_magnitude=10),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.builds(object),
    st.tuples(st.integers(), st.integers()).map(lambda key: {key: 1}),
    st.sampled_from(["list", "dict"]).map(_cycle),
)


def nested(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as it is, or buried in lists and objects."""
    return st.recursive(
        st.just(value),
        lambda inner: (
            st.lists(inner, min_size=1, max_size=2)
            | st.dictionaries(st.text(max_size=4), inner, min_size=1, max_size=2)
        ),
        max_leaves=4,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), column=st.text(min_size=1, max_size=10))
def test_a_guest_user_json_cannot_encode_is_refused_before_sending(
    data: st.DataObject, column: str
) -> None:
    bad = data.draw(unencodable.flatmap(nested), label="value")
    guest = {"objectId": "guest-1", "userStatus": "GUEST", column: bad}
    if column in ("objectId", "userStatus", "user-token"):
        guest = {"objectId": "guest-1", "userStatus": "GUEST", "x" + column: bad}
    with responses.RequestsMock() as rsps:  # any request at all fails the test
        app = Backendless(app_id=APP_ID, api_key=API_KEY)
        with pytest.raises(InvalidArgumentError) as info:
            app.users.login_with_oauth2("google", "provider-token", guest_user=guest)
        assert info.value.argument == "guest_user"
        assert "guest_user" in str(info.value)
        assert len(rsps.calls) == 0


def test_the_refusal_names_the_reason() -> None:
    app = Backendless(app_id=APP_ID, api_key=API_KEY)
    base = {"objectId": "g", "userStatus": "GUEST"}
    cases = {
        "date": {"born": datetime.date(2000, 1, 1)},
        "NaN": {"score": math.nan},
        "circular": {"me": _cycle("dict")},
        "keys must be": {"k": {(1, 2): 3}},
        "Decimal": {"d": decimal.Decimal(1)},
    }
    for reason, extra in cases.items():
        with pytest.raises(InvalidArgumentError, match=reason):
            app.users.login_with_oauth2("google", "t", guest_user={**base, **extra})


def test_a_dead_adopted_session_clears_nothing_in_a_fresh_process(
    rsps: responses.RequestsMock,
) -> None:
    store = MemoryTokenStore()
    good = StoredSession(user_token=USER_TOKEN, user_id="user-1")
    store.save(NAMESPACE, good)
    rsps.get(
        BASE + "data/Users/user-2",
        status=401,
        json={"code": 3064, "message": "Not existing user token"},
    )
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        # The store has not been read yet: the adoption comes first.
        with pytest.raises(SessionExpiredError):
            app.users.complete_browser_login(
                "http://localhost/done?userId=user-2&userToken=dead-token-0008",
                stay_logged_in=True,
            )
        assert store.load(NAMESPACE) == good
        assert app.users.user_token == USER_TOKEN
        assert app.users.current_user_id == "user-1"


def test_a_dead_adopted_session_keeps_the_current_one(rsps: responses.RequestsMock) -> None:
    store = MemoryTokenStore()
    rsps.post(
        BASE + "users/register/guest",
        json={"objectId": "g", "userStatus": "GUEST", "user-token": USER_TOKEN},
    )
    rsps.get(BASE + "data/Users/user-2", status=401, json={"code": 3064, "message": "dead"})
    with Backendless(app_id=APP_ID, api_key=API_KEY, token_store=store) as app:
        app.users.login_as_guest(stay_logged_in=True)
        with pytest.raises(SessionExpiredError):
            app.users.complete_browser_login("http://localhost/?userId=user-2&userToken=dead-0009")
        assert app.users.user_token == USER_TOKEN
        assert app.users.current_user is not None
        saved = store.load(NAMESPACE)
        assert saved is not None
        assert saved.user_token == USER_TOKEN
