"""The public API as a user types it; checked by ``mypy --strict``, never run.

``tests/test_exported_members.py`` runs mypy on this file. Each ``assert_type`` pins a return
type; each ``type: ignore[...]`` marks a call that must be refused (with ``--strict``, an ignore
that is no longer needed is itself an error, so a signature that loosens fails the check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx
import requests
from typing_extensions import assert_type

import backendless_auth
from backendless_auth import (
    ApiError,
    AsyncBackendless,
    AsyncUserService,
    Backendless,
    BackendlessError,
    BackendlessUser,
    HttpResponse,
    InvalidArgumentError,
    MemoryTokenStore,
    RequestTimeout,
    SessionExpiredError,
    StoredSession,
    Timeout,
    TokenStore,
    Transport,
    UnexpectedResponseError,
    UserProperty,
    UserService,
    providers,
)
from backendless_auth.exceptions import ERROR_CODES, api_error_for


class RecordingTransport:
    """A fake transport, as a user writes one for tests: structurally a Transport."""

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        label: str,
    ) -> HttpResponse:
        return HttpResponse(status=200, headers={}, body=b"{}")

    def close(self) -> None:
        pass


class DictStore:
    """A user's own token store: structurally a TokenStore."""

    def __init__(self) -> None:
        self.sessions: dict[str, StoredSession] = {}

    def load(self, namespace: str) -> StoredSession | None:
        return self.sessions.get(namespace)

    def save(self, namespace: str, session: StoredSession) -> None:
        self.sessions[namespace] = session

    def clear(self, namespace: str) -> None:
        self.sessions.pop(namespace, None)


def construct() -> None:
    app = Backendless(app_id="APP", api_key="KEY")
    assert_type(app, Backendless)
    Backendless(app_id="APP", api_key="KEY", server_url="https://eu-api.backendless.com")
    Backendless(domain="https://xxxx.backendless.app")
    Backendless(
        domain="https://xxxx.backendless.app",
        token_store=MemoryTokenStore(),
        timeout=5,
        session=requests.Session(),
        allow_insecure_http=False,
    )
    Backendless(domain="https://x.backendless.app", timeout=(3.0, 20.0))
    Backendless(domain="https://x.backendless.app", timeout=Timeout(connect=1, read=2))
    Backendless(domain="https://x.backendless.app", transport=RecordingTransport())
    Backendless(domain="https://x.backendless.app", token_store=DictStore())
    transport: Transport = RecordingTransport()
    store: TokenStore = DictStore()
    Backendless(domain="https://x.backendless.app", transport=transport, token_store=store)
    assert_type(Backendless.from_env(), Backendless)
    assert_type(Backendless.from_env({"BACKENDLESS_DOMAIN": "https://x"}), Backendless)
    Backendless("APP", "KEY")  # type: ignore[call-arg]
    Backendless(domain="https://x.backendless.app", timeout=None)  # type: ignore[arg-type]

    assert_type(app.users, UserService)
    assert_type(app.app_id, str | None)
    assert_type(app.domain, str | None)
    assert_type(app.server_url, str | None)
    assert_type(app.namespace, str)
    assert_type(app.timeout, Timeout)
    assert_type(app.timeout.as_tuple(), tuple[float, float])
    with Backendless(domain="https://x.backendless.app") as entered:
        assert_type(entered, Backendless)
    app.close()


def logins(users: UserService, guest: BackendlessUser) -> None:
    assert_type(users.login_with_oauth2("google", "token"), BackendlessUser)
    assert_type(
        users.login_with_oauth2(
            "google",
            "token",
            guest_user=guest,
            fields_mapping={"email": "email"},
            stay_logged_in=True,
        ),
        BackendlessUser,
    )
    users.login_with_oauth2("google", "token", guest_user={"objectId": "g", "userStatus": "GUEST"})
    assert_type(users.login_with_oauth1("twitter", "token", "secret"), BackendlessUser)
    users.login_with_oauth1(
        "twitter", "token", "secret", guest_user=guest, fields_mapping={}, stay_logged_in=False
    )
    assert_type(users.login_as_guest(), BackendlessUser)
    assert_type(users.login_as_guest(stay_logged_in=True), BackendlessUser)

    # Options are keyword-only.
    users.login_with_oauth2("google", "token", guest)  # type: ignore[call-arg]
    users.login_as_guest(True)  # type: ignore[call-arg]
    users.login_with_oauth2("google", "token", stay_logged_in="yes")  # type: ignore[arg-type]
    users.login_with_oauth2("google", "token", fields_mapping={"a": 1})  # type: ignore[dict-item]
    users.login_with_oauth1("twitter", "token")  # type: ignore[call-arg]


