"""The emulator's WSGI application: the Backendless user service, the admin routes and the fake
providers' routes, dispatched by path prefix.

URL layout:

* ``/<APP_ID>/<API_KEY>/<route>`` and ``/api/<route>`` – the Backendless side (both forms);
* ``/_providers/<provider>/...`` – the fake providers (see :mod:`.providers`);
* ``/_emulator/...`` – admin routes, guarded by the admin token (``X-Admin-Token: <token>`` or
  ``Authorization: Bearer <token>``), except ``/_emulator/health`` and
  ``/_emulator/openapi.json``.

Error answers are ``{"code": int, "message": str}``; see :data:`ERROR_CODES`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Iterable, Mapping
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode, urlsplit

from oauthlib.common import add_params_to_uri
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import accounts, pages
from .config import (
    BUILTIN_PROVIDERS,
    DEFAULT_FIELDS_MAPPING,
    DEFAULT_SCOPES,
    ID_FIELDS,
    LEGACY_PROVIDER_CODES,
    OAUTH1_PROVIDERS,
    OAUTH2_PROVIDERS,
    PROVIDER_CODE,
    CustomProvider,
    ProviderSettings,
)
from .cors import LOOPBACK, CorsPolicy
from .db import Database
from .faults import FaultBox, FaultError, fault_from_json
from .providers import SERVING, Client, ProviderHub, new_account, redirect_url_allowed, userinfo
from .recording import Recorders
from .wire import (
    MAX_BODY,
    ApiError,
    error_response,
    json_object,
    json_response,
    opt_bool,
    opt_mapping,
    opt_scope,
    opt_str,
    read_json,
    req_str,
)

log = logging.getLogger("backendless_auth.emulator")

#: Error codes the emulator answers with (HTTP status 400 unless noted).
ERROR_CODES = {
    1000: "no user with that objectId (HTTP 404)",
    2002: "wrong application id or API key (HTTP 400)",
    3060: "could not approve social account: provider disabled, token rejected, user denied",
    3064: "unknown or expired user token",
    3080: "redirect URL not allowed",
    8002: "malformed JSON body",
    8007: "missing or invalid parameter, unknown provider, guestUser not a current guest",
    3090: "the account is disabled (any login)",
    **{
        code: f"{meaning} (HTTP {status})"
        for code, (status, meaning) in accounts.ACCOUNT_ERROR_CODES.items()
        if code not in (3064, 8007)
    },
}

FLOW_TTL = 600.0
_CALLBACK_PATH = re.compile(r"/users/(oauth|social)/[A-Za-z0-9_.-]+/callback$")
RESERVED_COLUMNS = frozenset(
    {
        "objectId",
        "ownerId",
        "___class",
        "created",
        "updated",
        "lastLogin",
        "userStatus",
        "user-token",
        "password",
        "socialAccount",
        "accountType",
        "oAuthIdentities",
    }
)

_BL_MAP = Map(
    [
        Rule("/users/register/guest", endpoint="guest", methods=["POST"]),
        Rule(
            "/users/<any(oauth, social):kind>/<provider>/login", endpoint="login", methods=["POST"]
        ),
        Rule(
            "/users/<any(oauth, social):kind>/<provider>/request_url",
            endpoint="request_url",
            methods=["POST"],
        ),
        Rule(
            "/users/<any(oauth, social):kind>/<provider>/callback",
            endpoint="callback",
            methods=["GET"],
        ),
        Rule("/users/logout", endpoint="logout", methods=["GET"]),
        # What the official SDKs call beside the user service, and the legacy social routes.
        Rule("/info", endpoint="info", methods=["GET"]),
        Rule("/users/social/<provider>/sdk/login", endpoint="sdk_login", methods=["POST"]),
        Rule("/users/social/oauth/<provider>/request_url", endpoint="popup_url", methods=["POST"]),
        Rule("/users/isvalidusertoken/<token>", endpoint="isvalid", methods=["GET"]),
        Rule("/data/Users/<object_id>", endpoint="get_user", methods=["GET"]),
        *accounts.BACKENDLESS_RULES,
    ],
    strict_slashes=False,
    merge_slashes=False,
    converters=accounts.CONVERTERS,
)
_PROVIDER_MAP = Map(
    [
        Rule("/_providers/twitter/oauth/request_token", endpoint="rt", methods=["POST"]),
        Rule("/_providers/twitter/oauth/authorize", endpoint="o1auth", methods=["GET", "POST"]),
        Rule("/_providers/twitter/oauth/access_token", endpoint="at", methods=["POST"]),
        Rule(
            "/_providers/twitter/1.1/account/verify_credentials.json",
            endpoint="verify",
            methods=["GET"],
        ),
        Rule("/_providers/<provider>/authorize", endpoint="authorize", methods=["GET", "POST"]),
        Rule("/_providers/<provider>/token", endpoint="token", methods=["POST"]),
        Rule("/_providers/<provider>/userinfo", endpoint="userinfo", methods=["GET"]),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
_ADMIN_MAP = Map(
    [
        Rule("/_emulator/health", endpoint="health", methods=["GET"]),
        Rule("/_emulator/openapi.json", endpoint="openapi", methods=["GET"]),
        Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
        Rule("/_emulator/users", endpoint="users", methods=["GET"]),
        Rule("/_emulator/accounts/<provider>", endpoint="accounts", methods=["GET", "POST"]),
        Rule("/_emulator/tokens", endpoint="tokens", methods=["POST"]),
        Rule("/_emulator/sessions/expire", endpoint="expire", methods=["POST"]),
        Rule("/_emulator/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule("/_emulator/providers", endpoint="providers", methods=["GET"]),
        Rule("/_emulator/providers/<provider>", endpoint="provider", methods=["PATCH"]),
        *accounts.ADMIN_RULES,
    ],
    strict_slashes=False,
    merge_slashes=False,
)


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4()).upper()


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = urlsafe_b64encode(sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class EmulatorApp:
    """The WSGI application; all state lives in its :class:`Database`."""

    def __init__(
        self,
        db: Database,
        *,
        app_id: str,
        api_key: str,
        admin_token: str,
        session_ttl: float | None,
        allowed_redirects: Iterable[str],
        seed: bool,
        seed_accounts: Mapping[str, list[dict[str, Any]]] | None = None,
        cors_origins: Iterable[str] = (LOOPBACK,),
    ) -> None:
        self.db = db
        self.cors = CorsPolicy(cors_origins)
        self.recorders = Recorders()
        self.app_id = app_id
        self.api_key = api_key
        self.admin_token = admin_token
        self.session_ttl = session_ttl
        self.allowed_redirects = [str(u) for u in allowed_redirects]
        self.seed = seed
        self.seed_accounts = dict(seed_accounts or {})
        self.faults = FaultBox()
        self.hub = ProviderHub(db, self._web_redirect_ok)
        self.providers: dict[str, ProviderSettings] = {}
        self.desktop: dict[str, Client] = {}
        self._lock = threading.Lock()
        # Accounts with passwords (emulator/accounts.py): same Users table, same sessions.
        self.accounts = accounts.AccountService(db, self.open_session)
        for code in BUILTIN_PROVIDERS:
            tag = secrets.token_hex(4)
            self.set_provider(
                ProviderSettings(
                    code=code,
                    client_id=f"backendless-{code}-{tag}",
                    client_secret=secrets.token_urlsafe(24),
                    id_field=ID_FIELDS[code],
                    scope=DEFAULT_SCOPES[code],
                )
            )
            desktop = Client(f"{code}-desktop-client", f"{code}-desktop-secret", public=True)
            self.desktop[code] = desktop
            self.hub.register(code, desktop)
        if seed and not self.db.list_accounts("google"):
            self.seed_provider_accounts()

    # --- configuration ---------------------------------------------------------------------
    def set_provider(self, settings: ProviderSettings) -> None:
        self.providers[settings.code] = settings
        if not settings.custom:
            self.hub.register(settings.code, Client(settings.client_id, settings.client_secret))

    def add_custom(self, custom: CustomProvider) -> None:
        code = custom.code.lower()
        if not PROVIDER_CODE.match(code) or code in BUILTIN_PROVIDERS:
            raise ValueError(f"invalid custom provider code {custom.code!r}")
        self.providers[code] = ProviderSettings(
            code=code,
            client_id=custom.client_id,
            client_secret=custom.client_secret,
            enabled=custom.enabled,
            custom=True,
            authorize_url=custom.authorize_url,
            token_url=custom.token_url,
            userinfo_url=custom.userinfo_url,
            scope=custom.scope,
            id_field=custom.id_field,
            fields_mapping=dict(custom.fields_mapping or DEFAULT_FIELDS_MAPPING),
        )

    def seed_provider_accounts(self) -> None:
        for code in BUILTIN_PROVIDERS:
            people = self.seed_accounts.get(code) or [
                {"email": "ann@example.com", "name": "Ann Example"},
                {"email": "bob@example.com", "name": "Bob Example"},
            ]
            for person in people:
                self.create_account(code, **person)

    def create_account(self, provider: str, **fields: Any) -> dict[str, Any]:
        if provider not in BUILTIN_PROVIDERS:
            raise ApiError(8007, f"Unknown built-in provider '{provider}'")
        email = fields.pop("email", None)
        name = fields.pop("name", None)
        account = new_account(provider, email, name, **fields)
        self.db.add_account(provider, account["id"], account)
        return account

    def snapshot(self) -> None:
        """Remember the configuration as it is now: :meth:`reset` returns to it."""
        self._configured = (
            {code: dataclasses.replace(p) for code, p in self.providers.items()},
            self.session_ttl,
            copy.deepcopy(self.accounts.settings),
        )

    def reset(self) -> None:
        """Every table emptied (the app's identity kept), faults cleared, the providers and the
        session lifetime as configured, the demo accounts seeded again."""
        self.db.reset()
        self.faults.clear()
        configured = getattr(self, "_configured", None)
        if configured is not None:
            providers, self.session_ttl, settings = configured
            self.accounts.settings = copy.deepcopy(settings)
            self.providers = {code: dataclasses.replace(p) for code, p in providers.items()}
        if self.seed:
            self.seed_provider_accounts()

    # --- redirect policy -------------------------------------------------------------------
    def redirect_allowed(self, url: str) -> bool:
        return redirect_url_allowed(url, self.allowed_redirects)

    def _web_redirect_ok(self, provider: str, uri: str) -> bool:
        if not self.redirect_allowed(uri):
            return False
        # Any Backendless-shaped callback: another emulator may front this one as a custom
        # provider, with its own provider code in the path.
        return _CALLBACK_PATH.search(urlsplit(uri).path) is not None

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        serving = SERVING.set(True)
        try:
            response = self.handle(request)
        except (ApiError, HTTPException) as exc:
            response = error_answer(exc)
        except Exception:
            log.exception("emulator: unexpected error on %s %s", request.method, request.path)
            response = error_response(0, "Internal emulator error", 500)
        finally:
            SERVING.reset(serving)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_emulator/") or path == "/_emulator":
            return self._admin(request)
        if path.startswith("/_providers/"):
            return self._faulted(request) or self._provider_route(request)
        # The Backendless side: CORS on every answer, errors included.
        if self.cors.is_preflight(request):
            return self.cors.preflight(request)
        try:
            response = self._faulted(request) or self._backendless_route(request)
        except (ApiError, HTTPException) as exc:
            response = error_answer(exc)
        self.cors.decorate(request, response)
        return response

    def _faulted(self, request: Request) -> Response | None:
        """The answer of a programmed fault for this request, if one fires."""
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return None
        if fault.kind == "delay":
            time.sleep(fault.delay)
            return None
        if fault.kind == "reset":
            request.environ["backendless_auth.emulator.reset"] = True
            return json_response({"code": 0, "message": "x" * 256})
        return error_response(fault.status, f"Injected fault: HTTP {fault.status}", fault.status)

    def _backendless_route(self, request: Request) -> Response:
        path = request.path
        if path == "/api" or path.startswith("/api/"):
            base = request.host_url + "api/"
            if self.recorders:
                self.recorders.record(request, path[4:], "domain")
            return self._backendless(request, path[4:] or "/", base)
        parts = path.split("/", 3)
        if len(parts) < 4 or not parts[1] or not parts[2] or parts[1].startswith("_"):
            raise NotFound("No such route")
        app_id, api_key, rest = parts[1], parts[2], parts[3]
        server = self.accounts.is_server_key(api_key)  # the CloudCode key
        if not (
            secrets.compare_digest(app_id.upper().encode(), self.app_id.upper().encode())
            and (
                secrets.compare_digest(api_key.upper().encode(), self.api_key.upper().encode())
                or server
            )
        ):
            raise ApiError(2002, "Application with the given id and API key does not exist")
        request.environ[accounts.SERVER_KEY] = server
        if self.recorders:
            self.recorders.record(request, rest, "keyed", server=server)
        return self._backendless(request, "/" + rest, f"{request.host_url}{app_id}/{api_key}/")

    # --- the Backendless side --------------------------------------------------------------
    def _backendless(self, request: Request, route: str, base: str) -> Response:
        endpoint, args = _BL_MAP.bind("emulator").match(route, method=request.method)
        if endpoint.startswith("accounts."):
            return self.accounts.handle(endpoint, args, request)
        if endpoint == "guest":
            return self.guest_login()
        if endpoint == "logout":
            token = request.headers.get("user-token", "")
            if not token or self.db.session_user_id(token) is None:
                raise ApiError(3064, "Not existing user token")
            self.db.delete_session(token)
            return Response(b"", status=200, content_type="text/plain")
        if endpoint == "isvalid":
            return json_response(self.db.session_user_id(args["token"]) is not None)
        if endpoint == "info":
            return json_response(self.app_info())
        if endpoint == "get_user":
            header = request.headers.get("user-token")
            if header is not None and self.db.session_user_id(header) is None:
                raise ApiError(3064, "Not existing user token")
            user = self.db.get_user(args["object_id"])
            if user is None:
                raise ApiError(1000, f"Entity with ID {args['object_id']} not found", 404)
            return json_response(user)
        if endpoint in ("sdk_login", "popup_url"):
            code = args["provider"].lower()
            provider = self._provider(LEGACY_PROVIDER_CODES.get(code, code))
            if endpoint == "sdk_login":
                return self.token_login(request, provider)
            return self.request_url(request, provider, base, popup=True)
        provider = self._provider(args["provider"])
        if endpoint == "login":
            return self.token_login(request, provider)
        if endpoint == "request_url":
            return self.request_url(request, provider, base)
        return self.callback(request, provider)

    def app_info(self) -> dict[str, Any]:
        """``GET <appPath>/info``: what the JS SDK reads at ``initApp`` (its logging levels, the
        app id and key a domain-form client needs for Real-Time). No ``rtURL``: the emulator has
        no Real-Time server."""
        return {"appId": self.app_id, "apiKey": self.api_key, "loggers": []}

    def _provider(self, code: str) -> ProviderSettings:
        settings = self.providers.get(code.lower())
        if settings is None:
            raise ApiError(8007, f"Unknown login provider '{code}'")
        if not settings.enabled:
            raise ApiError(3060, f"Login provider '{settings.code}' is disabled for this app")
        return settings

    def open_session(self, user: dict[str, Any]) -> dict[str, Any]:
        token = new_id()
        expires = None if self.session_ttl is None else time.time() + self.session_ttl
        self.db.add_session(token, user["objectId"], expires)
        return {**user, "user-token": token}

    def guest_login(self) -> Response:
        return json_response(self.new_guest())

    def new_guest(self) -> dict[str, Any]:
        """A new guest user with an open session (its ``user-token`` in the answer)."""
        now = now_ms()
        object_id = new_id()
        user: dict[str, Any] = {
            "___class": "Users",
            "objectId": object_id,
            "ownerId": object_id,
            "email": None,
            "name": None,
            "userStatus": "GUEST",
            "created": now,
            "updated": now,
            "lastLogin": now,
            "socialAccount": "BACKENDLESS",
            "accountType": "BACKENDLESS",
            "oAuthIdentities": [],
            "blUserLocale": "en",
        }
        with self.db.transaction():
            self.db.put_user(user)
            return self.open_session(user)

    def token_login(self, request: Request, settings: ProviderSettings) -> Response:
        body = json_object(request)
        token = req_str(body, "accessToken")
        secret = req_str(body, "accessTokenSecret") if settings.oauth1 else None
        mapping = opt_mapping(body, "fieldsMapping")
        guest = body.get("guestUser")
        guest_id: str | None = None
        if guest is not None:
            if not isinstance(guest, dict) or not isinstance(guest.get("objectId"), str):
                raise ApiError(8007, "Invalid value for parameter 'guestUser': expected a user")
            guest_id = guest["objectId"]
        profile = self.fetch_profile(settings, token, secret)
        user = self.social_login(settings, profile, mapping, guest_id)
        return json_response(user)

    def seed_social_user(
        self, provider: str, account_id: str, guest_id: str | None = None
    ) -> dict[str, Any]:
        """Log a built-in provider's account in, in process: the user with a ``user-token``."""
        settings = self._provider(provider)
        account = self.hub.account(provider, account_id)
        if account is None:
            raise ApiError(8007, f"No {provider} account '{account_id}'")
        return self.social_login(settings, userinfo(account), None, guest_id)

    def fetch_profile(
        self, settings: ProviderSettings, token: str, secret: str | None
    ) -> dict[str, Any]:
        if settings.custom:
            profile = _http_json(
                settings.userinfo_url,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            if not isinstance(profile, dict):
                raise ApiError(3060, f"Provider '{settings.code}' sent no user profile")
            return profile
        found = self.hub.check_token(settings.code, token, secret)
        if found is None:
            raise ApiError(
                3060, f"Could not approve social account: {settings.code} rejected the token"
            )
        return found

    def social_login(
        self,
        settings: ProviderSettings,
        profile: dict[str, Any],
        mapping: dict[str, str] | None,
        guest_id: str | None,
    ) -> dict[str, Any]:
        uid = profile.get(settings.id_field)
        if uid is None or uid == "" or isinstance(uid, (dict, list, bool)):
            raise ApiError(
                3060, f"The {settings.code} profile has no '{settings.id_field}' to identify it"
            )
        uid = str(uid)
        effective = {**settings.fields_mapping, **(mapping or {})}
        bad = sorted(set(effective.values()) & RESERVED_COLUMNS)
        if bad:
            raise ApiError(8007, f"fieldsMapping cannot write the column(s) {', '.join(bad)}")
        code = settings.code
        with self.db.transaction():
            guest = None
            if guest_id is not None:
                guest = self.db.get_user(guest_id)
                if guest is None or guest.get("userStatus") != "GUEST":
                    raise ApiError(8007, "The guestUser is not a current guest user")
            user = None
            linked = self.db.find_identity(code, uid)
            if linked is not None:
                user = self.db.get_user(linked)
            if user is None and guest is not None:
                user = guest
            email = profile.get("email")
            if user is None and isinstance(email, str) and email:
                user = self.db.find_user_by_email(email)
            if user is not None and user.get("userStatus") == "DISABLED":
                raise ApiError(3090, "User account is disabled")
            now = now_ms()
            if user is None:
                object_id = new_id()
                user = {
                    "___class": "Users",
                    "objectId": object_id,
                    "ownerId": object_id,
                    "email": None,
                    "name": None,
                    "created": now,
                    "blUserLocale": "en",
                    "oAuthIdentities": [],
                }
            for field_name, column in effective.items():
                if field_name in profile:
                    user[column] = profile[field_name]
            if user.get("userStatus") in (None, "GUEST"):
                user["userStatus"] = "ENABLED"
            user["socialAccount"] = code.upper()
            user["accountType"] = "OAUTH"
            user["updated"] = now
            user["lastLogin"] = now
            identities = [i for i in user.get("oAuthIdentities") or [] if isinstance(i, dict)]
            if not any(
                i.get("providerCode") == code and i.get("providerUserId") == uid for i in identities
            ):
                identities.append({"providerCode": code, "providerUserId": uid})
            user["oAuthIdentities"] = identities
            self.db.put_user(user)
            self.db.link_identity(code, uid, user["objectId"])
            return self.open_session(user)

    def request_url(
        self, request: Request, settings: ProviderSettings, base: str, *, popup: bool = False
    ) -> Response:
        body = json_object(request)
        mapping = opt_mapping(body, "fieldsMapping")
        permissions = opt_scope(body, "permissions", settings.scope)
        redirect = False if popup else opt_bool(body, "redirect")
        after = opt_str(body, "redirectAfterLoginUrl")
        domain = opt_str(body, "callbackUrlDomain")
        content_type = opt_str(body, "contentType")
        if after is not None and not self.redirect_allowed(after):
            raise ApiError(3080, f"Redirect URL not allowed: {after}")
        if domain is not None:
            if not self.redirect_allowed(domain):
                raise ApiError(3080, f"Callback URL domain not allowed: {domain}")
            base = domain.rstrip("/") + "/api/"
        code = settings.code
        callback = f"{base}users/oauth/{code}/callback"
        flow: dict[str, Any] = {
            "provider": code,
            "after": after,
            "fieldsMapping": mapping,
            "callback": callback,
        }
        if popup:
            # The legacy popup flow (the JS SDK's loginWithFacebook/GooglePlus/Twitter): the
            # callback page hands the user to its opener with postMessage, and only to the page
            # that started the flow (its Origin, when CORS allows it).
            origin = request.headers.get("Origin")
            flow["popup"] = origin if self.cors.allows(origin) else ""
        if settings.oauth1:
            client = self.hub.registry.client(code, settings.client_id)
            assert client is not None
            token = self.hub.oauth1_start(client, callback)
            url = f"{request.host_url}_providers/{code}/oauth/authorize?" + urlencode(
                {"oauth_token": token}
            )
            self.db.put_temp("flows", "oauth1:" + token, flow, FLOW_TTL)
        else:
            state = secrets.token_urlsafe(24)
            verifier, challenge = _pkce_pair()
            flow["verifier"] = verifier
            params = {
                "response_type": "code",
                "client_id": settings.client_id,
                "redirect_uri": callback,
                "scope": permissions if permissions is not None else settings.scope,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            if settings.custom:
                url = add_params_to_uri(settings.authorize_url, list(params.items()))
            else:
                url = f"{request.host_url}_providers/{code}/authorize?" + urlencode(params)
            self.db.put_temp("flows", state, flow, FLOW_TTL)
        if redirect is None or redirect:
            return Response(b"", status=302, headers={"Location": url})
        if content_type == "application/json":
            return json_response({"url": url})
        return Response(url, content_type="text/plain; charset=utf-8")

    def callback(self, request: Request, settings: ProviderSettings) -> Response:
        args = request.args
        if settings.oauth1:
            key = "oauth1:" + (args.get("oauth_token") or args.get("denied") or "")
        else:
            key = args.get("state") or ""
        flow = self.db.pop_temp("flows", key) if key else None
        if flow is None or flow["provider"] != settings.code:
            outcome = {"error": "Unknown or expired login attempt", "code": 8007}
            return Response(
                pages.result_page(outcome, ok=False),
                status=400,
                content_type="text/html; charset=utf-8",
            )
        after = flow.get("after")
        try:
            profile = self._callback_profile(request, settings, flow)
            user = self.social_login(settings, profile, flow.get("fieldsMapping"), None)
        except ApiError as exc:
            if "popup" in flow:
                return _html(pages.popup_page({"fault": exc.message}, flow["popup"]), 400)
            failure = {"error": exc.message, "code": exc.code}
            if after:
                return Response(
                    b"", status=302, headers={"Location": add_params_to_uri(after, failure.items())}
                )
            return Response(
                pages.result_page(failure, ok=False),
                status=400,
                content_type="text/html; charset=utf-8",
            )
        if "popup" in flow:
            return _html(pages.popup_page(user, flow["popup"]), 200)
        success = {"userId": user["objectId"], "userToken": user["user-token"]}
        if after:
            location = add_params_to_uri(after, list(success.items()))
            return Response(b"", status=302, headers={"Location": location})
        return Response(
            pages.result_page(success, ok=True), content_type="text/html; charset=utf-8"
        )

    def _callback_profile(
        self, request: Request, settings: ProviderSettings, flow: dict[str, Any]
    ) -> dict[str, Any]:
        args = request.args
        code = settings.code
        if args.get("error") or args.get("denied"):
            detail = args.get("error_description") or args.get("error") or "access denied"
            raise ApiError(3060, f"The user denied access at {code}: {detail}")
        if settings.custom:
            if not args.get("code"):
                raise ApiError(3060, f"{code} sent no authorization code")
            token = _http_json(
                settings.token_url,
                data={
                    "grant_type": "authorization_code",
                    "code": args["code"],
                    "redirect_uri": flow["callback"],
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                    "code_verifier": flow.get("verifier") or "",
                },
                headers={"Accept": "application/json"},
            )
            access = token.get("access_token") if isinstance(token, dict) else None
            if not isinstance(access, str):
                raise ApiError(3060, f"{code} sent no access token")
            return self.fetch_profile(settings, access, None)
        client = self.hub.registry.client(code, settings.client_id)
        assert client is not None
        if settings.oauth1:
            account_id = self.hub.oauth1_finish(
                client, args.get("oauth_token", ""), args.get("oauth_verifier", "")
            )
        else:
            account_id = self.hub.exchange_code(
                code, client, args.get("code", ""), flow["callback"], flow.get("verifier")
            )
        account = self.hub.account(code, account_id) if account_id else None
        if account is None:
            raise ApiError(3060, f"Could not approve social account: {code} refused the grant")
        return userinfo(account)

    # --- provider routes -------------------------------------------------------------------
    def _provider_route(self, request: Request) -> Response:
        endpoint, args = _PROVIDER_MAP.bind("emulator").match(request.path, method=request.method)
        hub = self.hub
        if endpoint == "rt":
            return hub.request_token(request)
        if endpoint == "o1auth":
            return hub.oauth1_authorize(request)
        if endpoint == "at":
            return hub.access_token(request)
        if endpoint == "verify":
            return hub.verify_credentials(request)
        provider = args["provider"]
        if provider not in OAUTH2_PROVIDERS:
            raise NotFound(f"No OAuth2 provider '{provider}'")
        if endpoint == "authorize":
            return hub.authorize(request, provider)
        if endpoint == "token":
            return hub.token(request, provider)
        return hub.userinfo(request, provider)

    # --- admin routes ----------------------------------------------------------------------
    def _admin(self, request: Request) -> Response:
        endpoint, args = _ADMIN_MAP.bind("emulator").match(request.path, method=request.method)
        if endpoint == "health":
            return json_response({"status": "ok"})
        if endpoint == "openapi":
            from .openapi import openapi_document

            return json_response(openapi_document(request.host_url.rstrip("/")))
        given = request.headers.get("X-Admin-Token", "")
        auth = request.headers.get("Authorization", "")
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not secrets.compare_digest(given.encode(), self.admin_token.encode()):
            raise ApiError(401, "The admin token is missing or wrong", 401)
        if endpoint.startswith("accounts."):
            return self.accounts.admin(endpoint, request)
        if endpoint == "reset":
            self.reset()
            return json_response({"reset": True})
        if endpoint == "users":
            return json_response(self.db.all_users())
        if endpoint == "accounts":
            provider = args["provider"]
            if provider not in BUILTIN_PROVIDERS:
                raise ApiError(8007, f"Unknown built-in provider '{provider}'", 404)
            if request.method == "POST":
                body = json_object(request)
                email = req_str(body, "email")
                name = opt_str(body, "name")
                extra = {k: v for k, v in body.items() if k not in ("email", "name")}
                if "id" in extra and not isinstance(extra["id"], (str, int)):
                    raise ApiError(8007, "Invalid value for parameter 'id'")
                account = self.create_account(provider, email=email, name=name, **extra)
                return json_response(account_view(account), 201)
            return json_response([account_view(a) for a in self.db.list_accounts(provider)])
        if endpoint == "tokens":
            body = json_object(request)
            provider = req_str(body, "provider")
            account_id = req_str(body, "account")
            token, secret = self.mint_provider_token(provider, account_id)
            answer = {"accessToken": token}
            if secret is not None:
                answer["accessTokenSecret"] = secret
            return json_response(answer)
        if endpoint == "expire":
            body = json_object(request)
            count = self.db.expire_sessions(opt_str(body, "userToken"))
            return json_response({"expired": count})
        if endpoint == "faults":
            if request.method == "DELETE":
                self.faults.clear()
                return json_response([])
            if request.method == "POST":
                try:
                    fault = self.faults.add(fault_from_json(read_json(request)))
                except FaultError as exc:
                    raise ApiError(8007, str(exc)) from None
                return json_response(fault.as_dict(), 201)
            return json_response([f.as_dict() for f in self.faults.list()])
        if endpoint == "providers":
            return json_response(
                {code: self.provider_view(code, request.host_url) for code in self.providers}
            )
        code = args["provider"].lower()
        if code not in self.providers:
            raise ApiError(8007, f"Unknown login provider '{code}'", 404)
        body = json_object(request)
        enabled = opt_bool(body, "enabled")
        if enabled is not None:
            self.providers[code].enabled = enabled
        return json_response(self.provider_view(code, request.host_url))

    def mint_provider_token(self, provider: str, account_id: str) -> tuple[str, str | None]:
        if provider not in BUILTIN_PROVIDERS:
            raise ApiError(8007, f"Unknown built-in provider '{provider}'")
        if self.hub.account(provider, account_id) is None:
            raise ApiError(8007, f"No {provider} account '{account_id}'")
        return self.hub.mint_token(provider, account_id, self.desktop[provider].client_id)

    def provider_view(self, code: str, host_url: str) -> dict[str, Any]:
        settings = self.providers[code]
        view: dict[str, Any] = {
            "code": code,
            "enabled": settings.enabled,
            "custom": settings.custom,
            "clientId": settings.client_id,
            "scope": settings.scope,
            "idField": settings.id_field,
            "fieldsMapping": settings.fields_mapping,
        }
        if settings.custom:
            view.update(
                authorizeUrl=settings.authorize_url,
                tokenUrl=settings.token_url,
                userinfoUrl=settings.userinfo_url,
            )
        else:
            view["endpoints"] = endpoints_dict(code, host_url.rstrip("/"), self.desktop[code])
        return view


def error_answer(exc: ApiError | HTTPException) -> Response:
    """A Backendless error answer for one of ours or for werkzeug's routing errors."""
    if isinstance(exc, ApiError):
        return error_response(exc.code, exc.message, exc.status)
    response = error_response(exc.code or 400, exc.description or exc.name, exc.code or 400)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _html(text: str, status: int) -> Response:
    return Response(text, status=status, content_type="text/html; charset=utf-8")


def endpoints_dict(code: str, url: str, desktop: Client) -> dict[str, str]:
    base = f"{url}/_providers/{code}"
    if code in OAUTH1_PROVIDERS:
        return {
            "request_token_url": f"{base}/oauth/request_token",
            "authorize_url": f"{base}/oauth/authorize",
            "access_token_url": f"{base}/oauth/access_token",
            "verify_credentials_url": f"{base}/1.1/account/verify_credentials.json",
            "consumer_key": desktop.client_id,
            "consumer_secret": desktop.client_secret,
        }
    return {
        "authorize_url": f"{base}/authorize",
        "token_url": f"{base}/token",
        "userinfo_url": f"{base}/userinfo",
        "client_id": desktop.client_id,
        "client_secret": desktop.client_secret,
        "scope": DEFAULT_SCOPES[code],
    }


def account_view(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": account["provider"],
        "id": account["id"],
        "email": account.get("email"),
        "name": account.get("name"),
        "profile": userinfo(account),
    }


def _http_json(url: str, *, headers: dict[str, str], data: dict[str, str] | None = None) -> Any:
    """GET (or form-POST) a custom provider's URL; any failure is a 3060."""
    payload = None if data is None else urlencode(data).encode()
    req = urllib.request.Request(url, data=payload, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            raw = resp.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        raise ApiError(3060, f"The provider answered HTTP {exc.code} at {url}") from None
    except (OSError, ValueError) as exc:
        raise ApiError(3060, f"The provider could not be reached at {url}: {exc}") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(3060, f"The provider sent no JSON at {url}") from None
