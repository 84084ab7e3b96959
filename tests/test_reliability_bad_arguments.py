"""Bad arguments to every public entry point: only our argument errors, and no request sent.

Two properties, over generated values:

* one argument made bad, the others good → :class:`InvalidArgumentError` (or its subclass
  :class:`ConfigurationError`), naming that argument, and the transport saw no request;
* any values at all → the call either succeeds or raises :class:`InvalidArgumentError`, and an
  :class:`InvalidArgumentError` always means that nothing was sent.

The transport is a recording fake that answers every call plausibly, so that a value the SDK
wrongly lets through shows up as a recorded request (or an error of another type).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backendless_auth import (
    Backendless,
    BackendlessUser,
    ConfigurationError,
    FileTokenStore,
    HttpResponse,
    InvalidArgumentError,
    MemoryTokenStore,
    StoredSession,
    Timeout,
    UserService,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FIGURES: dict[str, int] = {}


def _count(name: str) -> None:
    _FIGURES[name] = _FIGURES.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    total = sum(_FIGURES.values())
    detail = ", ".join(f"{name}={n}" for name, n in sorted(_FIGURES.items()))
    print(f"\n[figures] bad arguments: {total} generated calls, 0 requests sent ({detail})")


class RecordingTransport:
    """Answers every request plausibly, and remembers each one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        self.calls.append((method, label))
        json_type = {"content-type": "application/json"}
        user = {"objectId": "U1", "userStatus": "ENABLED", "___class": "Users"}
        if label.startswith("login_") and label != "login_with_browser":
            return HttpResponse(
                200, json_type, json.dumps({**user, "user-token": "T" * 36}).encode()
            )
        if label == "get_authorization_url":
            return HttpResponse(200, {"content-type": "text/plain"}, b"https://provider.test/a")
        if label == "is_valid_login":
            return HttpResponse(200, json_type, b"true")
        if label == "logout":
            return HttpResponse(200, {}, b"")
        return HttpResponse(200, json_type, json.dumps(user).encode())

    def close(self) -> None:
        pass


def _service() -> tuple[UserService, RecordingTransport]:
    transport = RecordingTransport()
    app = Backendless(app_id="APP", api_key="KEY", transport=transport)
    return app.users, transport


# --- generated values ------------------------------------------------------------------------

anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        | st.tuples(inner, inner)
    ),
    max_leaves=6,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=6,
)
not_str = anything.filter(lambda v: not isinstance(v, str))
blank = st.text(alphabet=" \t\r\n", max_size=4)
not_bool = anything.filter(lambda v: not isinstance(v, bool))
bad_provider = (
    not_str
    | st.just("")
    | st.text(min_size=1, max_size=12).filter(
        lambda s: any(not (c.isascii() and (c.isalnum() or c in "_.-")) for c in s)
    )
    | st.text(alphabet=".", min_size=1, max_size=4)
)
bad_secret = not_str | blank
bad_mapping = (
    anything.filter(lambda v: v is not None and not isinstance(v, Mapping))
    | st.dictionaries(
        not_str.filter(lambda v: v is not None and _hashable(v)), st.text(), min_size=1
    )
    | st.dictionaries(st.text(min_size=1), not_str, min_size=1)
    | st.dictionaries(st.just(""), st.text(min_size=1), min_size=1)
    | st.dictionaries(st.text(min_size=1), st.just(""), min_size=1)
)
bad_scope = anything.filter(
    lambda v: (
        v is not None
        and not isinstance(v, str)
        and not (isinstance(v, (list, tuple)) and all(isinstance(i, str) and i for i in v))
    )
)
bad_url = (
    not_str.filter(lambda v: v is not None)
    | blank
    | st.text(min_size=1, max_size=20).filter(
        lambda s: s.strip() and not s.lower().startswith(("http://", "https://"))
    )
)
bad_optional_str = not_str.filter(lambda v: v is not None) | blank
bad_guest = (
    anything.filter(lambda v: v is not None and not isinstance(v, Mapping))
    | st.fixed_dictionaries({"objectId": not_str | st.just("")})
    | st.fixed_dictionaries(
        {"objectId": st.text(min_size=1), "userStatus": st.sampled_from(["ENABLED", "DISABLED"])}
    )
    | st.fixed_dictionaries(
        {"objectId": st.text(min_size=1), "userStatus": st.just("GUEST"), "created": st.text()}
    )
)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


