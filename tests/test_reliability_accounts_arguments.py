"""Generated arguments for the account calls: every bad value is refused before any request,
naming its argument; any value at all is refused that way or makes one request and succeeds;
never a foreign exception, never a password in a message. Through both services
(``both_services``, tests/drivers.py): the checks are the shared core's, run before any I/O."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reliability_bad_arguments import anything

from backendless_auth import (
    Backendless,
    HttpResponse,
    InvalidArgumentError,
    UserService,
)

pytestmark = pytest.mark.both_services(http="responses")

JSON = {"content-type": "application/json"}
USER = {"objectId": "U1", "userStatus": "ENABLED", "___class": "Users", "email": "a@b.c"}


class Recording:
    """A transport that answers each account call as Backendless would, and records it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, label: str
    ) -> HttpResponse:
        self.calls.append(label)
        answers: dict[str, Any] = {
            "login": {**USER, "user-token": "T" * 36},
            "verify_password": {"valid": True},
            "create_email_confirmation_url": {"confirmationURL": "https://x.test/c"},
            "get_user_roles": ["AuthenticatedUser"],
            "find_by_role": [USER],
            "describe_user_class": [{"name": "email", "type": "STRING", "identity": True}],
        }
        if label in ("restore_password", "resend_email_confirmation", "assign_role"):
            return HttpResponse(200, {}, b"")
        if label in ("unassign_role", "update_user_status"):
            return HttpResponse(200, {}, b"")
        return HttpResponse(200, JSON, json.dumps(answers.get(label, USER)).encode())

    def close(self) -> None:
        pass


def service() -> tuple[UserService, Recording]:
    transport = Recording()
    app = Backendless(app_id="APP", api_key="KEY", transport=transport)
    app.users.set_current_user_token("S" * 36, user_id="U1")  # verify_password needs one
    return app.users, transport


surrogate = st.text(min_size=1, max_size=5).map(lambda s: s + "\ud800")
blank = st.text(alphabet=" \t\r\n", max_size=4)
bad_identity = (
    anything.filter(
        lambda v: not isinstance(v, str) and (isinstance(v, bool) or not isinstance(v, int))
    )
    | blank
    | surrogate
)
bad_text = anything.filter(lambda v: not isinstance(v, str)) | blank | surrogate
bad_password = anything.filter(lambda v: not isinstance(v, str)) | st.just("") | surrogate
bad_flag = anything.filter(lambda v: not isinstance(v, bool))
bad_optional_flag = bad_flag.filter(lambda v: v is not None)

GOOD: dict[str, Any] = {
    "properties": {"email": "a@b.c", "password": "pw-123456"},
    "login": "a@b.c",
    "password": "pw-123456",
    "stay_logged_in": False,
    "current_password": "pw-123456",
    "email": "a@b.c",
    "identity": "a@b.c",
    "user": {"objectId": "U1", "name": "n"},
    "user_id": "U1",
    "role_name": "Pro",
    "load_roles": None,
    "where": None,
    "props": None,
    "sort_by": None,
    "page_size": None,
    "offset": None,
    "status": "ENABLED",
    "user_token": "A" * 30,
}
BAD: dict[str, st.SearchStrategy[Any]] = {
    "properties": anything.filter(lambda v: not isinstance(v, dict))
    | st.dictionaries(st.text(max_size=5), anything, max_size=3).filter(
        lambda d: "password" not in d or not isinstance(d["password"], str) or not d["password"]
    ),
    "login": bad_identity,
    "password": bad_password,
    "stay_logged_in": bad_flag,
    "current_password": bad_password,
    "email": bad_text,
    "identity": bad_identity,
    "user": anything.filter(lambda v: not isinstance(v, dict))
    | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3).filter(
        lambda d: "objectId" not in d or not d["objectId"].strip()
    ),
    "user_id": bad_identity.filter(lambda v: v is not None),
    "role_name": bad_text,
    "load_roles": bad_optional_flag,
    "where": bad_text.filter(lambda v: v is not None),
    "props": st.text(min_size=1, max_size=5)
    | st.lists(bad_text, min_size=1, max_size=3)
    | st.integers(),
    "sort_by": st.lists(bad_text, min_size=1, max_size=3) | st.integers() | blank,
    "page_size": st.integers(max_value=0) | st.integers(min_value=101) | st.booleans(),
    "offset": st.integers(max_value=-1) | st.floats() | st.text(max_size=3),
    "status": anything.filter(
        lambda v: v not in ("ENABLED", "DISABLED", "EMAIL_CONFIRMATION_PENDING")
    ),
    "user_token": bad_text
    | st.text(min_size=1, max_size=10).map(lambda s: "tok en" + s)
    | st.just("x" * 5000),
}

