"""Backendless's spellings: paths, body keys, user columns. The only module that knows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

# User object columns.
CLASS = "___class"
USERS_CLASS = "Users"
OBJECT_ID = "objectId"
USER_TOKEN = "user-token"
USER_STATUS = "userStatus"
EMAIL = "email"
NAME = "name"
SOCIAL_ACCOUNT = "socialAccount"
CREATED = "created"
UPDATED = "updated"
LAST_LOGIN = "lastLogin"
GUEST_STATUS = "GUEST"

# Headers.
USER_TOKEN_HEADER = "user-token"

# The three keys the JS SDK persists for "stay logged in".
STORED_TOKEN = "user-token"
STORED_USER_ID = "current-user-id"
STORED_STAY = "stayLoggedIn"
STORED_SAVED_AT = "savedAt"

# Paths relative to the base URL. "{}" marks a path segment filled (quoted) at call time;
# the template, never the filled path, is what gets logged.
OAUTH_LOGIN = "users/oauth/{}/login"
REQUEST_URL = "users/oauth/{}/request_url"
GUEST_LOGIN = "users/register/guest"
LOGOUT = "users/logout"
TOKEN_CHECK = "users/isvalidusertoken/{}"
LOAD_USER = "data/Users/{}"

# Logout answered with one of these means the session is already gone on the server.
SESSION_GONE_ON_LOGOUT = frozenset({3023, 3064, 3090, 3091})
# Any call answered with this code: the session is dead.
DEAD_SESSION = 3064


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``body`` without the keys that have no value (``None``); ``False`` stays."""
    return {key: value for key, value in body.items() if value is not None}


def oauth_login_body(
    access_token: str,
    *,
    access_token_secret: str | None,
    fields_mapping: Mapping[str, str] | None,
    guest_user: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The body of ``POST users/oauth/<provider>/login``."""
    return compact(
        {
            "accessToken": access_token,
            "accessTokenSecret": access_token_secret,
            "fieldsMapping": dict(fields_mapping) if fields_mapping else None,
            "guestUser": dict(guest_user) if guest_user is not None else None,
        }
    )


def request_url_body(
    *,
    fields_mapping: Mapping[str, str] | None,
    permissions: str | None,
    redirect_after_login_url: str | None,
    callback_url_domain: str | None,
) -> dict[str, Any]:
    """The body of ``POST users/oauth/<provider>/request_url`` (always ``redirect: false``)."""
    return compact(
        {
            "fieldsMapping": dict(fields_mapping) if fields_mapping else None,
            "permissions": permissions,
            "redirect": False,
            "redirectAfterLoginUrl": redirect_after_login_url,
            "callbackUrlDomain": callback_url_domain,
        }
    )


# --- accounts with passwords (the JS SDK v8's src/urls.js and src/users/) ----------------------

PASSWORD = "password"
LOCALE = "blUserLocale"
REGISTER = "users/register"
LOGIN = "users/login"
VERIFY_PASSWORD = "users/verifypassowrd"  # sic: Backendless's own spelling
RESTORE_PASSWORD = "users/restorepassword/{}"
RESEND_CONFIRMATION = "users/resendconfirmation/{}"
CONFIRMATION_URL = "users/createEmailConfirmationURL/{}"
UPDATE_USER = "users/{}"
MY_ROLES = "users/userroles"
USER_ROLES = "users/userroles/{}"
USERS_IN_ROLE = "users/role/{}"
ASSIGN_ROLE = "users/assignRole"
UNASSIGN_ROLE = "users/unassignRole"
USER_CLASS = "users/userclassprops"
STATUS_PATH = "users/{}/status"
STATUSES = ("ENABLED", "DISABLED", "EMAIL_CONFIRMATION_PENDING")

# The JS SDK puts identities, objectIds and role names into paths as they are, and only the
# restore-password identity through encodeURIComponent. Kept as it does where a character means
# the same in a path segment (RFC 3986 pchar: "@", "+", ...); what would change the path ("/",
# "?", "#", "%", ";" which Java servers read as a matrix parameter, spaces, non-ASCII) is
# percent-encoded.
SEGMENT_SAFE = "!$&'()*+,=:@"
# encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) alone; quote() always keeps "-_.~".
URI_COMPONENT_SAFE = "!*'()"


def encode_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``."""
    return quote(text, safe=URI_COMPONENT_SAFE)


def role_query(
    *,
    load_roles: bool | None,
    page_size: int | None,
    offset: int | None,
    properties: Sequence[str] | None,
    where: str | None,
    sort_by: Sequence[str] | None,
) -> str:
    """The query string of ``GET users/role/<role>``, token by token as the JS SDK builds it
    (``findByRole`` then ``DataQueryBuilder.toQueryString``)."""
    tokens = []
    if load_roles is not None:
        tokens.append(f"loadRoles={'true' if load_roles else 'false'}")
    if page_size is not None and page_size > 0:
        tokens.append(f"pageSize={page_size}")
    if offset is not None and offset > 0:
        tokens.append(f"offset={offset}")
    for name in properties or ():
        tokens.append(f"property={encode_component(name)}")
    if where:
        tokens.append(f"where={encode_component(where)}")
    if sort_by:
        tokens.append("sortBy=" + ",".join(encode_component(item) for item in sort_by))
    return "&".join(tokens)