GOOD: dict[str, Any] = {
    "provider_code": "google",
    "access_token": "provider-access-token",
    "access_token_secret": "provider-token-secret",
    "guest_user": None,
    "fields_mapping": {"email": "email"},
    "stay_logged_in": False,
    "scope": ["openid", "email"],
    "scope_separator": " ",
    "redirect_after_login_url": "http://127.0.0.1:5000/done",
    "callback_url_domain": None,
    "reload": False,
}
BAD: dict[str, st.SearchStrategy[Any]] = {
    "provider_code": bad_provider,
    "access_token": bad_secret,
    "access_token_secret": bad_secret,
    "guest_user": bad_guest,
    "fields_mapping": bad_mapping,
    "stay_logged_in": not_bool,
    "scope": bad_scope,
    "scope_separator": not_str,
    "redirect_after_login_url": bad_url,
    "callback_url_domain": bad_optional_str,
    "reload": not_bool,
}
# Each public method of UserService that takes arguments: how to call it, and its arguments.
METHODS: dict[str, tuple[Callable[[UserService, dict[str, Any]], object], tuple[str, ...]]] = {
    "login_with_oauth2": (
        lambda s, a: s.login_with_oauth2(
            a["provider_code"],
            a["access_token"],
            guest_user=a["guest_user"],
            fields_mapping=a["fields_mapping"],
            stay_logged_in=a["stay_logged_in"],
        ),
        ("provider_code", "access_token", "guest_user", "fields_mapping", "stay_logged_in"),
    ),
    "login_with_oauth1": (
        lambda s, a: s.login_with_oauth1(
            a["provider_code"],
            a["access_token"],
            a["access_token_secret"],
            guest_user=a["guest_user"],
            fields_mapping=a["fields_mapping"],
            stay_logged_in=a["stay_logged_in"],
        ),
        (
            "provider_code",
            "access_token",
            "access_token_secret",
            "guest_user",
            "fields_mapping",
            "stay_logged_in",
        ),
    ),
    "get_authorization_url": (
        lambda s, a: s.get_authorization_url(
            a["provider_code"],
            fields_mapping=a["fields_mapping"],
            scope=a["scope"],
            scope_separator=a["scope_separator"],
            redirect_after_login_url=a["redirect_after_login_url"],
            callback_url_domain=a["callback_url_domain"],
        ),
        (
            "provider_code",
            "fields_mapping",
            "scope",
            "scope_separator",
            "redirect_after_login_url",
            "callback_url_domain",
        ),
    ),
    "login_as_guest": (
        lambda s, a: s.login_as_guest(stay_logged_in=a["stay_logged_in"]),
        ("stay_logged_in",),
    ),
    "get_current_user": (lambda s, a: s.get_current_user(reload=a["reload"]), ("reload",)),
}
# The browser and provider flows: a valid call would open a socket and wait for a person, so
# they get the one-bad-argument property only, with the receiver watched for any start.
bad_timeout = anything.filter(
    lambda v: isinstance(v, bool) or not isinstance(v, (int, float))
) | st.sampled_from([0, -1, -0.5, math.inf, -math.inf, math.nan])
bad_redirected_url = (
    not_str
    | st.text(max_size=30).filter(
        lambda s: not s.strip().lower().startswith(("http://", "https://"))
    )
    | st.sampled_from(
        [
            "http://127.0.0.1:5000/cb",
            "https://x.test/cb?foo=bar",
            "http://x.test/?userId=U1",
            "http:///?a=b",
        ]
    )
)


