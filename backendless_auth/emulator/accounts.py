"""Accounts with passwords: the rest of Backendless's UserService, on the same Users table as the
guest and social logins.

Routes (under ``/<APP_ID>/<API_KEY>/`` and ``/api/``; wire shapes of the JS SDK v8):

==========================================  ===========================================  =======
route                                       body -> answer                               needs
==========================================  ===========================================  =======
``POST users/register``                     the properties -> the user (no token)        -
``POST users/login``                        ``{login, password}`` -> user + user-token   -
                                            ``{objectId}`` -> user + user-token          CC
``POST users/verifypassowrd``               ``{password}`` -> ``{"valid": bool}``        CC + T
``GET users/restorepassword/<identity>``    - -> empty; a reset email in the outbox      -
``POST users/resendconfirmation/<id>``      - -> empty; a confirmation email             -
``POST users/createEmailConfirmationURL/x``  - -> ``{"confirmationURL": url}``            -
``PUT users/<objectId>``                    the properties -> the user                   T or CC
``GET users/userroles``                     - -> the caller's roles                      -
``GET users/userroles/<objectId>``          - -> that user's roles                       CC
``GET users/role/<role>?...``               - -> users with that custom role             -
``POST users/assignRole`` / ``unassignRole``  ``{user, roleName}`` -> empty               CC
``GET users/userclassprops``                - -> the Users columns                        -
``PUT users/<objectId>/status``             ``{userStatus}`` -> empty                    CC
==========================================  ===========================================  =======

*T*: the ``user-token`` header of a live session; *CC*: the CloudCode (server-side) API key in
the URL, ``/<APP_ID>/<CLOUD_CODE_KEY>/...`` (``Emulator.cloud_code_key``), as Backendless
allows these only from server code. A ``user-token`` header that is not a live session is 3064
on every route here.

The links of the outbox's emails (always in the domain form, never with a key):
``GET api/users/email/confirm/<token>`` confirms and shows a page;
``GET|POST api/users/password/reset/<token>`` shows and handles the new-password form
(double-submit CSRF cookie, ``SameSite=Strict``; the policy is enforced; a link works once).

Passwords are hashed with scrypt (``n=2**14`` unless ``hashCost`` says otherwise, ``r=8, p=1``,
16-byte salt) in their own table, so no
answer, admin listing or log line can carry one; they are compared in constant time, and an
unknown login costs the same hash as a known one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from werkzeug.routing import BaseConverter, Rule
from werkzeug.wrappers import Request, Response

from . import pages
from .config import (
    COLUMN_NAME,
    SYSTEM_ROLES,
    AccountSettings,
    ConfigError,
)
from .outbox import Outbox
from .where import WhereError, compile_where
from .wire import ApiError, json_object, json_response

if TYPE_CHECKING:
    from .db import Database

#: The WSGI environ key :meth:`EmulatorApp.handle` sets when the URL holds the CloudCode key.
SERVER_KEY = "backendless_auth.emulator.server_key"

STATUSES = ("ENABLED", "DISABLED", "EMAIL_CONFIRMATION_PENDING")
#: The status changes ``PUT users/<id>/status`` allows (Backendless's table).
TRANSITIONS = {
    ("ENABLED", "DISABLED"),
    ("DISABLED", "ENABLED"),
    ("EMAIL_CONFIRMATION_PENDING", "ENABLED"),
    ("EMAIL_CONFIRMATION_PENDING", "DISABLED"),
}

#: Codes this module answers with: code -> (HTTP status, meaning).
ACCOUNT_ERROR_CODES: dict[int, tuple[int, str]] = {
    1017: (400, "find by role: a where clause outside the supported subset, or malformed"),
    2005: (400, "assign/unassign/find by role: no such custom role"),
    2007: (400, "assignRole: a system role cannot be assigned"),
    2008: (400, "unassignRole: a system role cannot be unassigned"),
    2011: (400, "assignRole, unassignRole, userroles/<id>: allowed only with the CloudCode key"),
    2014: (400, "login by objectId: allowed only with the CloudCode key"),
    3003: (401, "invalid login or password"),
    3006: (400, "login: login or password missing or empty"),
    3011: (400, "register: missing or empty password"),
    3012: (400, "register: a required property is missing"),
    3013: (400, "register: missing value for the identity property"),
    3018: (400, "update: another user already has this identity"),
    3020: (400, "restorepassword, assign/unassignRole: no user with that identity"),
    3021: (400, "register: general error (bad property name or value, guest conversion refused)"),
    3024: (400, "update: general error (bad property name or value, empty identity)"),
    3028: (400, "update: not logged in (no user-token, no CloudCode key)"),
    3029: (400, "update: cannot modify another user"),
    3030: (400, "update, status: no user with that objectId"),
    3033: (400, "register: a user with the same identity already exists"),
    3036: (400, "login: account locked after too many failed logins"),
    3039: (400, "register: property 'id' cannot be used"),
    3040: (400, "register, update: email address in the wrong format"),
    3054: (
        400,
        "status: allowed only with the CloudCode key ('... only for BL logic.')",
    ),
    3064: (400, "a user-token header that is not a live session"),
    3087: (400, "login: email address not confirmed yet"),
    3090: (400, "login: the account is disabled"),
    3102: (400, "resendconfirmation: the email address is already confirmed"),
    3103: (400, "resendconfirmation: email confirmation is off for this app"),
    3104: (400, "resend/createEmailConfirmationURL: no user with that identity"),
    3121: (400, "verifypassowrd: no authenticated user (no user-token)"),
    3122: (400, "verifypassowrd: allowed only with the CloudCode key"),
    3125: (
        400,
        "register, update, reset: password policy broken (the emulator's own code)",
    ),
    8007: (400, "status: unknown userStatus, or a transition Backendless does not allow"),
}

# Columns a client never writes: the server owns them.
_SYSTEM_COLUMNS = frozenset(
    {
        "objectId",
        "ownerId",
        "___class",
        "created",
        "updated",
        "lastLogin",
        "userStatus",
        "user-token",
        "socialAccount",
        "accountType",
        "oAuthIdentities",
        "roles",
    }
)
_BUILTIN_COLUMNS: list[tuple[str, str]] = [
    ("objectId", "STRING_ID"),
    ("ownerId", "STRING"),
    ("created", "DATETIME"),
    ("updated", "DATETIME"),
    ("email", "STRING"),
    ("name", "STRING"),
    ("password", "STRING"),
    ("userStatus", "STRING"),
    ("lastLogin", "DATETIME"),
    ("socialAccount", "STRING"),
    ("accountType", "STRING"),
    ("blUserLocale", "STRING"),
    ("oAuthIdentities", "JSON"),
]
_PROVIDER_ROLES = {"FACEBOOK": "FacebookUser", "GOOGLE": "GooglePlusUser", "TWITTER": "TwitterUser"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_MAX_PAGE = 100
_DEFAULT_PAGE = 10
_CSRF_COOKIE = "bl_emu_reset_csrf"

# --- passwords -----------------------------------------------------------------------------

_R, _P = 8, 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # surrogatepass: a JSON string may hold a lone surrogate; it is still a password.
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=32,
        maxmem=128 * r * n + 2**20,
    )


def hash_password(password: str, cost: int = 14) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt and ``n = 2**cost``."""
    salt = os.urandom(16)
    n = 2**cost
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(_derive(password, salt, n, _R, _P))}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


