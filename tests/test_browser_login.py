"""``login_with_browser`` and ``complete_browser_login`` against a real emulator over HTTP.

The "browser" here is ``requests`` posting the fake provider's sign-in form (the form's fields
are documented in ``backendless_auth.emulator.pages``); the Chromium tests walk the same pages in
a real browser.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import pytest
import requests

from backendless_auth import (
    ApiError,
    Backendless,
    InvalidArgumentError,
    LoginCancelledError,
    LoginFlowError,
    LoginTimeoutError,
    MemoryTokenStore,
    SessionExpiredError,
)
from backendless_auth import browser as browser_module
from backendless_auth._browser_async import AsyncLoopbackReceiver
from backendless_auth.emulator import Emulator

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services

PROVIDERS = ["google", "facebook", "github", "linkedin", "twitter"]


@pytest.fixture
def store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def app(emu: Emulator, store: MemoryTokenStore) -> Iterator[Backendless]:
    with emu.app(token_store=store) as application:
        yield application


class FormBrowser:
    """Signs in on the fake provider's page with plain HTTP, in a thread, like a person would."""

    def __init__(self, form: dict[str, str]) -> None:
        self.form = form
        self.pages: list[requests.Response] = []
        self.urls: list[str] = []
        self.sign_in_urls: list[str] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        thread = threading.Thread(target=self._sign_in, args=(url,))
        thread.start()
        self._threads.append(thread)

    def _sign_in(self, url: str) -> None:
        with requests.Session() as http:
            page = http.get(url, timeout=10)  # the start URL, then the sign-in page
            assert page.status_code == 200
            self.sign_in_urls.append(page.url)
            self.pages.append(http.post(page.url, data=self.form, timeout=30))

    def page(self) -> requests.Response:
        for thread in self._threads:
            thread.join(timeout=30)
        return self.pages[-1]


def choose(emu: Emulator, provider: str, n: int = 0) -> FormBrowser:
    return FormBrowser({"action": "choose", "account": emu.accounts(provider)[n].id})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_logs_in(emu: Emulator, app: Backendless, provider: str) -> None:
    person = choose(emu, provider)
    user = app.users.login_with_browser(provider, opener=person, timeout=20)
    assert user.email == emu.accounts(provider)[0].email
    assert user.user_token
    assert app.users.current_user == user
    assert app.users.is_valid_login()
    page = person.page()
    # The browser was given the one-time start URL, which led to the provider's page.
    assert person.urls[0].startswith("http://127.0.0.1:")
    assert "/start/" in person.urls[0]
    assert person.sign_in_urls[0].startswith(f"{emu.url}/_providers/{provider}/")
    assert page.status_code == 200
    assert page.url.startswith("http://127.0.0.1:")
    # redirectAfterLoginUrl carried the state as a path segment, and Backendless added its query.
    landed = urlsplit(page.url)
    assert landed.path.count("/") == 2
    assert set(parse_qs(landed.query)) == {"userId", "userToken"}
    assert f"You are signed in as {user.name}." in page.text
    # The token reached the loopback in the query; the page never repeats it.
    assert user.user_token not in page.text


def test_an_added_account_becomes_a_new_user(emu: Emulator, app: Backendless) -> None:
    person = FormBrowser({"action": "add", "email": "zoe@example.com", "name": "Zoe <Z>"})
    user = app.users.login_with_browser("github", opener=person, timeout=20)
    assert user.email == "zoe@example.com"
    assert user.name == "Zoe <Z>"
    assert "signed in as Zoe &lt;Z&gt;." in person.page().text


def test_stay_logged_in_persists_the_session(
    emu: Emulator, app: Backendless, store: MemoryTokenStore
) -> None:
    user = app.users.login_with_browser(
        "google", opener=choose(emu, "google"), stay_logged_in=True, timeout=20
    )
    saved = store.load(app.namespace)
    assert saved is not None
    assert saved.user_token == user.user_token
    assert saved.user_id == user.object_id
    # A later login without it clears the stored session.
    app.users.login_with_browser("google", opener=choose(emu, "google", 1), timeout=20)
    assert store.load(app.namespace) is None


def test_fields_mapping_scope_and_callback_domain_reach_backendless(
    emu: Emulator, app: Backendless
) -> None:
    person = choose(emu, "google", 1)
    user = app.users.login_with_browser(
        "google",
        fields_mapping={"email": "email", "given_name": "first_name"},
        scope=["openid", "email"],
        callback_url_domain=emu.url,
        opener=person,
        timeout=20,
    )
    authorize = parse_qs(urlsplit(person.sign_in_urls[0]).query)
    assert authorize["scope"] == ["openid email"]
    assert authorize["redirect_uri"] == [f"{emu.url}/api/users/oauth/google/callback"]
    assert user["first_name"] == emu.accounts("google")[1].name.split()[0]  # type: ignore[union-attr]