def _not_a_preset(name: str) -> bool:
    return name.lower() not in ("google", "facebook", "github", "linkedin", "twitter")


FLOW_GOOD: dict[str, Any] = {
    "open_browser": True,
    "opener": lambda url: None,
    "timeout": 30,
    "redirected_url": "http://127.0.0.1:5000/cb?userId=U1&userToken=" + "T" * 36,
    "provider": "https-google",
    "client_id": "desktop-client",
    "client_secret": None,
    "provider_scope": None,
    "backendless_code": None,  # None: the provider's own code
}
FLOW_BAD: dict[str, st.SearchStrategy[Any]] = {
    "open_browser": not_bool,
    "opener": anything.filter(lambda v: v is not None and not callable(v)),
    "timeout": bad_timeout,
    "redirected_url": bad_redirected_url,
    "provider": anything.filter(lambda v: not isinstance(v, str))
    | st.text(max_size=12).filter(_not_a_preset),
    "client_id": not_str | blank,
    "client_secret": anything.filter(lambda v: v is not None and not isinstance(v, str))
    | st.just(""),
    "provider_scope": bad_scope,
    "backendless_code": bad_provider.filter(lambda v: v is not None),
}
GOOD.update(FLOW_GOOD)
BAD.update(FLOW_BAD)


def _provider(name: object) -> object:
    from backendless_auth import providers

    if name == "https-google":
        return providers.GOOGLE  # real https endpoints: nothing is contacted before the flow
    return name


def _fetch(s: UserService, a: dict[str, Any]) -> object:
    from backendless_auth import providers

    return providers.fetch_provider_token(
        _provider(a["provider"]),  # type: ignore[arg-type]
        client_id=a["client_id"],
        client_secret=a["client_secret"],
        scope=a["provider_scope"],
        open_browser=a["open_browser"],
        opener=a["opener"],
        timeout=a["timeout"],
    )


def _login_with_provider(s: UserService, a: dict[str, Any]) -> object:
    from backendless_auth import providers

    return providers.login_with_provider(
        s,
        _provider(a["provider"]),  # type: ignore[arg-type]
        client_id=a["client_id"],
        client_secret=a["client_secret"],
        scope=a["provider_scope"],
        provider_code=a["backendless_code"],
        guest_user=a["guest_user"],
        fields_mapping=a["fields_mapping"],
        stay_logged_in=a["stay_logged_in"],
        open_browser=a["open_browser"],
        opener=a["opener"],
        timeout=a["timeout"],
    )


FLOWS: dict[str, tuple[Callable[[UserService, dict[str, Any]], object], tuple[str, ...]]] = {
    "login_with_browser": (
        lambda s, a: s.login_with_browser(
            a["provider_code"],
            fields_mapping=a["fields_mapping"],
            scope=a["scope"],
            callback_url_domain=a["callback_url_domain"],
            stay_logged_in=a["stay_logged_in"],
            open_browser=a["open_browser"],
            opener=a["opener"],
            timeout=a["timeout"],
        ),
        (
            "provider_code",
            "fields_mapping",
            "scope",
            "callback_url_domain",
            "stay_logged_in",
            "open_browser",
            "opener",
            "timeout",
        ),
    ),
    "complete_browser_login": (
        lambda s, a: s.complete_browser_login(
            a["redirected_url"], stay_logged_in=a["stay_logged_in"]
        ),
        ("redirected_url", "stay_logged_in"),
    ),
    "fetch_provider_token": (
        _fetch,
        (
            "provider",
            "client_id",
            "client_secret",
            "provider_scope",
            "open_browser",
            "opener",
            "timeout",
        ),
    ),
    "login_with_provider": (
        _login_with_provider,
        (
            "provider",
            "client_id",
            "client_secret",
            "provider_scope",
            "backendless_code",
            "guest_user",
            "fields_mapping",
            "stay_logged_in",
            "open_browser",
            "opener",
            "timeout",
        ),
    ),
}
ALL_METHODS = {**METHODS, **FLOWS}
CASES = [(method, arg) for method, (_, args) in ALL_METHODS.items() for arg in args]


