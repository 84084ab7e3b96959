"""Both browser flows against a real, standards-following OpenID Connect server.

panva's ``oidc-provider`` (npm, pinned in ``tests/oidc/package.json``, run by
``tests/oidc/provider.mjs`` on 127.0.0.1 and a free port), in headless Chromium:

* as the provider of ``providers.login_with_provider``: a *native* client registered the
  RFC 8252 way, ``http://127.0.0.1/callback`` (any port, that exact path), public, PKCE
  required, exactly as docs/login-flows.md tells people to register one; the token then logs
  in to the emulator, which fronts the same server as the custom provider ``acme``;
* as a custom provider of the emulator, for ``login_with_browser``: a web client whose
  redirect URI is the emulator's callback.

Also: consent denied is our ``LoginCancelledError``; a wrong registration leaves the person
on the server's error page and the SDK's timeout names the redirect URI to check; a revoked
token is our ``ProviderError``.

Each test that drives the SDK runs through both services (``both_services``, tests/drivers.py):
``UserService`` with the blocking flows, ``AsyncUserService`` with their async twins
(``login_with_provider_async``, ``fetch_provider_token_async``) on asyncio and on trio.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from test_browser_chromium import STEP_MS, Chromium

# Fixtures, re-exported so that pytest finds them here (one browser per module).
from test_browser_chromium import chromium as chromium
from test_browser_chromium import chromium_holder as chromium_holder

from backendless_auth import (
    Backendless,
    LoginCancelledError,
    LoginTimeoutError,
    MemoryTokenStore,
    ProviderError,
    providers,
)
from backendless_auth.emulator import CustomProvider, Emulator

pytestmark = pytest.mark.browser

OIDC = Path(__file__).parent / "oidc"
NATIVE = "python-desktop"
WEB, WEB_SECRET = "backendless-web", "web-client-secret-for-tests"
CODE = "acme"
ACCOUNTS = {
    "alice": {"email": "alice@oidc.example", "name": "Alice Oidc"},
    "bob": {"email": "bob@oidc.example", "name": "Bob Oidc"},
}


@dataclass
class Server:
    issuer: str
    process: subprocess.Popen[str]

    @property
    def authorize_url(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    @property
    def userinfo_url(self) -> str:
        return f"{self.issuer}/me"


@pytest.fixture(scope="module")
def oidc(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import shutil

    if shutil.which("node") is None or not (OIDC / "node_modules" / "oidc-provider").is_dir():
        message = "node and oidc-provider (npm install in tests/oidc, as .ci/run does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} are missing, and CI=true")
        pytest.skip(f"{message} are not installed")
    callbacks = [
        f"{emu.url}/{emu.app_id}/{emu.api_key}/users/oauth/{CODE}/callback",
        f"{emu.url}/api/users/oauth/{CODE}/callback",
    ]
    config = {
        "accounts": ACCOUNTS,
        "clients": [
            {  # registered as docs/login-flows.md says: a native client, the RFC 8252 way
                "client_id": NATIVE,
                "application_type": "native",
                "redirect_uris": ["http://127.0.0.1/callback", "http://localhost/callback"],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
            {  # the emulator's own client, as a Backendless app registers one
                "client_id": WEB,
                "client_secret": WEB_SECRET,
                "redirect_uris": callbacks,
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
        ],
    }
    path = tmp_path_factory.mktemp("oidc") / "config.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["node", str(OIDC / "provider.mjs"), str(path)],
        cwd=OIDC,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its development-mode warnings
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "oidc-provider did not start"
        server = Server(issuer=json.loads(line)["issuer"], process=process)
        emu.add_custom_provider(
            CustomProvider(
                code=CODE,
                authorize_url=server.authorize_url,
                token_url=server.token_url,
                userinfo_url=server.userinfo_url,
                client_id=WEB,
                client_secret=WEB_SECRET,
                scope="openid email profile",
                id_field="sub",
            )
        )
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(autouse=True)
def _insecure_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test server speaks plain http on 127.0.0.1; requests-oauthlib wants this switch.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def app(emu: Emulator) -> Iterator[Backendless]:
    with emu.app(token_store=MemoryTokenStore()) as application:
        yield application


@dataclass
class Landing:
    url: str
    urls: list[str]
    title: str
    message: str
    text: str


class Person:
    """Drives oidc-provider's sign-in and consent pages in Chromium, in the browser thread."""

    def __init__(self, chromium: Chromium, avoid: list[str]) -> None:
        self.chromium = chromium
        self.avoid = avoid
        self.jobs: list[Any] = []

    def lands(self, url: str) -> bool:
        loopback = url.startswith(("http://127.0.0.1:", "http://localhost:"))
        return loopback and not any(url.startswith(a) for a in self.avoid)

    def opener(self, login: str | None = "alice", *, deny: bool = False) -> Callable[[str], None]:
        def job(browser: Any, url: str) -> Landing:
            context = browser.new_context()
            try:
                page = context.new_page()
                page.set_default_timeout(STEP_MS)
                urls: list[str] = []
                page.on("request", lambda request: urls.append(request.url))
                page.goto(url)
                if login is None:  # nobody signs in: where did the browser stop?
                    return Landing(page.url, urls, "", "", page.inner_text("body"))
                if deny:
                    page.click("text=[ Cancel ]")
                else:
                    page.fill("input[name=login]", login)
                    page.fill("input[name=password]", "any password")
                    page.click("button[type=submit]")
                    page.click("button[type=submit]")  # the consent page's Continue
                page.wait_for_url(self.lands, wait_until="load")
                return Landing(
                    page.url,
                    urls,
                    page.inner_text("#title"),
                    page.inner_text("#message"),
                    page.inner_text("body"),
                )
            finally:
                context.close()

        def open_url(url: str) -> None:
            self.jobs.append(self.chromium.submit(lambda browser: job(browser, url)))

        return open_url

    def landing(self) -> Landing:
        result: Landing = self.jobs[-1].result(timeout=60)
        return result


