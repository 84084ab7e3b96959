"""The fake login providers, built on oauthlib's server-side endpoints.

OAuth2 (``google``, ``facebook``, ``github``, ``linkedin``): authorization code with PKCE, at

* ``GET|POST /_providers/<p>/authorize`` – the sign-in page (see :mod:`.pages`);
* ``POST /_providers/<p>/token`` – code → bearer token (client_secret_basic, client_secret_post,
  or a public client with PKCE);
* ``GET /_providers/<p>/userinfo`` – the profile in the provider's own field names
  (``Authorization: Bearer``).

OAuth 1.0a (``twitter``): ``POST /_providers/twitter/oauth/request_token``,
``GET|POST /_providers/twitter/oauth/authorize``, ``POST /_providers/twitter/oauth/access_token``,
``GET /_providers/twitter/1.1/account/verify_credentials.json``.

Each provider knows two clients: the Backendless app's web client (confidential, redirect only
to the emulator's callback) and a public *desktop* client that accepts any loopback redirect URI
with any port (RFC 8252) and must use PKCE S256.
"""

from __future__ import annotations

import base64
import contextvars
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlencode, urlsplit

from oauthlib import oauth1, oauth2
from oauthlib.common import add_params_to_uri
from werkzeug.wrappers import Request, Response

from . import pages
from .config import DEFAULT_SCOPES, OAUTH1_PROVIDERS, OAUTH2_PROVIDERS
from .db import Database

CODE_TTL = 600.0
PROVIDER_TOKEN_TTL = 3600.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Where a browser (WHATWG URL rules) and urlsplit read a URL differently: a browser takes "\"
# for "/" in http(s) URLs and drops tabs and newlines, so "http://evil.example\@127.0.0.1/"
# is loopback to urlsplit but evil.example to a browser.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f-\x9f]")


# --- oauthlib's own logging -------------------------------------------------------------------
# oauthlib's server classes log grants (authorization codes, states), request tokens and
# verifiers at DEBUG. Inside the emulator those are live secrets of the flows it serves, so its
# records are dropped on the emulator's request threads; oauthlib used elsewhere in the process
# (the SDK's own provider flows) logs as before.
SERVING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "backendless_auth_emulator_serving", default=False
)


class _QuietWhileServing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not SERVING.get()


_QUIET = _QuietWhileServing()


def quiet_oauthlib() -> None:
    """Attach the filter to every oauthlib logger that exists (idempotent)."""
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] == "oauthlib"]
    for name in ["oauthlib", *names]:
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)


@dataclass
class Client:
    """An OAuth client registered with a fake provider."""

    client_id: str
    client_secret: str = field(repr=False)
    public: bool = False  # the desktop client: loopback redirects, PKCE, secret optional


def _browser_parts(url: object) -> SplitResult | None:
    """Split an http(s) URL whose host a browser reads as urlsplit does, else ``None``.

    Refused: any backslash, whitespace or control character, user info (``@`` in the
    authority), another scheme, no host, a malformed port.
    """
    if not isinstance(url, str) or _AMBIGUOUS.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not parts.hostname:
        return None
    return parts


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    port = parts.port if parts.port is not None else _DEFAULT_PORTS[parts.scheme]
    return parts.scheme, parts.hostname or "", port


