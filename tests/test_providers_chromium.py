"""The provider-token flows in a real headless Chromium, against the emulator's fake providers.

OAuth2 authorization code with PKCE (every OAuth2 preset, pointed at the fake provider) and
Twitter's OAuth 1.0a, each ending in the Backendless login; the browser lands on the loopback
and shows the outcome. The browser driver is the one of ``test_browser_chromium.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser_chromium import Chromium, Driver, Person

# Fixtures, re-exported so that pytest finds them here (one browser per module).
from test_browser_chromium import chromium as chromium
from test_browser_chromium import chromium_holder as chromium_holder

from backendless_auth import Backendless, LoginCancelledError, MemoryTokenStore, providers
from backendless_auth.emulator import Emulator, OAuth1Endpoints, OAuth2Endpoints
from backendless_auth.providers import OAuth1Provider, OAuth2Provider

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = [pytest.mark.browser, pytest.mark.both_services]


@pytest.fixture(autouse=True)
def _insecure_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake providers serve plain http on 127.0.0.1; requests-oauthlib wants this switch.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def app(emu: Emulator) -> Iterator[Backendless]:
    with emu.app(token_store=MemoryTokenStore()) as application:
        yield application


@pytest.fixture
def driver(chromium: Chromium, emu: Emulator) -> Driver:
    return Driver(chromium, emu)


def oauth2(emu: Emulator, name: str) -> tuple[OAuth2Provider, str]:
    ep = emu.provider_endpoints(name)
    assert isinstance(ep, OAuth2Endpoints)
    preset = providers.preset(name, authorize_url=ep.authorize_url, token_url=ep.token_url)
    assert isinstance(preset, OAuth2Provider)
    return preset, ep.client_id


def twitter(emu: Emulator) -> tuple[OAuth1Provider, str, str]:
    ep = emu.provider_endpoints("twitter")
    assert isinstance(ep, OAuth1Endpoints)
    preset = providers.TWITTER.with_urls(
        request_token_url=ep.request_token_url,
        authorize_url=ep.authorize_url,
        access_token_url=ep.access_token_url,
    )
    return preset, ep.consumer_key, ep.consumer_secret


@pytest.mark.parametrize(
    ("name", "person"),
    [
        ("google", Person(account=1)),
        ("github", Person(add=("octo@example.com", "Octo Cat"))),
        ("facebook", Person(account=2)),
        ("linkedin", Person(account=1)),
    ],
)
def test_oauth2_pkce_in_chromium(
    emu: Emulator, app: Backendless, driver: Driver, name: str, person: Person
) -> None:
    provider, client_id = oauth2(emu, name)
    user = providers.login_with_provider(
        app.users, provider, client_id=client_id, opener=driver.opener(person), timeout=20
    )
    if person.add is not None:
        assert (user.email, user.name) == person.add
    else:
        assert user.email == emu.accounts(name)[(person.account or 1) - 1].email
    assert app.users.current_user == user
    landing = driver.landing()
    assert driver.loopback(landing.url)
    landed = parse_qs(urlsplit(landing.url).query)
    assert set(landed) == {"code", "state"}
    assert landing.status == 200
    assert landing.title == "Signed in"
    assert landing.message == f"You are signed in as {user.name}."


def test_oauth2_deny_in_chromium(emu: Emulator, app: Backendless, driver: Driver) -> None:
    provider, client_id = oauth2(emu, "google")
    with pytest.raises(LoginCancelledError, match="denied"):
        providers.login_with_provider(
            app.users,
            provider,
            client_id=client_id,
            opener=driver.opener(Person(deny=True)),
            timeout=20,
        )
    landing = driver.landing()
    assert landing.status == 400
    assert landing.title == "Sign-in failed"
    assert app.users.current_user is None


@pytest.mark.parametrize("person", [Person(account=1), Person(add=("jay@example.com", "Jay"))])
def test_twitter_oauth1_in_chromium(
    emu: Emulator, app: Backendless, driver: Driver, person: Person
) -> None:
    provider, key, secret = twitter(emu)
    user = providers.login_with_provider(
        app.users,
        provider,
        client_id=key,
        client_secret=secret,
        opener=driver.opener(person),
        timeout=20,
    )
    expected = person.add[0] if person.add else emu.accounts("twitter")[0].email
    assert user.email == expected
    landing = driver.landing()
    landed = parse_qs(urlsplit(landing.url).query)
    assert {"state", "oauth_token", "oauth_verifier"} <= set(landed)
    assert landing.title == "Signed in"


def test_twitter_deny_in_chromium(emu: Emulator, app: Backendless, driver: Driver) -> None:
    provider, key, secret = twitter(emu)
    with pytest.raises(LoginCancelledError):
        providers.login_with_provider(
            app.users,
            provider,
            client_id=key,
            client_secret=secret,
            opener=driver.opener(Person(deny=True)),
            timeout=20,
        )
    landing = driver.landing()
    assert landing.title == "Sign-in failed"


def test_token_only_in_chromium(emu: Emulator, driver: Driver) -> None:
    provider, client_id = oauth2(emu, "github")
    opener: Callable[[str], None] = driver.opener(Person(account=2))
    token = providers.fetch_provider_token(provider, client_id=client_id, opener=opener, timeout=20)
    assert token.provider == "github"
    assert token.access_token
    assert driver.landing().message == "You are signed in."