@pytest.fixture(autouse=True)
def _no_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    from backendless_auth import browser

    def refuse(self: object) -> object:
        raise AssertionError("a loopback receiver was started for refused arguments")

    monkeypatch.setattr(browser.LoopbackReceiver, "start", refuse)
    from backendless_auth import _browser_async

    async def refuse_async(self: object) -> object:
        raise AssertionError("a loopback receiver was started for refused arguments")

    monkeypatch.setattr(_browser_async.AsyncLoopbackReceiver, "__aenter__", refuse_async)


def _driver_settings(service_driver: str) -> settings:
    """All examples through the blocking service; a third through each async driver.

    The checks are the core's, run before any driver's code: the async drivers are tried to
    show they add no way around them, not to try the checks again.
    """
    if service_driver == "sync":
        return SETTINGS
    return settings(SETTINGS, max_examples=50)


@pytest.mark.both_services
@pytest.mark.parametrize(("method", "argument"), CASES, ids=[f"{m}-{a}" for m, a in CASES])
def test_one_bad_argument_is_refused_before_any_request(
    method: str, argument: str, service_driver: str
) -> None:
    call, _ = ALL_METHODS[method]

    @_driver_settings(service_driver)
    @given(data=st.data())
    def one_bad_argument(data: st.DataObject) -> None:
        value = data.draw(BAD[argument], label=argument)
        service, transport = _service()
        if method == "get_current_user":
            service.login_as_guest()
            transport.calls.clear()
        with pytest.raises(InvalidArgumentError) as caught:
            call(service, {**GOOD, argument: value})
        _count(f"{method}.{argument}")
        assert transport.calls == []
        assert caught.value.argument is not None
        assert str(caught.value)

    one_bad_argument()


@pytest.mark.both_services
@pytest.mark.parametrize("method", list(METHODS))
def test_any_values_succeed_or_are_refused_before_any_request(
    method: str, service_driver: str
) -> None:
    call, names = METHODS[method]

    @_driver_settings(service_driver)
    @given(data=st.data())
    def any_values(data: st.DataObject) -> None:
        values = {name: data.draw(anything | st.just(GOOD[name]), label=name) for name in names}
        service, transport = _service()
        try:
            call(service, {**GOOD, **values})
        except InvalidArgumentError:
            assert transport.calls == []
        else:
            # get_current_user answers from memory when the user is loaded: no request at all.
            assert len(transport.calls) <= 1
        _count(f"{method}.any")

    any_values()


# --- the app object and the stores ---------------------------------------------------------

APP_ARGS = ("app_id", "api_key", "domain", "server_url", "timeout", "allow_insecure_http")