@pytest.fixture
def person(chromium: Chromium, emu: Emulator, oidc: Server) -> Person:
    return Person(chromium, [emu.url, oidc.issuer])


def native() -> dict[str, Any]:
    return {"client_id": NATIVE, "provider_code": CODE, "timeout": 30}


def provider(oidc: Server) -> providers.OAuth2Provider:
    return providers.OAuth2Provider(
        code=CODE,
        authorize_url=oidc.authorize_url,
        token_url=oidc.token_url,
        userinfo_url=oidc.userinfo_url,
        scope="openid email profile",
        authorize_params={"prompt": "consent"},
    )


# --- the provider flow, a native client ------------------------------------------------------


@pytest.mark.both_services
def test_native_client_registered_as_documented_logs_in(
    oidc: Server, app: Backendless, person: Person
) -> None:
    user = providers.login_with_provider(
        app.users, provider(oidc), opener=person.opener("alice"), **native()
    )
    assert user.email == "alice@oidc.example"
    assert user.name == "Alice Oidc"
    landing = person.landing()
    assert landing.title == "Signed in"
    # What the server was asked: the RFC 8252 redirect URI on the default path, PKCE S256.
    asked = next(u for u in landing.urls if u.startswith(oidc.authorize_url + "?"))
    sent = {k: v[0] for k, v in parse_qs(urlsplit(asked).query).items()}
    redirect = urlsplit(sent["redirect_uri"])
    assert (redirect.scheme, redirect.hostname, redirect.path) == ("http", "127.0.0.1", "/callback")
    assert redirect.port
    assert sent["code_challenge_method"] == "S256"
    assert landing.url.startswith(sent["redirect_uri"] + "?")