def authorization_url(users: UserService) -> None:
    assert_type(users.get_authorization_url("google"), str)
    users.get_authorization_url(
        "google",
        fields_mapping={"email": "email"},
        scope="email profile",
        scope_separator=",",
        redirect_after_login_url="http://127.0.0.1:8765/cb",
        callback_url_domain="auth.example.com",
    )
    users.get_authorization_url("google", scope=["email", "profile"])
    users.get_authorization_url("google", scope=("email",))
    users.get_authorization_url("google", scope=42)  # type: ignore[arg-type]
    users.get_authorization_url("google", {})  # type: ignore[call-arg]


def session(users: UserService) -> None:
    assert_type(users.logout(), None)
    assert_type(users.is_valid_login(), bool)
    assert_type(users.get_current_user(), BackendlessUser | None)
    assert_type(users.get_current_user(reload=True), BackendlessUser | None)
    assert_type(users.current_user, BackendlessUser | None)
    assert_type(users.current_user_id, str | None)
    assert_type(users.user_token, str | None)
    assert_type(users.token_store, TokenStore)
    users.user_token = "x"  # type: ignore[misc]


def accounts(users: UserService, user: BackendlessUser) -> None:
    assert_type(users.register({"email": "a@b.c", "password": "p"}), BackendlessUser)
    assert_type(users.register(user), BackendlessUser)
    assert_type(users.login("a@b.c", "p"), BackendlessUser)
    assert_type(users.login(123, "p", stay_logged_in=True), BackendlessUser)
    assert_type(users.verify_password("p"), bool)
    assert_type(users.restore_password("a@b.c"), None)
    assert_type(users.resend_email_confirmation("a@b.c"), None)
    assert_type(users.create_email_confirmation_url(42), str)
    assert_type(users.update({"objectId": "u", "name": "n"}), BackendlessUser)
    assert_type(users.get_user_roles(), list[str])
    assert_type(users.get_user_roles("u"), list[str])
    found = users.find_by_role(
        "Pro", load_roles=True, where="age > 1", properties=["email"], sort_by=["created"]
    )
    assert_type(found, list[BackendlessUser])
    users.find_by_role("Pro", page_size=10, offset=20, sort_by="created DESC")
    assert_type(users.assign_role("a@b.c", "Pro"), None)
    assert_type(users.unassign_role(7, "Pro"), None)
    assert_type(users.describe_user_class(), list[UserProperty])
    assert_type(users.describe_user_class()[0].identity, bool)
    assert_type(users.enable_user("u"), None)
    assert_type(users.disable_user("u"), None)
    assert_type(users.update_user_status("u", "DISABLED"), None)
    assert_type(users.set_current_user_token("t", user_id="u", stay_logged_in=True), None)
    users.login("a@b.c", "p", True)  # type: ignore[call-arg]
    users.find_by_role("Pro", True)  # type: ignore[call-arg]
    users.set_current_user_token("t", "u")  # type: ignore[call-arg]
    users.register("a@b.c")  # type: ignore[arg-type]
    users.login("a@b.c", None)  # type: ignore[arg-type]