_DUMMY_HASH: list[str] = []


def _dummy_check(password: str, cost: int) -> None:
    """Spend the time of a real check, so that unknown logins are not told apart by timing."""
    found = [h for h in _DUMMY_HASH if h.startswith(f"scrypt${2**cost}$")]
    if not found:
        found = [hash_password(secrets.token_urlsafe(12), cost)]
        _DUMMY_HASH.extend(found)
    check_password(password, found[0])


# --- small helpers -------------------------------------------------------------------------


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    return str(uuid.uuid4()).upper()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _empty() -> Response:
    return Response(b"", status=200, content_type="text/plain")


def _html(body: str, status: int = 200) -> Response:
    resp = Response(body, status=status, content_type="text/html; charset=utf-8")
    # The token is in the URL: keep it out of caches, referrers and frames.
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return resp


def _identity_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and value and _text_ok(value):
        return value
    return None


class _RestConverter(BaseConverter):
    """The rest of the path, slashes included (a percent-encoded ``/`` in an identity)."""

    regex = ".+"
    part_isolating = False


CONVERTERS = {"rest": _RestConverter}

#: The Backendless-side rules, endpoints prefixed ``accounts.`` (added to the app's map).
BACKENDLESS_RULES = [
    Rule("/users/register", endpoint="accounts.register", methods=["POST"]),
    Rule("/users/login", endpoint="accounts.login", methods=["POST"]),
    Rule("/users/verifypassowrd", endpoint="accounts.verify", methods=["POST"]),
    Rule("/users/restorepassword/<rest:identity>", endpoint="accounts.restore", methods=["GET"]),
    Rule("/users/resendconfirmation/<rest:identity>", endpoint="accounts.resend", methods=["POST"]),
    Rule(
        "/users/createEmailConfirmationURL/<rest:identity>",
        endpoint="accounts.confirmation_url",
        methods=["POST"],
    ),
    Rule("/users/userroles", endpoint="accounts.my_roles", methods=["GET"]),
    Rule("/users/userroles/<object_id>", endpoint="accounts.user_roles", methods=["GET"]),
    Rule("/users/role/<role>", endpoint="accounts.find_by_role", methods=["GET"]),
    Rule("/users/assignRole", endpoint="accounts.assign", methods=["POST"]),
    Rule("/users/unassignRole", endpoint="accounts.unassign", methods=["POST"]),
    Rule("/users/userclassprops", endpoint="accounts.describe", methods=["GET"]),
    Rule("/users/email/confirm/<token>", endpoint="accounts.confirm_page", methods=["GET"]),
    Rule("/users/password/reset/<token>", endpoint="accounts.reset_page", methods=["GET", "POST"]),
    Rule("/users/<object_id>/status", endpoint="accounts.status", methods=["PUT"]),
    Rule("/users/<object_id>", endpoint="accounts.update", methods=["PUT"]),
]
#: The admin rules (guarded by the admin token like every other admin route).
ADMIN_RULES = [
    Rule("/_emulator/outbox", endpoint="accounts.outbox", methods=["GET", "DELETE"]),
    Rule("/_emulator/settings/users", endpoint="accounts.settings", methods=["GET", "PATCH"]),
]