@SETTINGS
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "app_id": anything | st.text(max_size=40),
            "api_key": anything | st.text(max_size=40),
            "domain": anything | st.text(max_size=40) | st.just("https://x.backendless.app"),
            "server_url": anything
            | st.text(max_size=40)
            | st.sampled_from(["http://example.com", "ftp://h", "https://h/?q=1", "https://u:p@h"]),
            "timeout": anything
            | st.sampled_from([0, -1, math.inf, math.nan, (1, None), (0.1, 0.2, 0.3)]),
            "allow_insecure_http": anything,
            "token_store": st.sampled_from([object(), "store", 1]),
            "session": st.sampled_from(["session", 1, object()]),
            "transport": st.sampled_from(["transport", 1, object()]),
        },
    )
)
def test_backendless_refuses_bad_configuration_only_with_configuration_error(
    values: dict[str, Any],
) -> None:
    try:
        app = Backendless(**values)
    except ConfigurationError:
        _count("Backendless.refused")
        return
    _count("Backendless.accepted")
    # What was accepted must be usable: a generated value may not surface later as a crash.
    assert app.timeout.connect > 0
    assert app.timeout.read > 0
    assert repr(app)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"session": "not a session"}, "session"),
        ({"session": object()}, "session"),
        ({"transport": object()}, "transport"),
        ({"transport": "transport"}, "transport"),
        ({"token_store": object()}, "token_store"),
        ({"allow_insecure_http": "yes"}, "allow_insecure_http"),
        ({"timeout": None}, "timeout"),
    ],
)
def test_backendless_refuses_unusable_collaborators_at_construction(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Backendless(app_id="APP", api_key="KEY", **kwargs)
    assert caught.value.argument == argument


@SETTINGS
@given(
    environ=st.dictionaries(
        st.sampled_from(
            [
                "BACKENDLESS_APP_ID",
                "BACKENDLESS_API_KEY",
                "BACKENDLESS_DOMAIN",
                "BACKENDLESS_SERVER_URL",
                "OTHER",
            ]
        ),
        st.text(max_size=30),
    )
)
def test_from_env_refuses_only_with_configuration_error(environ: dict[str, str]) -> None:
    try:
        Backendless.from_env(environ, transport=RecordingTransport())
    except ConfigurationError:
        _count("from_env.refused")
    else:
        _count("from_env.accepted")


@SETTINGS
@given(value=anything)
def test_timeout_coerce_refuses_only_with_configuration_error(value: object) -> None:
    try:
        timeout = Timeout.coerce(value)
    except ConfigurationError:
        _count("Timeout.refused")
    else:
        assert 0 < timeout.connect < math.inf
        assert 0 < timeout.read < math.inf
        _count("Timeout.accepted")


@SETTINGS
@given(data=anything)
def test_user_from_wire_refuses_only_with_invalid_argument(data: object) -> None:
    try:
        BackendlessUser.from_wire(data)  # type: ignore[arg-type]
    except InvalidArgumentError:
        _count("BackendlessUser.from_wire.refused")
    else:
        _count("BackendlessUser.from_wire.accepted")


@SETTINGS
@given(text=st.text(max_size=80) | st.binary(max_size=80) | json_values.map(json.dumps))
def test_stored_session_from_json_refuses_only_with_value_error(text: str | bytes) -> None:
    try:
        StoredSession.from_json(text)
    except ValueError:
        _count("StoredSession.from_json.refused")
    else:
        _count("StoredSession.from_json.accepted")


@SETTINGS
@given(namespace=st.text(max_size=80))
def test_any_namespace_round_trips_through_the_file_store(
    tmp_path_factory: pytest.TempPathFactory, namespace: str
) -> None:
    store = FileTokenStore(tmp_path_factory.mktemp("store"))
    session = StoredSession(user_token="T" * 36, user_id="U1", saved_at=1.0)
    store.save(namespace, session)
    assert store.load(namespace) == session
    store.clear(namespace)
    assert store.load(namespace) is None
    _count("FileTokenStore.namespace")


def test_memory_store_is_a_token_store() -> None:
    # The default store, for completeness: the other stores' arguments are tested above.
    app = Backendless(app_id="APP", api_key="KEY", token_store=MemoryTokenStore())
    assert app.users.user_token is None


@pytest.mark.parametrize("scope", [b"", b"openid", bytearray(b"email")])
def test_provider_scope_refuses_bytes(scope: object) -> None:
    from backendless_auth import providers

    with pytest.raises(InvalidArgumentError) as caught:
        providers.fetch_provider_token(
            providers.GOOGLE,
            client_id="desktop-client",
            scope=scope,  # type: ignore[arg-type]
            opener=lambda url: None,
        )
    assert caught.value.argument == "scope"