@pytest.mark.both_services
def test_a_cross_site_provider_sends_the_browser_back_with_the_cookie(
    oidc: Server, app: Backendless, person: Person
) -> None:
    # localhost and 127.0.0.1 are two sites to a browser: the redirect back from the server
    # (127.0.0.1) to the receiver (localhost) is cross-site, as from a real provider, and the
    # SameSite=Lax cookie of the start URL still comes along.
    person.avoid.append("http://127.0.0.1:")
    user = providers.login_with_provider(
        app.users,
        provider(oidc),
        opener=person.opener("bob"),
        redirect_host="localhost",
        **native(),
    )
    assert user.email == "bob@oidc.example"
    landing = person.landing()
    assert landing.url.startswith("http://localhost:")
    assert landing.title == "Signed in"


# The server alone, no SDK call: once, not per service.
def test_the_server_requires_pkce(oidc: Server) -> None:
    # What makes the test above a PKCE test: without a challenge the server refuses.
    answer = requests.get(
        oidc.authorize_url,
        params={
            "client_id": NATIVE,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": "http://127.0.0.1:5000/callback",
            "state": "s" * 20,
        },
        allow_redirects=False,
        timeout=10,
    )
    location = answer.headers.get("Location", "")
    assert "error=invalid_request" in location
    assert "requires+PKCE" in location


@pytest.mark.both_services
def test_consent_denied_is_cancelled(oidc: Server, app: Backendless, person: Person) -> None:
    with pytest.raises(LoginCancelledError) as caught:
        providers.login_with_provider(
            app.users, provider(oidc), opener=person.opener(deny=True), **native()
        )
    assert "aborted" in str(caught.value)
    assert str(caught.value).count("denied") <= 1
    assert person.landing().title == "Sign-in failed"
    assert app.users.current_user is None


@pytest.mark.both_services
def test_a_path_the_server_does_not_know_ends_in_a_timeout_that_names_it(
    oidc: Server, app: Backendless, person: Person
) -> None:
    with pytest.raises(LoginTimeoutError) as caught:
        providers.fetch_provider_token(
            provider(oidc),
            client_id=NATIVE,
            opener=person.opener(None),
            timeout=5,
            redirect_path="/elsewhere",
        )
    message = str(caught.value)
    assert "http://127.0.0.1/elsewhere" in message
    assert "invalid_redirect_uri" in message
    assert NATIVE in message
    # The person sees the server's own error page, not the loopback.
    landing = person.landing()
    assert landing.url.startswith(oidc.issuer)
    assert "redirect_uri" in landing.text


@pytest.mark.both_services
def test_a_revoked_token_is_a_provider_error(
    oidc: Server, app: Backendless, person: Person
) -> None:
    token = providers.fetch_provider_token(
        provider(oidc), client_id=NATIVE, opener=person.opener("bob"), timeout=30
    )
    answer = requests.post(
        f"{oidc.issuer}/token/revocation",
        data={"token": token.access_token, "client_id": NATIVE},
        timeout=10,
    )
    assert answer.status_code == 200
    with pytest.raises(ProviderError) as caught:
        app.users.login_with_oauth2(CODE, token.access_token)
    assert caught.value.code == 3060
    assert app.users.current_user is None


# --- the Backendless browser flow, oidc-provider as the emulator's custom provider ----------


@pytest.mark.both_services
def test_browser_login_through_the_custom_provider(
    oidc: Server, app: Backendless, person: Person
) -> None:
    user = app.users.login_with_browser(CODE, opener=person.opener("bob"), timeout=30)
    assert user.email == "bob@oidc.example"
    assert user["oAuthIdentities"] == [{"providerCode": CODE, "providerUserId": "bob"}]
    landing = person.landing()
    assert landing.title == "Signed in"
    assert landing.message == "You are signed in as Bob Oidc."


@pytest.mark.both_services
def test_browser_login_consent_denied(oidc: Server, app: Backendless, person: Person) -> None:
    with pytest.raises(LoginCancelledError) as caught:
        app.users.login_with_browser(CODE, opener=person.opener(deny=True), timeout=30)
    assert caught.value.code == 3060
    text = str(caught.value)
    assert "aborted" in text
    assert text.count("End-User aborted interaction") == 1
    assert person.landing().title == "Sign-in failed"
    assert app.users.current_user is None