class AccountService:
    """The accounts half of the user service; its state lives in the emulator's database."""

    def __init__(
        self,
        db: Database,
        open_session: Callable[[dict[str, Any]], dict[str, Any]],
        settings: AccountSettings | None = None,
    ) -> None:
        self.db = db
        self.open_session = open_session
        self.settings = settings or AccountSettings()
        self.outbox = Outbox(db)
        self.cloud_code_key = ""

    # --- dispatch --------------------------------------------------------------------------
    def is_server_key(self, api_key: str) -> bool:
        key = self.cloud_code_key
        return bool(key) and secrets.compare_digest(api_key.upper().encode(), key.upper().encode())

    def handle(self, endpoint: str, args: Mapping[str, Any], request: Request) -> Response:
        name = endpoint.removeprefix("accounts.")
        server = bool(request.environ.get(SERVER_KEY))
        if name == "confirm_page":
            return self.confirm_page(args["token"])
        if name == "reset_page":
            return self.reset_page(request, args["token"])
        caller = self._caller(request)
        if name == "register":
            return json_response(self.register(json_object(request), caller, request))
        if name == "login":
            return json_response(self.login(json_object(request), server))
        if name == "verify":
            return json_response(self.verify(json_object(request), caller, server))
        if name == "restore":
            self.restore(args["identity"], request)
            return _empty()
        if name == "resend":
            self.resend(args["identity"], request)
            return _empty()
        if name == "confirmation_url":
            return json_response(
                {"confirmationURL": self.confirmation_url(args["identity"], request)}
            )
        if name == "update":
            return json_response(
                self.update(args["object_id"], json_object(request), caller, server)
            )
        if name == "my_roles":
            key_role = "ServerCodeUser" if server else "RestUser"
            if caller is None:
                return json_response(["NotAuthenticatedUser", key_role])
            return json_response([*self.roles_of(caller), key_role])
        if name == "user_roles":
            if not server:
                raise ApiError(
                    2011, "Getting the roles of a user by id is allowed only from CloudCode"
                )
            user = self.db.get_user(args["object_id"])
            if user is None:
                raise ApiError(3030, "Unable to locate user account - invalid user id")
            return json_response(self.roles_of(user))
        if name == "find_by_role":
            return json_response(self.find_by_role(args["role"], request))
        if name in ("assign", "unassign"):
            self.change_role(json_object(request), assign=name == "assign", server=server)
            return _empty()
        if name == "describe":
            return json_response(self.describe())
        if name == "status":
            self.set_status(args["object_id"], json_object(request), server)
            return _empty()
        raise ApiError(404, "No such route", 404)  # pragma: no cover - every rule is handled

    def admin(self, endpoint: str, request: Request) -> Response:
        if endpoint == "accounts.outbox":
            if request.method == "DELETE":
                return json_response({"deleted": self.outbox.clear()})
            return json_response(self.outbox.list(request.args.get("to"), request.args.get("kind")))
        if request.method == "PATCH":
            body = json_object(request)
            try:
                self.settings.update(body)
            except (ConfigError, TypeError, ValueError) as exc:
                raise ApiError(8007, f"Invalid users settings: {exc}") from None
        return json_response(self.settings.as_dict())

    # --- sessions and users ----------------------------------------------------------------
    def _caller(self, request: Request) -> dict[str, Any] | None:
        """The user of the ``user-token`` header; 3064 when the header names no live session."""
        token = request.headers.get("user-token")
        if token is None or token == "":
            return None
        object_id = self.db.session_user_id(token) if _text_ok(token) else None
        user = self.db.get_user(object_id) if object_id is not None else None
        if user is None or user.get("userStatus") == "DISABLED":
            raise ApiError(3064, "Not existing user token. Relogin user to update your user token")
        return user

    def _identity_key(self, value: Any) -> str | None:
        text = _identity_text(value)
        return None if text is None else text.lower()

    def find_by_identity(self, identity: Any) -> dict[str, Any] | None:
        """The registered (non-guest) user whose identity column equals ``identity``."""
        key = self._identity_key(identity)
        if key is None:
            return None
        column = self.settings.identity
        for user in self.db.all_users():
            if user.get("userStatus") == "GUEST":
                continue
            if self._identity_key(user.get(column)) == key:
                return user
        return None

    def _identity_taken(self, value: Any, except_id: str | None) -> bool:
        found = self.find_by_identity(value)
        return found is not None and found["objectId"] != except_id

    def roles_of(self, user: dict[str, Any]) -> list[str]:
        if user.get("userStatus") == "GUEST":
            roles = ["GuestUser"]
        else:
            roles = ["AuthenticatedUser"]
            social = user.get("socialAccount")
            if isinstance(social, str) and social not in ("BACKENDLESS", ""):
                roles.append("SocialUser")
                if social in _PROVIDER_ROLES:
                    roles.append(_PROVIDER_ROLES[social])
        return roles + self.custom_roles_of(user["objectId"])

    def custom_roles_of(self, object_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT role FROM user_roles WHERE object_id = ? ORDER BY rowid", (object_id,)
        )
        defined = set(self.settings.roles)
        return [str(r[0]) for r in rows if r[0] in defined]

    def _kill_sessions(self, object_id: str, keep: str | None = None) -> None:
        self.db.execute(
            "DELETE FROM sessions WHERE object_id = ? AND token IS NOT ?", (object_id, keep)
        )

    def _check_password(self, password: Any, code: int) -> str:
        if not isinstance(password, str) or password == "":
            raise ApiError(code, "Missing or empty 'password' property")
        problems = self.settings.password_policy.problems(password)
        if problems:
            raise ApiError(
                3125,
                "The password does not meet the password policy: it needs " + ", ".join(problems),
            )
        return password

    def _clean_properties(self, body: dict[str, Any], code: int) -> dict[str, Any]:
        """The writable properties of ``body``: system columns dropped, names and values checked."""
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key in _SYSTEM_COLUMNS or key == "password":
                continue
            if not COLUMN_NAME.match(key):
                raise ApiError(code, f"Invalid property name {key[:64]!r}")
            if isinstance(value, (dict, list)):
                raise ApiError(code, f"Property '{key}' must be a text, number, boolean or null")
            if isinstance(value, str) and not _text_ok(value):
                raise ApiError(code, f"Property '{key}' is not valid text")
            if isinstance(value, float) and value != value:  # NaN never reaches JSON
                raise ApiError(code, f"Property '{key}' is not a number")
            out[key] = value
        email = out.get("email")
        if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
            raise ApiError(3040, "Email address is in the wrong format")
        return out

    # --- register / login / verify ---------------------------------------------------------
    def register(
        self, body: dict[str, Any], caller: dict[str, Any] | None, request: Request
    ) -> dict[str, Any]:
        settings = self.settings
        if "id" in body:
            raise ApiError(3039, "Property 'id' cannot be used in the registration call")
        password = self._check_password(body.get("password"), 3011)
        props = self._clean_properties(body, 3021)
        identity = settings.identity
        if _identity_text(props.get(identity)) is None:
            raise ApiError(3013, f"Missing value for the identity property '{identity}'")
        if settings.email_confirmation and not props.get("email"):
            raise ApiError(3012, "The 'email' property is required: the app confirms emails")
        for column in settings.columns:
            if column.name not in props or props[column.name] is None:
                if column.default is not None:
                    props[column.name] = column.default
                elif column.required:
                    raise ApiError(3012, f"Required property '{column.name}' is missing")
        locale = body.get("blUserLocale")
        if locale is not None and not isinstance(locale, str):
            raise ApiError(3021, "Property 'blUserLocale' must be a text")
        wanted_id = body.get("objectId")
        if wanted_id is not None and not isinstance(wanted_id, str):
            raise ApiError(3021, "Property 'objectId' must be a text")
        now = _now_ms()
        status = "EMAIL_CONFIRMATION_PENDING" if settings.email_confirmation else "ENABLED"
        hashed = hash_password(password, self.settings.hash_cost)  # before taking the database lock
        with self.db.transaction():
            guest = caller if caller is not None and caller.get("userStatus") == "GUEST" else None
            if wanted_id is not None and (guest is None or guest["objectId"] != wanted_id):
                # Backendless converts a guest named by objectId; the emulator also asks for
                # that guest's own session, so that a leaked objectId cannot claim the account.
                raise ApiError(
                    3021,
                    "A guest is converted only with its own user-token; this objectId is not "
                    "the logged-in guest",
                )
            if self._identity_taken(props[identity], None):
                raise ApiError(3033, "User with the same identity already exists")
            if guest is not None:
                user = {k: v for k, v in guest.items() if k != "user-token"}
            else:
                object_id = _new_id()
                user = {
                    "___class": "Users",
                    "objectId": object_id,
                    "ownerId": object_id,
                    "email": None,
                    "name": None,
                    "created": now,
                    "lastLogin": None,
                    "socialAccount": "BACKENDLESS",
                    "accountType": "BACKENDLESS",
                    "oAuthIdentities": [],
                }
            user.update(props)
            user["blUserLocale"] = locale or user.get("blUserLocale") or "en"
            user["userStatus"] = status
            user["updated"] = now if guest is not None else None
            self.db.put_user(user)
            self.db.execute(
                "INSERT OR REPLACE INTO passwords (object_id, hash) VALUES (?, ?)",
                (user["objectId"], hashed),
            )
            if status == "EMAIL_CONFIRMATION_PENDING":
                self._send_confirmation(user, request)
        return user

    def login(self, body: dict[str, Any], server: bool) -> dict[str, Any]:
        if "login" not in body and "objectId" in body:
            if not server:
                raise ApiError(2014, "Login by object id is allowed only for Code Runner API key")
            object_id = body["objectId"]
            user = self.db.get_user(object_id) if isinstance(object_id, str) else None
            if user is None:
                raise ApiError(3003, "Invalid login or password", 401)
            return self._open(user)
        login = _identity_text(body.get("login"))
        password = body.get("password")
        if login is None or not isinstance(password, str) or password == "":
            raise ApiError(3006, "Either login or password is an empty string value")
        settings = self.settings
        user = self.find_by_identity(login)
        if user is None:
            _dummy_check(password, self.settings.hash_cost)
            raise ApiError(3003, "Invalid login or password", 401)
        object_id = user["objectId"]
        if self._locked(object_id):
            raise ApiError(
                3036, "Account locked out due to too many failed logins; try again later"
            )
        stored = self.db.one("SELECT hash FROM passwords WHERE object_id = ?", (object_id,))
        if stored is None:
            _dummy_check(password, self.settings.hash_cost)
            ok = False
        else:
            # The hash runs outside the database lock: other requests go on meanwhile.
            ok = check_password(password, str(stored[0]))
        if not ok:
            with self.db.transaction():
                row = self.db.one(
                    "SELECT failures, locked_until FROM login_failures WHERE object_id = ?",
                    (object_id,),
                )
                failures = 0 if row is None or row[1] is not None else int(row[0])
                failures += 1
                limit = settings.lockout_attempts
                locked_until = None
                if limit is not None and failures >= limit:
                    locked_until = time.time() + settings.lockout_seconds
                self.db.execute(
                    "INSERT OR REPLACE INTO login_failures (object_id, failures, locked_until) "
                    "VALUES (?, ?, ?)",
                    (object_id, failures, locked_until),
                )
            raise ApiError(3003, "Invalid login or password", 401)
        self.db.execute("DELETE FROM login_failures WHERE object_id = ?", (object_id,))
        return self._open(user)

    def _locked(self, object_id: str) -> bool:
        row = self.db.one(
            "SELECT locked_until FROM login_failures WHERE object_id = ?", (object_id,)
        )
        return row is not None and row[0] is not None and float(row[0]) > time.time()

    def _open(self, user: dict[str, Any]) -> dict[str, Any]:
        status = user.get("userStatus")
        if status == "DISABLED":
            raise ApiError(3090, "User account is disabled")
        if status == "EMAIL_CONFIRMATION_PENDING":
            raise ApiError(3087, "User email address is not confirmed yet")
        user = dict(user)
        user["lastLogin"] = _now_ms()
        self.db.put_user(user)
        return self.open_session(user)

    def verify(
        self, body: dict[str, Any], caller: dict[str, Any] | None, server: bool
    ) -> dict[str, bool]:
        if not server:
            raise ApiError(3122, "Password verification allowed only from CloudCode")
        if caller is None:
            raise ApiError(3121, "No authenticated user is associated with request")
        password = body.get("password")
        if not isinstance(password, str) or password == "":
            return {"valid": False}
        stored = self.db.one(
            "SELECT hash FROM passwords WHERE object_id = ?", (caller["objectId"],)
        )
        if stored is None:
            _dummy_check(password, self.settings.hash_cost)
            return {"valid": False}
        return {"valid": check_password(password, str(stored[0]))}

    # --- emails ----------------------------------------------------------------------------
    def _link(self, request: Request, kind: str, object_id: str, ttl: float) -> str:
        token = secrets.token_urlsafe(32)
        self.db.execute(
            "INSERT INTO email_tokens (digest, kind, object_id, expires) VALUES (?, ?, ?, ?)",
            (_digest(token), kind, object_id, time.time() + ttl),
        )
        # Always the domain form: a link never carries an API key.
        path = "users/email/confirm/" if kind == "confirmation" else "users/password/reset/"
        return f"{request.host_url}api/{path}{token}"

    def _send_confirmation(self, user: dict[str, Any], request: Request) -> None:
        link = self._link(request, "confirmation", user["objectId"], self.settings.confirmation_ttl)
        self.outbox.send("confirmation", str(user["email"]), link, user["objectId"])

    def _take_token(self, kind: str, token: str, consume: bool) -> str | None:
        if not _text_ok(token):
            return None
        with self.db.transaction():
            row = self.db.one(
                "SELECT object_id, expires FROM email_tokens WHERE digest = ? AND kind = ?",
                (_digest(token), kind),
            )
            if row is None or row[1] <= time.time():
                return None
            if consume:
                self.db.execute("DELETE FROM email_tokens WHERE digest = ?", (_digest(token),))
            return str(row[0])

    def restore(self, identity: str, request: Request) -> None:
        user = self.find_by_identity(identity)
        if user is None:
            raise ApiError(3020, "Unable to find user with the specified login")
        email = user.get("email")
        if not isinstance(email, str) or not email:
            raise ApiError(3020, "The user has no email address to send the reset link to")
        link = self._link(request, "password-reset", user["objectId"], self.settings.reset_ttl)
        self.outbox.send("password-reset", email, link, user["objectId"])

    def resend(self, identity: str, request: Request) -> None:
        if not self.settings.email_confirmation:
            raise ApiError(
                3103,
                "Unable to send email confirmation: the 'Require email confirmation' option is off",
            )
        user = self.find_by_identity(identity)
        if user is None:
            raise ApiError(3104, "Unable to send email confirmation - user account not found")
        if user.get("userStatus") != "EMAIL_CONFIRMATION_PENDING" or not user.get("email"):
            raise ApiError(3102, "User has already confirmed the email address")
        self._send_confirmation(user, request)

    def confirmation_url(self, identity: str, request: Request) -> str:
        user = self.find_by_identity(identity)
        if user is None:
            raise ApiError(3104, "Unable to create email confirmation - user account not found")
        return self._link(request, "confirmation", user["objectId"], self.settings.confirmation_ttl)

    def confirm_page(self, token: str) -> Response:
        object_id = self._take_token("confirmation", token, consume=True)
        user = self.db.get_user(object_id) if object_id else None
        if user is None:
            return _html(
                pages.message_page(
                    "Link expired", "This confirmation link is unknown, used or expired."
                ),
                400,
            )
        if user.get("userStatus") == "EMAIL_CONFIRMATION_PENDING":
            user["userStatus"] = "ENABLED"
            user["updated"] = _now_ms()
            self.db.put_user(user)
            return _html(pages.message_page("Email confirmed", "Your email address is confirmed."))
        return _html(
            pages.message_page("Email confirmed", "Your email address was confirmed already.")
        )

    def reset_page(self, request: Request, token: str) -> Response:
        object_id = self._take_token("password-reset", token, consume=False)
        user = self.db.get_user(object_id) if object_id else None
        if user is None:
            return _html(
                pages.message_page("Link expired", "This reset link is unknown, used or expired."),
                400,
            )
        identity = str(user.get(self.settings.identity) or user.get("email") or "")
        policy = self._policy_words()
        if request.method == "GET":
            csrf = secrets.token_urlsafe(24)
            resp = _html(pages.reset_password_page(identity, csrf, policy))
            resp.set_cookie(_CSRF_COOKIE, csrf, httponly=True, samesite="Strict", path=request.path)
            return resp
        form = self._form(request)
        cookie = request.cookies.get(_CSRF_COOKIE, "")
        sent = form.get("csrf", "")
        if not cookie or not secrets.compare_digest(cookie.encode(), sent.encode()):
            return _html(
                pages.message_page(
                    "Request refused",
                    "The form is stale or was not sent from its own page; "
                    "open the link from the email again.",
                ),
                403,
            )
        password, confirm = form.get("password", ""), form.get("confirm", "")
        error = None
        if password != confirm:
            error = "The two passwords differ."
        elif not password:
            error = "Choose a password."
        else:
            problems = self.settings.password_policy.problems(password)
            if problems:
                error = "The password needs " + ", ".join(problems) + "."
        if error is not None:
            return _html(pages.reset_password_page(identity, cookie, policy, error), 400)
        if self._take_token("password-reset", token, consume=True) != user["objectId"]:
            return _html(
                pages.message_page("Link expired", "This reset link was used already."), 400
            )
        hashed = hash_password(password, self.settings.hash_cost)
        with self.db.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO passwords (object_id, hash) VALUES (?, ?)",
                (user["objectId"], hashed),
            )
            self.db.execute("DELETE FROM login_failures WHERE object_id = ?", (user["objectId"],))
            # Whoever held a session before the reset is logged out.
            self._kill_sessions(user["objectId"])
        resp = _html(
            pages.message_page("Password changed", "You can log in with the new password.")
        )
        resp.delete_cookie(_CSRF_COOKIE, path=request.path)
        return resp

    @staticmethod
    def _form(request: Request) -> dict[str, str]:
        raw = request.get_data(cache=True)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=20)
        return {k: v[0] for k, v in parsed.items() if v and _text_ok(v[0])}

    def _policy_words(self) -> str:
        pol = self.settings.password_policy
        needs = [f"at least {pol.min_length} characters"]
        for flag, words in (
            (pol.lowercase, "a lowercase letter"),
            (pol.uppercase, "an uppercase letter"),
            (pol.digits, "a digit"),
            (pol.symbols, "a symbol"),
        ):
            if flag:
                needs.append(words)
        return "The password needs " + ", ".join(needs) + "."

    # --- update / status -------------------------------------------------------------------
    def update(
        self, object_id: str, body: dict[str, Any], caller: dict[str, Any] | None, server: bool
    ) -> dict[str, Any]:
        if not server:
            if caller is None:
                raise ApiError(3028, "User is not logged in")
            if caller["objectId"] != object_id:
                raise ApiError(3029, "Cannot modify properties of another user")
        if "objectId" in body and body["objectId"] != object_id:
            raise ApiError(3029, "The objectId of the body is not the user's in the URL")
        hashed = None
        if body.get("password") is not None:  # an absent or null password is no change
            hashed = hash_password(
                self._check_password(body["password"], 3024), self.settings.hash_cost
            )
        props = self._clean_properties(body, 3024)
        identity = self.settings.identity
        with self.db.transaction():
            user = self.db.get_user(object_id)
            if user is None:
                raise ApiError(3030, "Unable to locate user account - invalid user id")
            is_guest = user.get("userStatus") == "GUEST"
            if identity in props and not is_guest:
                if _identity_text(props[identity]) is None:
                    raise ApiError(3024, f"The identity property '{identity}' cannot be empty")
                if self._identity_taken(props[identity], object_id):
                    raise ApiError(3018, "Another user already has this identity")
            user.update(props)
            user["updated"] = _now_ms()
            self.db.put_user(user)
            if hashed is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO passwords (object_id, hash) VALUES (?, ?)",
                    (object_id, hashed),
                )
        return user

    def set_status(self, object_id: str, body: dict[str, Any], server: bool) -> None:
        if not server:
            raise ApiError(3054, "Operation allowed only for BL logic.")
        status = body.get("userStatus")
        if not isinstance(status, str) or status not in STATUSES:
            raise ApiError(
                8007,
                "Invalid value for parameter 'userStatus': expected one of " + ", ".join(STATUSES),
            )
        with self.db.transaction():
            user = self.db.get_user(object_id)
            if user is None:
                raise ApiError(3030, "Unable to locate user account - invalid user id")
            current = user.get("userStatus")
            if current == status:
                return
            if (current, status) not in TRANSITIONS:
                raise ApiError(8007, f"A user cannot go from {current} to {status}")
            user["userStatus"] = status
            user["updated"] = _now_ms()
            self.db.put_user(user)
            if status == "DISABLED":
                self._kill_sessions(object_id)

    # --- roles -----------------------------------------------------------------------------
    def _custom_role(self, role: Any, system_code: int) -> str:
        if not isinstance(role, str) or not role:
            raise ApiError(8007, "Missing required parameter 'roleName'")
        if role in SYSTEM_ROLES:
            raise ApiError(system_code, f"'{role}' is a system role")
        if role not in self.settings.roles:
            raise ApiError(2005, f"Role '{role[:64]}' does not exist")
        return role

    def change_role(self, body: dict[str, Any], *, assign: bool, server: bool) -> None:
        if not server:
            raise ApiError(2011, "Changing user roles is allowed only from CloudCode")
        if _identity_text(body.get("user")) is None:
            raise ApiError(8007, "Missing required parameter 'user'")
        role = self._custom_role(body.get("roleName"), 2007 if assign else 2008)
        with self.db.transaction():
            user = self.find_by_identity(body["user"])
            if user is None:
                raise ApiError(3020, "Unable to find user with the specified identity")
            if assign:
                self.db.execute(
                    "INSERT OR IGNORE INTO user_roles (object_id, role) VALUES (?, ?)",
                    (user["objectId"], role),
                )
            else:
                self.db.execute(
                    "DELETE FROM user_roles WHERE object_id = ? AND role = ?",
                    (user["objectId"], role),
                )

    def find_by_role(self, role: str, request: Request) -> list[dict[str, Any]]:
        if role in SYSTEM_ROLES:
            raise ApiError(2005, f"'{role}' is a system role: find by role works with custom roles")
        if role not in self.settings.roles:
            raise ApiError(2005, f"Role '{role[:64]}' does not exist")
        args = request.args
        load_roles = _bool_arg(args.get("loadRoles"), "loadRoles")
        page_size = _int_arg(args.get("pageSize"), "pageSize", _DEFAULT_PAGE, 1, _MAX_PAGE)
        offset = _int_arg(args.get("offset"), "offset", 0, 0, 10**9)
        try:
            where = compile_where(args.get("where") or "")
        except WhereError as exc:
            raise ApiError(1017, f"Invalid where clause: {exc}") from None
        props = _names(args.getlist("property") + args.get("props", "").split(","))
        excluded = set(_names(args.get("excludeProps", "").split(",")))
        rows = self.db.execute(
            "SELECT u.data FROM users u JOIN user_roles r ON r.object_id = u.object_id "
            "WHERE r.role = ? ORDER BY u.rowid",
            (role,),
        )
        users = [json.loads(r[0]) for r in rows]
        users = [u for u in users if where(u)]
        for column, descending in reversed(_sort_keys(args.get("sortBy") or "")):
            users.sort(key=_sort_key(column), reverse=descending)
        users = users[offset : offset + page_size]
        out = []
        for user in users:
            view = dict(user)
            if props and "*" not in props:
                view = {
                    k: v for k, v in view.items() if k in props or k in ("objectId", "___class")
                }
            for name in excluded - {"objectId", "___class"}:
                view.pop(name, None)
            if load_roles:
                view["roles"] = self.roles_of(user)
            out.append(view)
        return out

    # --- schema ----------------------------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        settings = self.settings
        columns: dict[str, dict[str, Any]] = {}

        def add(name: str, kind: str, required: bool = False, default: Any = None) -> None:
            columns.setdefault(
                name,
                {
                    "name": name,
                    "required": required,
                    "type": kind,
                    "defaultValue": default,
                    "identity": name == settings.identity,
                    "relatedTable": None,
                    "customRegex": None,
                    "autoLoad": False,
                    "isPrimaryKey": name == "objectId",
                },
            )

        for name, kind in _BUILTIN_COLUMNS:
            add(name, kind, required=name in ("password", settings.identity))
        add(settings.identity, "STRING", required=True)
        for col in settings.columns:
            add(col.name, col.type, col.required, col.default)
        # Dynamic schema: a property a user was saved with becomes a column.
        for user in self.db.all_users():
            for key, value in user.items():
                if key in _SYSTEM_COLUMNS or key in columns or not COLUMN_NAME.match(key):
                    continue
                add(key, _type_of(value))
        return list(columns.values())


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "DOUBLE"
    return "STRING"


def _bool_arg(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(8007, f"Invalid value for parameter '{name}': expected true or false")


def _int_arg(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not re.fullmatch(r"\d{1,10}", value) or not low <= int(value) <= high:
        raise ApiError(8007, f"Invalid value for parameter '{name}': expected {low}..{high}")
    return int(value)


def _names(items: list[str]) -> list[str]:
    out = []
    for item in items:
        name = item.strip()
        if not name:
            continue
        if name != "*" and not COLUMN_NAME.match(name):
            raise ApiError(8007, f"Invalid property name {name[:64]!r}")
        out.append(name)
    return out


def _sort_keys(text: str) -> list[tuple[str, bool]]:
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or not COLUMN_NAME.match(words[0]):
            raise ApiError(8007, f"Invalid sortBy entry {part.strip()[:64]!r}")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise ApiError(8007, f"Invalid sortBy direction {words[1][:16]!r}")
        keys.append((words[0], direction == "DESC"))
    return keys


def _sort_key(column: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda user: _sort_value(user.get(column))


def _sort_value(value: Any) -> tuple[int, Any]:
    # NULLs first (as MySQL sorts them ascending), then booleans, numbers, texts.
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (2, value)
    return (3, str(value))