Call = Callable[[UserService, dict[str, Any]], object]
METHODS: dict[str, tuple[Call, tuple[str, ...]]] = {
    "register": (lambda s, a: s.register(a["properties"]), ("properties",)),
    "login": (
        lambda s, a: s.login(a["login"], a["password"], stay_logged_in=a["stay_logged_in"]),
        ("login", "password", "stay_logged_in"),
    ),
    "verify_password": (
        lambda s, a: s.verify_password(a["current_password"]),
        ("current_password",),
    ),
    "restore_password": (lambda s, a: s.restore_password(a["email"]), ("email",)),
    "resend_email_confirmation": (
        lambda s, a: s.resend_email_confirmation(a["identity"]),
        ("identity",),
    ),
    "create_email_confirmation_url": (
        lambda s, a: s.create_email_confirmation_url(a["identity"]),
        ("identity",),
    ),
    "update": (lambda s, a: s.update(a["user"]), ("user",)),
    "get_user_roles": (lambda s, a: s.get_user_roles(a["user_id"]), ("user_id",)),
    "find_by_role": (
        lambda s, a: s.find_by_role(
            a["role_name"],
            load_roles=a["load_roles"],
            where=a["where"],
            properties=a["props"],
            sort_by=a["sort_by"],
            page_size=a["page_size"],
            offset=a["offset"],
        ),
        ("role_name", "load_roles", "where", "props", "sort_by", "page_size", "offset"),
    ),
    "assign_role": (
        lambda s, a: s.assign_role(a["identity"], a["role_name"]),
        ("identity", "role_name"),
    ),
    "unassign_role": (
        lambda s, a: s.unassign_role(a["identity"], a["role_name"]),
        ("identity", "role_name"),
    ),
    "update_user_status": (
        lambda s, a: s.update_user_status(a["user_id"], a["status"]),
        ("user_id", "status"),
    ),
    "set_current_user_token": (
        lambda s, a: s.set_current_user_token(
            a["user_token"], user_id=a["user_id"], stay_logged_in=a["stay_logged_in"]
        ),
        ("user_token", "user_id", "stay_logged_in"),
    ),
}
# The name find_by_role gives it; "props" above only keeps it apart from register's argument.
ARGUMENT_NAMES = {"props": "properties"}
CASES = [(method, arg) for method, (_, args) in METHODS.items() for arg in args]


def _examples(service_driver: str) -> settings:
    """120 examples for the sync service, 15 for each async one.

    The profile is derandomised, so every driver draws the same values in the same order: an
    async driver replays the start of the sync run. The checks are the shared core's, so fewer
    keep the module's added time small.
    """
    return settings(
        max_examples=120 if service_driver == "sync" else 15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.mark.parametrize(("method", "argument"), CASES)
def test_one_bad_argument_is_refused_before_any_request(
    method: str, argument: str, service_driver: str
) -> None:
    call, _ = METHODS[method]

    @_examples(service_driver)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        value = data.draw(BAD[argument], label=argument)
        users, transport = service()
        with pytest.raises(InvalidArgumentError) as caught:
            call(users, {**GOOD, argument: value})
        assert transport.calls == []
        named = ARGUMENT_NAMES.get(argument, argument)
        expected = {named, "password"} if method == "register" else {named}
        assert caught.value.argument in expected, caught.value
        assert str(caught.value)

    run()


@pytest.mark.parametrize("method", list(METHODS))
def test_any_values_succeed_or_are_refused_before_any_request(
    method: str, service_driver: str
) -> None:
    call, names = METHODS[method]

    @_examples(service_driver)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        values = {name: data.draw(anything | st.just(GOOD[name]), label=name) for name in names}
        users, transport = service()
        refused: str | None = None
        try:
            call(users, {**GOOD, **values})
        except InvalidArgumentError as exc:
            refused = str(exc)
        if refused is None:
            assert len(transport.calls) <= 1
            return
        assert transport.calls == []
        for name in ("password", "current_password"):
            secret = values.get(name)
            if isinstance(secret, str) and len(secret) >= 3:
                assert secret not in refused

    run()