def user_model(data: Mapping[str, Any]) -> None:
    user = BackendlessUser.from_wire(data)
    assert_type(user, BackendlessUser)
    assert_type(user.object_id, str)
    assert_type(user.email, str | None)
    assert_type(user.name, str | None)
    assert_type(user.user_status, str | None)
    assert_type(user.social_account, str | None)
    assert_type(user.user_token, str | None)
    assert_type(user.is_guest, bool)
    assert_type(user.created, dt.datetime | None)
    assert_type(user.updated, dt.datetime | None)
    assert_type(user.last_login, dt.datetime | None)
    assert_type(user.properties, Mapping[str, Any])
    assert_type(user["column"], Any)
    assert_type(user.to_wire(), dict[str, Any])
    assert_type(user.with_token("t"), BackendlessUser)
    BackendlessUser(object_id="x", user_status="GUEST")
    user.email = "x"  # type: ignore[misc]

    stored = StoredSession(user_token="t", user_id="u")
    assert_type(stored.to_json(), str)
    assert_type(StoredSession.from_json(stored.to_json()), StoredSession)
    assert_type(stored.user_id, str | None)
    assert_type(stored.stay_logged_in, bool)


def errors() -> None:
    try:
        pass
    except SessionExpiredError as exc:
        assert_type(exc.code, int | None)
        assert_type(exc.status, int)
        assert_type(exc.message, str)
        assert_type(exc.body, Mapping[str, Any])
    except ApiError as exc:
        assert_type(exc.code, int | None)
    except UnexpectedResponseError as exc:
        assert_type(exc.status, int | None)
        assert_type(exc.body, bytes)
    except InvalidArgumentError as exc:
        assert_type(exc.argument, str | None)
    except RequestTimeout as exc:
        assert_type(exc.message, str)
    except BackendlessError as exc:
        assert_type(exc.message, str)
    assert_type(ERROR_CODES[3064], type[ApiError])
    assert_type(api_error_for(400, {"code": 3064}), ApiError)
    assert_type(backendless_auth.LoginFlowError("x", code=1).code, int | None)


async def async_app(client: httpx.AsyncClient, guest: BackendlessUser) -> None:
    app = AsyncBackendless(app_id="A", api_key="K", http_client=client, timeout=5)
    assert_type(app.users, AsyncUserService)
    assert_type(AsyncBackendless.from_env({}), AsyncBackendless)
    async with AsyncBackendless(domain="https://x.backendless.app") as entered:
        assert_type(entered, AsyncBackendless)
    users = app.users
    assert_type(await users.login_as_guest(stay_logged_in=True), BackendlessUser)
    assert_type(await users.login_with_oauth2("google", "t", guest_user=guest), BackendlessUser)
    assert_type(await users.login_with_oauth1("twitter", "t", "s"), BackendlessUser)
    assert_type(await users.get_authorization_url("google", scope=["email"]), str)
    assert_type(await users.is_valid_login(), bool)
    assert_type(await users.get_current_user(reload=True), BackendlessUser | None)
    assert_type(await users.complete_browser_login("https://x/?a=b"), BackendlessUser)
    assert_type(await users.logout(), None)
    assert_type(await users.login_with_browser("google", timeout=30), BackendlessUser)
    assert_type(
        await providers.login_with_provider_async(users, "google", client_id="c"), BackendlessUser
    )
    assert_type(
        await providers.fetch_provider_token_async("github", client_id="c"),
        providers.ProviderToken,
    )
    assert_type(await users.login("a@b.c", "p"), BackendlessUser)
    assert_type(await users.register({"email": "a@b.c", "password": "p"}), BackendlessUser)
    assert_type(await users.find_by_role("Pro", page_size=5), list[BackendlessUser])
    assert_type(await users.get_user_roles(), list[str])
    assert_type(await users.verify_password("p"), bool)
    assert_type(users.current_user, BackendlessUser | None)
    assert_type(users.user_token, str | None)
    await users.login_with_browser("google", timeout="soon")  # type: ignore[arg-type]
    await users.login_as_guest(True)  # type: ignore[call-arg]
    await users.get_current_user(reload="yes")  # type: ignore[arg-type]
    AsyncBackendless(app_id="A", api_key="K", session=None)  # type: ignore[call-arg]
    await app.aclose()
