"""Backendless's spellings: paths, body keys, user columns. The only module that knows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