def test_deny_raises_cancelled_with_the_code_and_keeps_the_session(
    emu: Emulator, app: Backendless
) -> None:
    guest = app.users.login_as_guest()
    person = FormBrowser({"action": "deny"})
    with pytest.raises(LoginCancelledError) as caught:
        app.users.login_with_browser("facebook", opener=person, timeout=20)
    assert caught.value.code == 3060
    assert "denied" in str(caught.value)
    page = person.page()
    assert page.status_code == 400
    assert "Sign-in failed" in page.text
    assert app.users.current_user == guest


def test_twitter_deny_raises_cancelled(emu: Emulator, app: Backendless) -> None:
    with pytest.raises(LoginCancelledError):
        app.users.login_with_browser("twitter", opener=FormBrowser({"action": "deny"}), timeout=20)


def test_a_disabled_provider_fails_before_opening_anything(app: Backendless) -> None:
    with Emulator(disabled_providers=["linkedin"]) as other, other.app() as disabled:
        opened: list[str] = []
        with pytest.raises(ApiError) as caught:
            disabled.users.login_with_browser("linkedin", opener=opened.append, timeout=5)
        assert caught.value.code == 3060
        assert opened == []


def test_timeout_when_nobody_signs_in(app: Backendless) -> None:
    opened: list[str] = []
    with pytest.raises(LoginTimeoutError):
        app.users.login_with_browser("google", opener=opened.append, timeout=0.5)
    assert len(opened) == 1
    assert app.users.current_user is None


def test_wrong_state_is_refused_then_the_real_login_finishes(
    emu: Emulator, app: Backendless, monkeypatch: pytest.MonkeyPatch, service_driver: str
) -> None:
    refused: list[int] = []

    def forge(receiver: Any) -> None:
        # A forged redirect (someone else's session, a guessed state) arrives first.
        forged = f"{receiver.redirect_uri}?state=forged-state-0000000&userId=evil&userToken=x"
        refused.append(requests.get(forged, timeout=10).status_code)

    if service_driver == "sync":
        original = browser_module.LoopbackReceiver.wait

        def wait(self: browser_module.LoopbackReceiver, timeout: float, **kw: Any) -> Any:
            forge(self)
            return original(self, timeout, **kw)

        monkeypatch.setattr(browser_module.LoopbackReceiver, "wait", wait)
    else:
        original_async = AsyncLoopbackReceiver.wait

        async def wait_async(self: AsyncLoopbackReceiver, timeout: float, **kw: Any) -> Any:
            await anyio.to_thread.run_sync(forge, self)  # the receiver answers on this loop
            return await original_async(self, timeout, **kw)

        monkeypatch.setattr(AsyncLoopbackReceiver, "wait", wait_async)
    user = app.users.login_with_browser("google", opener=choose(emu, "google"), timeout=20)
    assert refused == [400]
    assert user.email == emu.accounts("google")[0].email


# --- the pasted-URL fallback -----------------------------------------------------------------


def _ended_on(emu: Emulator, app: Backendless, provider: str, form: dict[str, str]) -> str:
    """Walk a sign-in whose redirect goes to an address nobody serves; return that address."""
    after = "http://127.0.0.1:9/after-login?state=pasted-flow-state"
    url = app.users.get_authorization_url(provider, redirect_after_login_url=after)
    with requests.Session() as http:
        http.get(url, timeout=10)
        answer = http.post(url, data=form, timeout=10, allow_redirects=False)
        while answer.status_code in (301, 302, 303) and not answer.headers["Location"].startswith(
            "http://127.0.0.1:9/"
        ):
            answer = http.get(answer.headers["Location"], timeout=10, allow_redirects=False)
    location = answer.headers["Location"]
    assert location.startswith(after)
    return location


@pytest.mark.parametrize("provider", ["google", "twitter"])
def test_complete_browser_login_from_the_pasted_url(
    emu: Emulator, app: Backendless, store: MemoryTokenStore, provider: str
) -> None:
    account = emu.accounts(provider)[1]
    url = _ended_on(emu, app, provider, {"action": "choose", "account": account.id})
    user = app.users.complete_browser_login(f"  {url}\n", stay_logged_in=True)
    assert user.email == account.email
    assert app.users.current_user == user
    assert store.load(app.namespace) is not None


def test_complete_browser_login_accepts_user_token_spelling(
    emu: Emulator, app: Backendless
) -> None:
    url = _ended_on(
        emu, app, "google", {"action": "choose", "account": emu.accounts("google")[0].id}
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    spelled = f"http://localhost:1/x?userId={params['userId']}&user-token={params['userToken']}"
    assert app.users.complete_browser_login(spelled).object_id == params["userId"]


def test_complete_browser_login_with_a_denial(emu: Emulator, app: Backendless) -> None:
    url = _ended_on(emu, app, "github", {"action": "deny"})
    with pytest.raises(LoginCancelledError) as caught:
        app.users.complete_browser_login(url)
    assert caught.value.code == 3060
    assert app.users.current_user is None


def test_complete_browser_login_with_an_error_code() -> None:
    with Backendless(app_id="a", api_key="k", transport=_NoTransport()) as offline:
        with pytest.raises(LoginFlowError) as caught:
            offline.users.complete_browser_login("http://127.0.0.1:5/cb?error=Boom&code=3000")
        assert caught.value.code == 3000
        assert not isinstance(caught.value, LoginCancelledError)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "userId=u&userToken=t",
        "javascript:alert(1)?userId=u&userToken=t",
        "http://127.0.0.1:5/cb",
        "http://127.0.0.1:5/cb?userId=u",
        "http://127.0.0.1:5/cb?state=abc",
        "http://127.0.0.1:5/cb?userToken=t",
    ],
)
def test_complete_browser_login_refuses_what_is_not_a_redirect(url: Any) -> None:
    with Backendless(app_id="a", api_key="k", transport=_NoTransport()) as offline:
        with pytest.raises(InvalidArgumentError) as caught:
            offline.users.complete_browser_login(url)
        assert caught.value.argument == "redirected_url"