def redirect_url_allowed(
    url: str, prefixes: Iterable[str] = (), *, schemes: tuple[str, ...] = ("http", "https")
) -> bool:
    """Whether a browser sent to ``url`` lands on this machine or under one of ``prefixes``.

    The one redirect check of the emulator, Backendless side and providers alike: the URL must
    be unambiguous (see :func:`_browser_parts`), use one of ``schemes``, and have a loopback host
    (any port) or start with an allowed prefix *and* share its scheme, host and port.
    """
    parts = _browser_parts(url)
    if parts is None or parts.scheme not in schemes:
        return False
    if parts.hostname in LOOPBACK_HOSTS:
        return True
    # The prefix alone is not enough: "https://app.example.com" also starts
    # "https://app.example.com.evil.example/".
    return any(
        url.startswith(prefix)
        and (allowed := _browser_parts(prefix)) is not None
        and _origin(allowed) == _origin(parts)
        for prefix in prefixes
    )


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is an unambiguous http(s) URL on a loopback host (any port)."""
    return redirect_url_allowed(url)


def new_account_id(provider: str) -> str:
    digits = {"google": 21, "facebook": 16, "github": 8, "twitter": 18}.get(provider)
    if digits is None:
        return secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


def new_account(provider: str, email: str | None, name: str | None, **extra: Any) -> dict[str, Any]:
    account_id = str(extra.pop("id", None) or new_account_id(provider))
    handle = (email or name or account_id).split("@")[0].replace(" ", "").lower() or account_id
    return {
        "provider": provider,
        "id": account_id,
        "email": email,
        "name": name or handle,
        "handle": handle,
        "extra": extra,
    }


def userinfo(account: dict[str, Any]) -> dict[str, Any]:
    """The account's profile in its provider's own field names."""
    provider = account["provider"]
    aid, email, name = account["id"], account.get("email"), account.get("name")
    first, _, last = (name or "").partition(" ")
    picture = f"https://avatars.example.com/{provider}/{aid}.png"
    profile: dict[str, Any]
    if provider == "google":
        profile = {
            "sub": aid,
            "email": email,
            "email_verified": email is not None,
            "name": name,
            "given_name": first,
            "family_name": last,
            "picture": picture,
            "locale": "en",
        }
    elif provider == "github":
        profile = {
            "id": int(aid) if aid.isdigit() else aid,
            "login": account.get("handle"),
            "name": name,
            "email": email,
            "avatar_url": picture,
        }
    elif provider == "facebook":
        profile = {"id": aid, "name": name, "email": email}
    elif provider == "linkedin":
        profile = {
            "sub": aid,
            "email": email,
            "email_verified": email is not None,
            "name": name,
            "given_name": first,
            "family_name": last,
            "picture": picture,
        }
    else:  # twitter
        profile = {
            "id": int(aid) if aid.isdigit() else aid,
            "id_str": aid,
            "screen_name": account.get("handle"),
            "name": name,
            "email": email,
            "profile_image_url_https": picture,
        }
    profile.update(account.get("extra") or {})
    return {k: v for k, v in profile.items() if v is not None}


class _Registry:
    """What the validators need to know about clients, shared by all providers."""

    def __init__(self, db: Database, web_redirect_ok: Callable[[str, str], bool]) -> None:
        self.db = db
        self.clients: dict[str, dict[str, Client]] = {}
        self.web_redirect_ok = web_redirect_ok

    def client(self, provider: str, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        return self.clients.get(provider, {}).get(client_id)


class _OAuth2Validator(oauth2.RequestValidator):  # type: ignore[misc]
    def __init__(self, provider: str, registry: _Registry) -> None:
        super().__init__()
        self.provider = provider
        self.reg = registry

    def _client(self, client_id: str | None) -> Client | None:
        return self.reg.client(self.provider, client_id)

    # --- authorization request -------------------------------------------------------------
    def validate_client_id(self, client_id: str, request: Any, *a: Any, **k: Any) -> bool:
        return self._client(client_id) is not None

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *a: Any, **k: Any
    ) -> bool:
        client = self._client(client_id)
        if client is None:
            return False
        if client.public:
            return redirect_url_allowed(redirect_uri, schemes=("http",))
        return self.reg.web_redirect_ok(self.provider, redirect_uri)

    def get_default_redirect_uri(self, client_id: str, request: Any, *a: Any, **k: Any) -> None:
        return None

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        return True

    def get_default_scopes(self, client_id: str, request: Any, *a: Any, **k: Any) -> list[str]:
        return DEFAULT_SCOPES[self.provider].replace(",", " ").split()

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        return response_type == "code"

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        client = self._client(client_id)
        return client is not None and client.public

    def save_authorization_code(
        self, client_id: str, code: dict[str, Any], request: Any, *a: Any, **k: Any
    ) -> None:
        self.reg.db.put_temp(
            "grants",
            code["code"],
            {
                "provider": self.provider,
                "client_id": client_id,
                "redirect_uri": request.redirect_uri,
                "scopes": list(request.scopes or []),
                "user": request.user,
                "challenge": request.code_challenge,
                "challenge_method": request.code_challenge_method,
            },
            CODE_TTL,
        )

    # --- token request ---------------------------------------------------------------------
    def client_authentication_required(self, request: Any, *a: Any, **k: Any) -> bool:
        client = self._client(request.client_id)
        if client is not None and client.public:
            return bool(request.client_secret) or _basic_auth(request) is not None
        return True

    def authenticate_client(self, request: Any, *a: Any, **k: Any) -> bool:
        basic = _basic_auth(request)
        client_id, secret = basic if basic else (request.client_id, request.client_secret)
        client = self._client(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, secret or ""):
            return False
        request.client = client
        request.client_id = client_id
        return True

    def authenticate_client_id(self, client_id: str, request: Any, *a: Any, **k: Any) -> bool:
        client = self._client(client_id)
        if client is None or not client.public:
            return False
        request.client = client
        return True

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        return grant_type == "authorization_code"

    def _grant(self, code: str) -> dict[str, Any] | None:
        grant = self.reg.db.get_temp("grants", code)
        if grant is None or grant["provider"] != self.provider:
            return None
        return grant

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        grant = self._grant(code)
        if grant is None or grant["client_id"] != client_id:
            return False
        request.user = grant["user"]
        request.scopes = grant["scopes"]
        return True

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        grant = self._grant(code)
        return None if grant is None else grant["challenge"]

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        grant = self._grant(code)
        return None if grant is None else grant["challenge_method"]

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *a: Any,
        **k: Any,
    ) -> bool:
        grant = self._grant(code)
        return grant is not None and grant["redirect_uri"] == redirect_uri

    def save_bearer_token(self, token: dict[str, Any], request: Any, *a: Any, **k: Any) -> None:
        self.reg.db.add_provider_token(
            token["access_token"],
            self.provider,
            request.user,
            request.client_id,
            " ".join(request.scopes or []),
            time.time() + float(token.get("expires_in") or PROVIDER_TOKEN_TTL),
        )

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *a: Any, **k: Any
    ) -> None:
        self.reg.db.pop_temp("grants", code)


def _basic_auth(request: Any) -> tuple[str, str] | None:
    header = (request.headers or {}).get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip()).decode("utf-8")
    except ValueError:
        return None
    client_id, sep, secret = raw.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


class _OAuth1Validator(oauth1.RequestValidator):  # type: ignore[misc]
    """Twitter's side of OAuth 1.0a; tokens live in the emulator's database."""

    def __init__(self, provider: str, registry: _Registry) -> None:
        super().__init__()
        self.provider = provider
        self.reg = registry

    enforce_ssl = False
    client_key_length = (3, 128)
    request_token_length = (3, 128)
    access_token_length = (3, 128)
    nonce_length = (4, 128)
    verifier_length = (3, 128)
    dummy_client = "dummy_client_key"
    dummy_request_token = "dummy_request_token"
    dummy_access_token = "dummy_access_token"

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (
            oauth1.SIGNATURE_HMAC_SHA1,
            oauth1.SIGNATURE_HMAC_SHA256,
            oauth1.SIGNATURE_PLAINTEXT,
        )

    @property
    def safe_characters(self) -> set[str]:
        return set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")

    def _client(self, key: str) -> Client | None:
        return self.reg.client(self.provider, key)

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self._client(client_key) is not None

    def get_client_secret(self, client_key: str, request: Any) -> str:
        client = self._client(client_key)
        return client.client_secret if client else "dummy-secret"

    def _rt(self, token: str) -> dict[str, Any] | None:
        rt = self.reg.db.get_temp("request_tokens", token)
        return rt if rt and rt["provider"] == self.provider else None

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        rt = self._rt(token)
        return rt["secret"] if rt and rt["client_key"] == client_key else "dummy-secret"

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        at = self.reg.db.get_provider_token(token)
        if at and at["client_id"] == client_key and at["secret"]:
            return str(at["secret"])
        return "dummy-secret"

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def get_redirect_uri(self, token: str, request: Any) -> str:
        rt = self._rt(token)
        return rt["callback"] if rt else "oob"

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        self.reg.db.pop_temp("request_tokens", request_token)

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        rt = self._rt(token)
        return rt is not None and rt["client_key"] == client_key

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        at = self.reg.db.get_provider_token(token)
        return at is not None and at["provider"] == self.provider and at["client_id"] == client_key

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        return self.reg.db.use_nonce(client_key, nonce, int(timestamp))

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        client = self._client(client_key)
        if client is None:
            return False
        if redirect_uri == "oob":
            return True
        if client.public:
            return redirect_url_allowed(redirect_uri)
        return self.reg.web_redirect_ok(self.provider, redirect_uri)

    def validate_requested_realms(self, client_key: str, realms: list[str], request: Any) -> bool:
        return True

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: Any,
        uri: str | None = None,
        realms: list[str] | None = None,
    ) -> bool:
        return True

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        rt = self._rt(token)
        if rt is None or rt["client_key"] != client_key or not rt.get("verifier"):
            return False
        if not secrets.compare_digest(rt["verifier"], verifier):
            return False
        request.user = rt["user"]
        return True

    def verify_request_token(self, token: str, request: Any) -> bool:
        return self._rt(token) is not None

    def verify_realms(self, token: str, realms: list[str], request: Any) -> bool:
        return True

    def save_request_token(self, token: dict[str, Any], request: Any) -> None:
        self.reg.db.put_temp(
            "request_tokens",
            token["oauth_token"],
            {
                "provider": self.provider,
                "secret": token["oauth_token_secret"],
                "client_key": request.client_key,
                "callback": request.redirect_uri or "oob",
                "verifier": None,
                "user": None,
            },
            CODE_TTL,
        )

    def save_verifier(self, token: str, verifier: dict[str, Any], request: Any) -> None:
        rt = self._rt(token)
        if rt is None:
            return
        rt["verifier"] = verifier["oauth_verifier"]
        self.reg.db.put_temp("request_tokens", token, rt, CODE_TTL)

    def save_access_token(self, token: dict[str, Any], request: Any) -> None:
        self.reg.db.add_provider_token(
            token["oauth_token"],
            self.provider,
            request.user,
            request.client_key,
            "",
            None,
            secret=token["oauth_token_secret"],
        )


def _response(headers: dict[str, str], body: str | None, status: int) -> Response:
    resp = Response(body or "", status=status)
    for key, value in headers.items():
        resp.headers[key] = value
    if "Content-Type" not in headers:
        resp.headers["Content-Type"] = (
            "application/json" if (body or "").startswith("{") else "text/plain; charset=utf-8"
        )
    return resp


def _html(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/html; charset=utf-8")


def _redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def _full_uri(request: Request) -> str:
    query = request.query_string.decode("latin-1")
    return request.base_url + (f"?{query}" if query else "")


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items()}


class ProviderHub:
    """All fake providers, their endpoints and the in-process shortcuts the emulator uses."""

    def __init__(self, db: Database, web_redirect_ok: Callable[[str, str], bool]) -> None:
        quiet_oauthlib()
        self.db = db
        self.registry = _Registry(db, web_redirect_ok)
        self.oauth2: dict[str, oauth2.WebApplicationServer] = {}
        self._v2: dict[str, _OAuth2Validator] = {}
        for p in OAUTH2_PROVIDERS:
            self._v2[p] = _OAuth2Validator(p, self.registry)
            self.oauth2[p] = oauth2.WebApplicationServer(
                self._v2[p], token_expires_in=int(PROVIDER_TOKEN_TTL)
            )
        v1 = _OAuth1Validator("twitter", self.registry)
        self.rt_endpoint = oauth1.RequestTokenEndpoint(v1)
        self.auth_endpoint = oauth1.AuthorizationEndpoint(v1)
        self.at_endpoint = oauth1.AccessTokenEndpoint(v1)
        self.resource_endpoint = oauth1.ResourceEndpoint(v1)
        self.v1 = v1

    def register(self, provider: str, client: Client) -> None:
        self.registry.clients.setdefault(provider, {})[client.client_id] = client

    # --- accounts and tokens ---------------------------------------------------------------
    def account(self, provider: str, account_id: str) -> dict[str, Any] | None:
        return self.db.get_account(provider, account_id)

    def mint_token(self, provider: str, account_id: str, client_id: str) -> tuple[str, str | None]:
        token = secrets.token_urlsafe(24)
        secret = secrets.token_urlsafe(24) if provider in OAUTH1_PROVIDERS else None
        expires = None if secret else time.time() + PROVIDER_TOKEN_TTL
        self.db.add_provider_token(token, provider, account_id, client_id, "", expires, secret)
        return token, secret

    def check_token(
        self, provider: str, token: str, secret: str | None = None
    ) -> dict[str, Any] | None:
        """The profile behind a provider token, or ``None`` if the provider rejects it."""
        record = self.db.get_provider_token(token)
        if record is None or record["provider"] != provider:
            return None
        if provider in OAUTH1_PROVIDERS and not secrets.compare_digest(
            record["secret"] or "", secret or ""
        ):
            return None
        account = self.account(provider, record["account_id"])
        return None if account is None else userinfo(account)

    # --- OAuth2 routes ---------------------------------------------------------------------
    def authorize(self, request: Request, provider: str) -> Response:
        server = self.oauth2[provider]
        uri = _full_uri(request)
        try:
            scopes, creds = server.validate_authorization_request(uri, "GET", None, {})
        except oauth2.FatalClientError as exc:
            return _html(pages.error_page(f"{exc.error}: {exc.description}"), 400)
        except oauth2.OAuth2Error as exc:
            return _redirect(exc.in_uri(exc.redirect_uri))
        if request.method == "GET":
            return _html(
                pages.sign_in_page(
                    provider,
                    str(creds["client_id"]),
                    self.db.list_accounts(provider),
                    " ".join(scopes or []),
                )
            )
        account_id = self._chosen_account(request, provider)
        if account_id is None:
            params = [("error", "access_denied"), ("error_description", "The user denied access")]
            if creds.get("state"):
                params.append(("state", creds["state"]))
            return _redirect(add_params_to_uri(creds["redirect_uri"], params))
        if isinstance(account_id, Response):
            return account_id
        headers, body, status = server.create_authorization_response(
            uri, "GET", None, {}, scopes, {"user": account_id}
        )
        return _response(headers, body, status)

    def _chosen_account(self, request: Request, provider: str) -> str | Response | None:
        """The account picked on the sign-in page; None when denied."""
        action = request.form.get("action") or ("choose" if "account" in request.form else "")
        if action == "deny":
            return None
        if action == "add":
            email = (request.form.get("email") or "").strip()
            if not email or "@" not in email or len(email) > 320:
                return _html(pages.error_page("A valid email is required"), 400)
            name = (request.form.get("name") or "").strip()[:200] or None
            account = new_account(provider, email, name)
            self.db.add_account(provider, account["id"], account)
            return str(account["id"])
        if action == "choose":
            account_id = request.form.get("account", "")
            if self.account(provider, account_id) is None:
                return _html(pages.error_page("Unknown account"), 400)
            return account_id
        return _html(pages.error_page("Unknown action: expected choose, add or deny"), 400)

    def token(self, request: Request, provider: str) -> Response:
        headers, body, status = self.oauth2[provider].create_token_response(
            request.base_url, "POST", request.get_data(as_text=True), _headers(request)
        )
        return _response(headers, body, status)

    def userinfo(self, request: Request, provider: str) -> Response:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = token or request.args.get("access_token", "")
        profile = self.check_token(provider, token) if token else None
        if profile is None:
            return _response(
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                '{"error": "invalid_token"}',
                401,
            )
        return _response({"Content-Type": "application/json"}, _dumps(profile), 200)

    def exchange_code(
        self, provider: str, client: Client, code: str, redirect_uri: str, verifier: str | None
    ) -> str | None:
        """Exchange a code in process (the Backendless side); the account id or None."""
        params = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        }
        if verifier:
            params["code_verifier"] = verifier
        _headers_out, body, status = self.oauth2[provider].create_token_response(
            "http://emulator.invalid/token",
            "POST",
            urlencode(params),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            return None
        token = json.loads(body)["access_token"]
        record = self.db.get_provider_token(token)
        return None if record is None else str(record["account_id"])

    # --- OAuth1 (twitter) routes -----------------------------------------------------------
    def request_token(self, request: Request) -> Response:
        headers, body, status = self.rt_endpoint.create_request_token_response(
            _full_uri(request), request.method, request.get_data(as_text=True), _headers(request)
        )
        return _response(headers, body, status)

    def oauth1_authorize(self, request: Request) -> Response:
        uri = _full_uri(request)
        token = request.args.get("oauth_token", "")
        try:
            realms, _creds = self.auth_endpoint.get_realms_and_credentials(uri, "GET", None, {})
        except oauth1.OAuth1Error as exc:
            return _html(pages.error_page(f"{exc.error}: {exc.description}"), 400)
        rt = self.v1._rt(token)
        if rt is None:
            return _html(pages.error_page("Unknown or expired request token"), 400)
        if request.method == "GET":
            client = rt["client_key"]
            return _html(
                pages.sign_in_page("twitter", client, self.db.list_accounts("twitter"), "")
            )
        account_id = self._chosen_account(request, "twitter")
        if account_id is None:
            self.db.pop_temp("request_tokens", token)
            callback = rt["callback"]
            if callback == "oob":
                return _html(pages.error_page("The user denied access"), 200)
            return _redirect(add_params_to_uri(callback, [("denied", token)]))
        if isinstance(account_id, Response):
            return account_id
        # The account goes on the request token first: oauthlib would copy credentials into
        # the callback's query string.
        rt["user"] = account_id
        self.db.put_temp("request_tokens", token, rt, CODE_TTL)
        headers, body, status = self.auth_endpoint.create_authorization_response(
            uri, "GET", None, {}, realms, None
        )
        if status == 200 and body:  # oob: show the verifier (PIN) like Twitter does
            return _html(pages.error_page(f"Verifier: {body}"), 200)
        return _response(headers, body, status)

    def access_token(self, request: Request) -> Response:
        headers, body, status = self.at_endpoint.create_access_token_response(
            _full_uri(request), request.method, request.get_data(as_text=True), _headers(request)
        )
        return _response(headers, body, status)

    def verify_credentials(self, request: Request) -> Response:
        valid, oreq = self.resource_endpoint.validate_protected_resource_request(
            _full_uri(request), request.method, request.get_data(as_text=True), _headers(request)
        )
        if not valid:
            return _response(
                {"Content-Type": "application/json"},
                '{"errors": [{"code": 89, "message": "Invalid or expired token."}]}',
                401,
            )
        record = self.db.get_provider_token(oreq.resource_owner_key)
        account = self.account("twitter", record["account_id"]) if record else None
        if account is None:
            return _response({}, '{"errors": [{"code": 50, "message": "User not found."}]}', 404)
        return _response({"Content-Type": "application/json"}, _dumps(userinfo(account)), 200)

    def oauth1_start(self, client: Client, callback: str) -> str:
        """Create a request token for the Backendless side in process; returns the token."""
        token = secrets.token_urlsafe(24)
        self.db.put_temp(
            "request_tokens",
            token,
            {
                "provider": "twitter",
                "secret": secrets.token_urlsafe(24),
                "client_key": client.client_id,
                "callback": callback,
                "verifier": None,
                "user": None,
            },
            CODE_TTL,
        )
        return token

    def oauth1_finish(self, client: Client, token: str, verifier: str) -> str | None:
        """Check the verifier in process and return the account id (or None)."""
        rt = self.db.pop_temp("request_tokens", token)
        if rt is None or rt["client_key"] != client.client_id or not rt.get("verifier"):
            return None
        if not secrets.compare_digest(rt["verifier"], verifier):
            return None
        return str(rt["user"])


def _dumps(value: Any) -> str:
    return json.dumps(value)
