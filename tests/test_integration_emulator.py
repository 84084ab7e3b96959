"""The SDK against the emulator over real HTTP on 127.0.0.1: every flow, each URL form.

What the unit tests prove with mocked HTTP, proven here end to end: the two sides were written
apart (the emulator keeps its own JSON), so a shared misreading of the contract would show.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from backendless_auth import (
    Backendless,
    FileTokenStore,
    HttpResponse,
    InvalidParameterError,
    MemoryTokenStore,
    ProviderError,
    RequestsTransport,
    StoredSession,
    Timeout,
    UnknownApplicationError,
)
from backendless_auth.demo import scripted_opener
from backendless_auth.emulator import Emulator

# Each test runs through UserService and AsyncUserService (tests/drivers.py).
pytestmark = pytest.mark.both_services

# Each provider's own user-info field carrying a value worth mapping onto a custom column.
PROVIDER_FIELDS = {
    "google": "picture",
    "facebook": "id",
    "github": "login",
    "linkedin": "sub",
}


@pytest.fixture(params=["keyed", "domain"])
def app(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Backendless]:
    made = emu.app() if request.param == "keyed" else emu.domain_app()
    yield made
    made.close()


@pytest.mark.parametrize("provider", sorted(PROVIDER_FIELDS))
def test_oauth2_login_per_provider_applies_the_fields_mapping(
    emu: Emulator, app: Backendless, provider: str
) -> None:
    account = emu.add_account(provider, email=f"{provider}-map@example.com", name="Mapped")
    field = PROVIDER_FIELDS[provider]

    user = app.users.login_with_oauth2(
        provider,
        emu.provider_token(provider, account),
        fields_mapping={field: "providerField", "email": "email"},
    )

    assert user.email == f"{provider}-map@example.com"
    assert user.social_account == provider.upper()
    assert isinstance(user["providerField"], str)
    assert user["providerField"]
    assert app.users.current_user == user
    assert app.users.get_current_user(reload=True) == user


def test_oauth1_twitter_login_and_the_same_identity_again(emu: Emulator, app: Backendless) -> None:
    account = emu.add_account("twitter", email="tw-again@example.com", name="Tweety")
    token, secret = emu.provider_token("twitter", account)

    first = app.users.login_with_oauth1("twitter", token, secret)
    second = app.users.login_with_oauth1("twitter", token, secret)

    assert first.object_id == second.object_id
    assert first.user_token != second.user_token
    assert second.email == "tw-again@example.com"


def test_guest_upgraded_by_a_social_login_keeps_its_object_id(
    emu: Emulator, app: Backendless
) -> None:
    guest = app.users.login_as_guest(stay_logged_in=True)
    account = emu.add_account("facebook", email="upgrade@example.com", name="Up Graded")

    user = app.users.login_with_oauth2(
        "facebook", emu.provider_token("facebook", account), guest_user=guest
    )

    assert guest.is_guest
    assert not user.is_guest
    assert user.object_id == guest.object_id
    assert emu.user(guest.object_id)["userStatus"] == "ENABLED"  # type: ignore[index]
    # The login without stay_logged_in wiped the guest's stored session.
    assert app.users.token_store.load(app.namespace) is None


def test_the_browser_flow_walked_by_a_plain_http_client(emu: Emulator, app: Backendless) -> None:
    emu.add_account("github", email="walker@example.com", name="Walker")

    user = app.users.login_with_browser(
        "github", opener=scripted_opener(email="walker@example.com"), timeout=30
    )

    assert user.email == "walker@example.com"
    assert app.users.user_token == user.user_token
    assert app.users.is_valid_login() is True


class _AskForJson:
    """A transport that asks request_url for one of the JSON answer modes of the contract."""

    def __init__(self, inner: RequestsTransport, content_type: str | None) -> None:
        self.inner = inner
        self.content_type = content_type
        self.answers: list[HttpResponse] = []

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        if body is not None and label == "get_authorization_url" and self.content_type:
            data = json.loads(body)
            data["contentType"] = self.content_type
            body = json.dumps(data).encode()
        answer = self.inner.send(method, url, headers=headers, body=body, label=label)
        self.answers.append(answer)
        return answer

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize(
    ("content_type", "answer_type"),
    [(None, "text/plain"), ("application/json", "application/json")],
)
def test_request_url_answers_are_read_in_each_mode(
    emu: Emulator, content_type: str | None, answer_type: str
) -> None:
    transport = _AskForJson(RequestsTransport(Timeout()), content_type)
    app = emu.app(transport=transport)

    url = app.users.get_authorization_url(
        "google",
        scope=["openid", "email"],
        redirect_after_login_url="http://127.0.0.1:9/done",
    )

    assert transport.answers[-1].content_type == answer_type
    assert url.startswith(emu.url + "/_providers/google/authorize?")
    assert "scope=openid+email" in url or "scope=openid%20email" in url


def test_logout_ends_the_session_on_the_server(emu: Emulator, app: Backendless) -> None:
    user = app.users.login_as_guest()
    assert user.user_token is not None
    app.users.logout()

    assert app.users.user_token is None
    # A program that kept the old token finds it dead on the server.
    store = MemoryTokenStore()
    store.save(app.namespace, StoredSession(user_token=user.user_token, user_id=user.object_id))
    kept = emu.app(token_store=store) if app.app_id else emu.domain_app(token_store=store)
    assert kept.users.is_valid_login() is False
    assert kept.users.get_current_user() is None
    assert kept.users.user_token is None


def test_an_expired_session_is_invalid_and_cleared(emu: Emulator, tmp_path: object) -> None:
    store = FileTokenStore(str(tmp_path))
    app = emu.app(token_store=store)
    user = app.users.login_as_guest(stay_logged_in=True)
    assert app.users.is_valid_login() is True

    assert emu.expire_sessions(user.user_token) == 1

    assert app.users.is_valid_login() is False
    assert app.users.get_current_user(reload=True) is None  # expiry: None, as if logged out
    assert app.users.current_user is None
    assert app.users.user_token is None
    assert store.load(app.namespace) is None


def test_a_session_restored_after_a_restart_loads_its_user(emu: Emulator) -> None:
    store = MemoryTokenStore()
    user = emu.app(token_store=store).users.login_as_guest(stay_logged_in=True)

    restarted = emu.app(token_store=store)

    assert restarted.users.current_user is None
    assert restarted.users.user_token == user.user_token
    loaded = restarted.users.get_current_user()
    assert loaded is not None
    assert loaded.object_id == user.object_id
    assert loaded.user_token == user.user_token


def test_a_disabled_provider_is_refused_by_name(emu: Emulator, app: Backendless) -> None:
    account = emu.add_account("linkedin", email="off@example.com")
    token = emu.provider_token("linkedin", account)
    previous = app.users.login_as_guest()
    emu.disable_provider("linkedin")
    try:
        with pytest.raises(ProviderError, match="linkedin"):
            app.users.login_with_oauth2("linkedin", token)
    finally:
        emu.enable_provider("linkedin")
    assert app.users.current_user == previous


def test_an_unknown_provider_is_an_invalid_parameter(app: Backendless) -> None:
    with pytest.raises(InvalidParameterError):
        app.users.login_with_oauth2("myspace", "token-of-nowhere")


def test_a_wrong_api_key_is_an_unknown_application(emu: Emulator) -> None:
    app = Backendless(app_id=emu.app_id, api_key="NOT-THE-KEY", server_url=emu.url)

    with pytest.raises(UnknownApplicationError) as caught:
        app.users.login_as_guest()

    assert caught.value.code == 2002
    assert "NOT-THE-KEY" not in str(caught.value) + repr(caught.value)


def test_a_rejected_provider_token_keeps_the_previous_session(
    emu: Emulator, app: Backendless
) -> None:
    previous = app.users.login_as_guest()

    with pytest.raises(ProviderError):
        app.users.login_with_oauth2("google", "forged-provider-token")

    assert app.users.current_user == previous
    assert app.users.is_valid_login() is True