def test_complete_browser_login_with_an_expired_token_keeps_the_session(
    emu: Emulator, app: Backendless
) -> None:
    guest = app.users.login_as_guest()
    url = _ended_on(
        emu, app, "google", {"action": "choose", "account": emu.accounts("google")[0].id}
    )
    token = parse_qs(urlsplit(url).query)["userToken"][0]
    emu.expire_sessions(token)
    with pytest.raises(SessionExpiredError):
        app.users.complete_browser_login(url)
    assert app.users.current_user == guest


# --- arguments are checked before any socket or request --------------------------------------


class _NoTransport:
    """A transport that fails the test if anything is sent."""

    def send(self, method: str, url: str, **kwargs: Any) -> Any:
        raise AssertionError(f"a request was sent: {method}")

    def close(self) -> None:
        pass


BAD_ARGUMENTS: list[tuple[dict[str, Any], str]] = [
    ({"provider_code": ""}, "provider_code"),
    ({"provider_code": "goo/gle"}, "provider_code"),
    ({"provider_code": None}, "provider_code"),
    ({"fields_mapping": ["email"]}, "fields_mapping"),
    ({"scope": 5}, "scope"),
    ({"callback_url_domain": ""}, "callback_url_domain"),
    ({"stay_logged_in": "yes"}, "stay_logged_in"),
    ({"open_browser": "no"}, "open_browser"),
    ({"opener": "chromium"}, "opener"),
    ({"opener": print, "open_browser": False}, "opener"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": float("nan")}, "timeout"),
    ({"timeout": None}, "timeout"),
    ({"redirect_host": "0.0.0.0"}, "redirect_host"),
    ({"redirect_host": "127.0.0.1.example.com"}, "redirect_host"),
    ({"redirect_path": "no-slash"}, "redirect_path"),
    ({"redirect_path": "/a?b"}, "redirect_path"),
]


@pytest.mark.parametrize(("bad", "argument"), BAD_ARGUMENTS)
def test_bad_arguments_open_no_socket_and_send_nothing(
    bad: dict[str, Any], argument: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(browser_module.LoopbackReceiver, "start", started.append)
    monkeypatch.setattr(AsyncLoopbackReceiver, "__aenter__", started.append)
    kwargs: dict[str, Any] = {"provider_code": "google", "opener": lambda url: None, **bad}
    offline = Backendless(app_id="a", api_key="k", transport=_NoTransport())
    with pytest.raises(InvalidArgumentError) as caught:
        offline.users.login_with_browser(**kwargs)
    assert caught.value.argument == argument
    assert started == []


def test_the_signature_is_keyword_only() -> None:
    call: Callable[..., Any] = Backendless(app_id="a", api_key="k").users.login_with_browser
    with pytest.raises(TypeError):
        call("google", None)


def test_scripted_opener_given_an_email_the_page_does_not_offer_ends_at_once(
    app: Backendless,
) -> None:
    from backendless_auth.demo import scripted_opener

    # A timeout of a minute: a LoginTimeoutError here would mean the helper left it waiting.
    with pytest.raises(LookupError, match=r"no account nobody@example\.com \(it offers: "):
        app.users.login_with_browser(
            "google", opener=scripted_opener(email="nobody@example.com"), timeout=60
        )
    assert app.users.current_user is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_redirect_path_and_host_shape_redirect_after_login_url(
    emu: Emulator, app: Backendless, host: str
) -> None:
    from backendless_auth.demo import scripted_opener

    with emu.record_requests() as log:
        user = app.users.login_with_browser(
            "github",
            opener=scripted_opener(),
            timeout=20,
            redirect_path="/signed-in",
            redirect_host=host,
        )
    seen = [r.body["redirectAfterLoginUrl"] for r in log if r.route.endswith("/request_url")]
    assert user.email == emu.accounts("github")[0].email
    parts = urlsplit(seen[0])
    assert parts.hostname == host
    assert parts.path.startswith("/signed-in/")
    assert len(parts.path) > len("/signed-in/") + 16  # the state segment


def test_the_timeout_says_what_to_check(app: Backendless) -> None:
    with pytest.raises(LoginTimeoutError, match="Backendless console") as caught:
        app.users.login_with_browser("google", opener=lambda url: None, timeout=0.3)
    assert "did not come back within 0.3 seconds" in str(caught.value)
