"""Backendless(...) configuration: base URL forms, refused addresses, timeouts, from_env.

The tests marked ``both`` run through both services (``both_services``, tests/drivers.py): the
same configuration rules hold for ``AsyncBackendless``, which takes ``http_client=`` (an
``httpx.AsyncClient``) where ``Backendless`` takes ``session=``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import responses

from backendless_auth import (
    AsyncBackendless,
    Backendless,
    ConfigurationError,
    InvalidArgumentError,
    MemoryTokenStore,
    Timeout,
)

both = pytest.mark.both_services(http="responses")

APP_ID = "APP-ID-0001"
API_KEY = "REST-KEY-secret-0002"
ENV_NAMES = (
    "BACKENDLESS_APP_ID",
    "BACKENDLESS_API_KEY",
    "BACKENDLESS_DOMAIN",
    "BACKENDLESS_SERVER_URL",
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def guest_url(app: Backendless, rsps: responses.RequestsMock) -> str:
    """Log a guest in and return the URL the request went to."""
    rsps.post(
        re.compile(r"https?://.*"),
        json={"objectId": "g", "userStatus": "GUEST", "user-token": "guest-token-0003"},
    )
    app.users.login_as_guest()
    url = rsps.calls[-1].request.url
    assert isinstance(url, str)
    return url


@both
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"app_id": APP_ID, "api_key": API_KEY},
            f"https://api.backendless.com/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {"app_id": APP_ID, "api_key": API_KEY, "server_url": "https://eu-api.backendless.com"},
            f"https://eu-api.backendless.com/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {
                "app_id": APP_ID,
                "api_key": API_KEY,
                "server_url": "https://eu-api.backendless.com/",
            },
            f"https://eu-api.backendless.com/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {"domain": "https://xxxx.backendless.app"},
            "https://xxxx.backendless.app/api/users/register/guest",
        ),
        (
            {"domain": "https://xxxx.backendless.app/"},
            "https://xxxx.backendless.app/api/users/register/guest",
        ),
        (
            {"domain": "https://auth.example.com:8443"},
            "https://auth.example.com:8443/api/users/register/guest",
        ),
        (
            {"domain": "http://127.0.0.1:8080"},
            "http://127.0.0.1:8080/api/users/register/guest",
        ),
        (
            {"domain": "http://localhost:8080"},
            "http://localhost:8080/api/users/register/guest",
        ),
        (
            {"domain": "http://[::1]:8080"},
            "http://[::1]:8080/api/users/register/guest",
        ),
        (
            {"app_id": APP_ID, "api_key": API_KEY, "server_url": "http://127.0.0.1:9000"},
            f"http://127.0.0.1:9000/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {"domain": "http://intranet.example", "allow_insecure_http": True},
            "http://intranet.example/api/users/register/guest",
        ),
    ],
)
def test_base_url_forms(
    rsps: responses.RequestsMock, kwargs: dict[str, Any], expected: str
) -> None:
    with Backendless(**kwargs) as app:
        assert guest_url(app, rsps) == expected


@both
def test_app_attributes() -> None:
    app = Backendless(app_id=APP_ID, api_key=API_KEY)
    assert app.app_id == APP_ID
    assert app.domain is None
    assert app.server_url == "https://api.backendless.com"
    assert app.namespace == f"Backendless_{APP_ID}"
    assert app.timeout == Timeout(10.0, 30.0)

    domain_app = Backendless(domain="https://xxxx.backendless.app")
    assert domain_app.app_id is None
    assert domain_app.domain == "https://xxxx.backendless.app"
    assert domain_app.server_url is None
    assert domain_app.namespace.startswith("Backendless")


@both
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({}, "app_id"),
        ({"app_id": APP_ID}, "api_key"),
        ({"api_key": API_KEY}, "app_id"),
        ({"app_id": "", "api_key": API_KEY}, "app_id"),
        ({"app_id": APP_ID, "api_key": ""}, "api_key"),
        ({"app_id": 5, "api_key": API_KEY}, "app_id"),
        ({"app_id": "a/b", "api_key": API_KEY}, "app_id"),
        ({"app_id": "a b", "api_key": API_KEY}, "app_id"),
        ({"app_id": "..", "api_key": API_KEY}, "app_id"),
        ({"app_id": "app?x", "api_key": API_KEY}, "app_id"),
        ({"app_id": APP_ID + "\n", "api_key": API_KEY}, "app_id"),
        ({"app_id": APP_ID, "api_key": "key/../x"}, "api_key"),
        ({"app_id": APP_ID, "api_key": API_KEY + "\n"}, "api_key"),
        ({"app_id": APP_ID, "api_key": API_KEY, "domain": "https://x.backendless.app"}, "domain"),
        ({"app_id": APP_ID, "domain": "https://x.backendless.app"}, "domain"),
        ({"domain": "https://x.backendless.app", "server_url": "https://a.com"}, "domain"),
        ({"domain": "xxxx.backendless.app"}, "domain"),
        ({"domain": "xxxx.backendless.app/api"}, "domain"),
        ({"domain": "localhost:8080"}, "domain"),
        ({"domain": "ftp://xxxx.backendless.app"}, "domain"),
        ({"domain": "https://"}, "domain"),
        ({"domain": ""}, "domain"),
        ({"domain": "   "}, "domain"),
        ({"domain": 5}, "domain"),
        ({"domain": "https://x.backendless.app?a=1"}, "domain"),
        ({"domain": "https://x.backendless.app#top"}, "domain"),
        ({"domain": "https://user:pw@x.backendless.app"}, "domain"),
        ({"domain": "http://xxxx.backendless.app"}, "domain"),
        ({"domain": "http://10.0.0.1:8080"}, "domain"),
        (
            {"app_id": APP_ID, "api_key": API_KEY, "server_url": "http://api.example.com"},
            "server_url",
        ),
        ({"app_id": APP_ID, "api_key": API_KEY, "server_url": "api.backendless.com"}, "server_url"),
        ({"app_id": APP_ID, "api_key": API_KEY, "server_url": ""}, "server_url"),
        ({"domain": "https://x.backendless.app", "allow_insecure_http": 1}, "allow_insecure_http"),
        ({"domain": "https://x.backendless.app", "token_store": object()}, "token_store"),
        ({"domain": "https://x.backendless.app", "token_store": {}}, "token_store"),
    ],
)
def test_configuration_errors(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Backendless(**kwargs)

    error = info.value
    assert isinstance(error, InvalidArgumentError)
    assert isinstance(error, ValueError)
    assert error.argument == argument
    assert argument in str(error) or argument == "app_id"
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)


@both
def test_insecure_http_error_says_how_to_allow_it() -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http"):
        Backendless(domain="http://xxxx.backendless.app")


# Sync-only: about requests.Session; its async twin (http_client= with transport=) is next.
def test_session_and_transport_are_exclusive() -> None:
    class NullTransport:
        def send(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("not sent")

        def close(self) -> None:
            pass

    with pytest.raises(ConfigurationError) as info:
        Backendless(
            domain="https://x.backendless.app",
            session=requests.Session(),
            transport=NullTransport(),
        )
    assert info.value.argument == "transport"


def test_http_client_and_transport_are_exclusive() -> None:
    class NullTransport:
        async def send(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("not sent")

        async def aclose(self) -> None:
            pass

    client = httpx.AsyncClient()
    with pytest.raises(ConfigurationError) as info:
        AsyncBackendless(
            domain="https://x.backendless.app", http_client=client, transport=NullTransport()
        )
    assert info.value.argument == "transport"
    assert not client.is_closed  # the caller's client, refused, is still the caller's


# --- timeouts --------------------------------------------------------------------------------


@both
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Timeout(1, 2), Timeout(1.0, 2.0)),
        (5, Timeout(5.0, 5.0)),
        (0.5, Timeout(0.5, 0.5)),
        ((3, 7.5), Timeout(3.0, 7.5)),
    ],
)
def test_timeout_forms(value: Any, expected: Timeout) -> None:
    app = Backendless(domain="https://x.backendless.app", timeout=value)

    assert app.timeout == expected
    assert app.timeout.as_tuple() == (expected.connect, expected.read)


@both
@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        0.0,
        -1,
        math.inf,
        -math.inf,
        math.nan,
        "10",
        True,
        (None, 5),
        (5, 0),
        (5, math.inf),
        (1, 2, 3),
        [5, 5],
        {"connect": 5},
        Timeout(-1, 5),
        Timeout(5, 0),
        Timeout(math.inf, 5),
        Timeout(5, math.nan),
        Timeout("5", 5),  # type: ignore[arg-type]
        Timeout(True, 5),
    ],
)
def test_bad_timeout(value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        Backendless(domain="https://x.backendless.app", timeout=value)

    assert info.value.argument == "timeout"


# Sync-only: about requests.Session; real timeouts through both: test_core_transport.
def test_timeout_is_passed_to_requests(rsps: responses.RequestsMock) -> None:
    seen: list[Any] = []

    class Recording(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            seen.append((kwargs.get("timeout"), kwargs.get("allow_redirects")))
            return super().request(*args, **kwargs)

    with Backendless(
        domain="https://x.backendless.app", timeout=(2, 9), session=Recording()
    ) as app:
        guest_url(app, rsps)

    assert seen == [((2.0, 9.0), False)]


# Sync-only: about requests.Session; real timeouts through both: test_core_transport.
def test_default_timeout_is_always_on(rsps: responses.RequestsMock) -> None:
    seen: list[Any] = []

    class Recording(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs.get("timeout"))
            return super().request(*args, **kwargs)

    with Backendless(domain="https://x.backendless.app", session=Recording()) as app:
        guest_url(app, rsps)

    assert seen == [(10.0, 30.0)]


# Sync-only: about requests.Session; an own httpx.AsyncClient kept open: test_async_service.
def test_own_session_is_used_and_not_closed(rsps: responses.RequestsMock) -> None:
    closed: list[bool] = []

    class Own(requests.Session):
        def close(self) -> None:
            closed.append(True)
            super().close()

    session = Own()
    session.headers["X-Proxy-Auth"] = "corp"
    with Backendless(domain="https://x.backendless.app", session=session) as app:
        guest_url(app, rsps)

    assert rsps.calls[0].request.headers["X-Proxy-Auth"] == "corp"
    assert closed == []


# --- from_env --------------------------------------------------------------------------------


@both
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"BACKENDLESS_APP_ID": APP_ID, "BACKENDLESS_API_KEY": API_KEY},
            f"https://api.backendless.com/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {
                "BACKENDLESS_APP_ID": APP_ID,
                "BACKENDLESS_API_KEY": API_KEY,
                "BACKENDLESS_SERVER_URL": "https://eu-api.backendless.com",
            },
            f"https://eu-api.backendless.com/{APP_ID}/{API_KEY}/users/register/guest",
        ),
        (
            {"BACKENDLESS_DOMAIN": "https://xxxx.backendless.app"},
            "https://xxxx.backendless.app/api/users/register/guest",
        ),
        (
            {
                "BACKENDLESS_DOMAIN": "https://xxxx.backendless.app",
                "BACKENDLESS_APP_ID": "",
                "BACKENDLESS_API_KEY": "",
                "UNRELATED": "x",
            },
            "https://xxxx.backendless.app/api/users/register/guest",
        ),
    ],
)
def test_from_env(
    rsps: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: str,
) -> None:
    with Backendless.from_env(environ) as app:
        assert guest_url(app, rsps) == expected

    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with Backendless.from_env() as app:
        assert guest_url(app, rsps) == expected


@both
def test_from_env_passes_options() -> None:
    store = MemoryTokenStore()
    app = Backendless.from_env(
        {"BACKENDLESS_DOMAIN": "https://xxxx.backendless.app"}, token_store=store, timeout=3
    )

    assert app.users.token_store is store
    assert app.timeout == Timeout(3.0, 3.0)


@both
@pytest.mark.parametrize(
    ("environ", "argument"),
    [
        ({}, "environ"),
        ({"BACKENDLESS_SERVER_URL": "https://eu-api.backendless.com"}, "environ"),
        ({"BACKENDLESS_APP_ID": "", "BACKENDLESS_DOMAIN": ""}, "environ"),
        ({"BACKENDLESS_APP_ID": APP_ID}, "api_key"),
        ({"BACKENDLESS_API_KEY": API_KEY}, "app_id"),
        ({"BACKENDLESS_DOMAIN": "xxxx.backendless.app"}, "domain"),
        (
            {
                "BACKENDLESS_APP_ID": APP_ID,
                "BACKENDLESS_API_KEY": API_KEY,
                "BACKENDLESS_DOMAIN": "https://a.b",
            },
            "domain",
        ),
    ],
)
def test_from_env_errors(environ: dict[str, str], argument: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Backendless.from_env(environ)

    assert info.value.argument == argument
    assert API_KEY not in str(info.value)


@both
def test_from_env_none_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigurationError, match="BACKENDLESS_APP_ID"):
        Backendless.from_env()


@both
def test_construction_makes_no_request(rsps: responses.RequestsMock) -> None:
    Backendless(app_id=APP_ID, api_key=API_KEY).close()
    Backendless(domain="https://xxxx.backendless.app").close()

    assert len(rsps.calls) == 0


@both
def test_a_domain_given_with_its_api_suffix_names_the_same_app() -> None:
    from backendless_auth import Backendless

    plain = Backendless(domain="https://xxxx.backendless.app")
    suffixed = Backendless(domain="https://xxxx.backendless.app/api/")

    assert suffixed.domain == plain.domain == "https://xxxx.backendless.app"
    assert suffixed.namespace == plain.namespace
