"""Emulator configuration: the app's identity, session lifetime, redirects and login providers.

A config file (``--config FILE`` or ``Emulator(config=...)``) is JSON with these keys, all
optional::

    {
      "appId": "...", "apiKey": "...", "adminToken": "...",
      "sessionTtl": 3600,                       # seconds; null = sessions never expire
      "allowedRedirects": ["https://myapp.example/"],   # URL prefixes; loopback always allowed
      "seed": true,                             # two demo accounts per built-in provider
      "providers": {                            # the console's "Login Providers" screen
        "google": {"enabled": true, "clientId": "...", "clientSecret": "..."},
        "facebook": {"enabled": false}
      },
      "customProviders": [{
        "code": "acme", "authorizeUrl": "...", "tokenUrl": "...", "userinfoUrl": "...",
        "clientId": "...", "clientSecret": "...", "scope": "openid email profile",
        "idField": "sub", "fieldsMapping": {"email": "email", "name": "name"}
      }],
      "accounts": {"google": [{"email": "ann@example.com", "name": "Ann"}]},
      "cloudCodeKey": "...",                    # the server-side (CloudCode) API key
      "users": {"identity": "email", "emailConfirmation": false,   # accounts with passwords:
                "lockout": {"attempts": 5, "seconds": 900},        # see AccountSettings
                "passwordPolicy": {"minLength": 8}, "roles": ["TrialUser"]},
      "corsOrigins": ["loopback", "https://staging.myapp.example"]   # default: ["loopback"]
    }
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Built-in OAuth2 providers (authorization code + PKCE) and the OAuth1 one.
OAUTH2_PROVIDERS = ("google", "facebook", "github", "linkedin")
OAUTH1_PROVIDERS = ("twitter",)
BUILTIN_PROVIDERS = OAUTH2_PROVIDERS + OAUTH1_PROVIDERS

#: The provider field that identifies an account, per built-in provider.
ID_FIELDS = {
    "google": "sub",
    "facebook": "id",
    "github": "id",
    "linkedin": "sub",
    "twitter": "id_str",
}

#: Scope separator and default scope per built-in provider.
DEFAULT_SCOPES = {
    "google": "openid email profile",
    "facebook": "email,public_profile",
    "github": "read:user,user:email",
    "linkedin": "openid profile email",
    "twitter": "",
}

#: Provider codes of the legacy social routes (``users/social/<p>/sdk/login``, the popup flow)
#: that are spelled differently from the provider's code today.
LEGACY_PROVIDER_CODES = {"googleplus": "google"}

DEFAULT_FIELDS_MAPPING = {"email": "email", "name": "name"}

PROVIDER_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")


class ConfigError(ValueError):
    """The emulator's configuration is invalid."""


@dataclass
class ProviderSettings:
    """One login provider as the Backendless side knows it."""

    code: str
    client_id: str
    client_secret: str = field(repr=False)
    enabled: bool = True
    # Custom providers only: where the real (or another fake) OAuth2 server lives.
    custom: bool = False
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    scope: str = ""
    id_field: str = "sub"
    fields_mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS_MAPPING))

    @property
    def oauth1(self) -> bool:
        return self.code in OAUTH1_PROVIDERS and not self.custom


@dataclass
class CustomProvider:
    """A custom OAuth2 provider configured by URLs, as in the Backendless console."""

    code: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = ""
    id_field: str = "sub"
    fields_mapping: Mapping[str, str] | None = None
    enabled: bool = True


def load_config(source: Mapping[str, Any] | str | os.PathLike[str] | None) -> dict[str, Any]:
    """Read a config mapping from a JSON file path, or validate a given mapping."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read emulator config {os.fspath(source)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("the emulator config must be a JSON object")
    known = {
        "appId",
        "apiKey",
        "adminToken",
        "sessionTtl",
        "allowedRedirects",
        "seed",
        "providers",
        "customProviders",
        "accounts",
        # accounts with passwords (see accounts_settings_from_mapping)
        "users",
        "cloudCodeKey",
        "corsOrigins",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown emulator config keys: {', '.join(sorted(unknown))}")
    return data


def custom_from_mapping(item: Any) -> CustomProvider:
    """Build a :class:`CustomProvider` from its JSON form."""
    if not isinstance(item, dict):
        raise ConfigError("each customProviders entry must be an object")
    try:
        return CustomProvider(
            code=str(item["code"]),
            authorize_url=str(item["authorizeUrl"]),
            token_url=str(item["tokenUrl"]),
            userinfo_url=str(item["userinfoUrl"]),
            client_id=str(item["clientId"]),
            client_secret=str(item.get("clientSecret", "")),
            scope=str(item.get("scope", "")),
            id_field=str(item.get("idField", "sub")),
            fields_mapping=item.get("fieldsMapping"),
            enabled=bool(item.get("enabled", True)),
        )
    except KeyError as exc:
        raise ConfigError(f"customProviders entry lacks {exc.args[0]!r}") from exc


# --- accounts with passwords: the console's Users > Registration / Login / Security screens ----

#: Column names a Users column may have (Backendless's rule, and what ``where`` can name).
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: The roles every Backendless app has; they cannot be assigned or unassigned.
SYSTEM_ROLES = (
    "NotAuthenticatedUser",
    "AuthenticatedUser",
    "GuestUser",
    "SocialUser",
    "FacebookUser",
    "GooglePlusUser",
    "TwitterUser",
    "ASUser",
    "AndroidUser",
    "DotNetUser",
    "IOSUser",
    "JSUser",
    "RestUser",
    "ServerCodeUser",
)
COLUMN_TYPES = ("STRING", "TEXT", "INT", "DOUBLE", "BOOLEAN", "DATETIME", "JSON")


@dataclass
class PasswordPolicy:
    """What a new password must hold (checked at registration, update and reset)."""

    min_length: int = 1
    max_length: int = 256
    lowercase: bool = False
    uppercase: bool = False
    digits: bool = False
    symbols: bool = False

    def problems(self, password: str) -> list[str]:
        """What ``password`` lacks, in words; empty when it is acceptable."""
        out = []
        if len(password) < self.min_length:
            out.append(f"at least {self.min_length} characters")
        if len(password) > self.max_length:
            out.append(f"at most {self.max_length} characters")
        if self.lowercase and not any(c.islower() for c in password):
            out.append("a lowercase letter")
        if self.uppercase and not any(c.isupper() for c in password):
            out.append("an uppercase letter")
        if self.digits and not any(c.isdigit() for c in password):
            out.append("a digit")
        if self.symbols and all(c.isalnum() for c in password):
            out.append("a symbol")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "lowercase": self.lowercase,
            "uppercase": self.uppercase,
            "digits": self.digits,
            "symbols": self.symbols,
        }


@dataclass
class UserColumn:
    """A developer-defined column of the Users table (``describeUserClass`` lists it)."""

    name: str
    type: str = "STRING"
    required: bool = False
    default: Any = None


@dataclass
class AccountSettings:
    """The app options for accounts with passwords, as a Backendless console offers them.

    Attributes:
        identity: the Users column that identifies an account at login (``email`` by default).
        email_confirmation: new accounts wait in ``EMAIL_CONFIRMATION_PENDING`` until the link
            of the confirmation email is opened.
        lockout_attempts: failed logins in a row that lock an account; ``None``: unlimited.
        lockout_seconds: how long a locked account stays locked.
        password_policy: what a new password must hold.
        roles: the app's custom roles (assignable, findable with ``users/role/<name>``).
        columns: developer-defined Users columns.
        confirmation_ttl / reset_ttl: seconds an emailed link stays valid.
        hash_cost: scrypt's work factor as a power of two (``n = 2**hash_cost``, 10..16);
            14 by default (about 50 ms a hash here); a test suite may take 10 (a few ms).
    """

    identity: str = "email"
    email_confirmation: bool = False
    lockout_attempts: int | None = None
    lockout_seconds: float = 900.0
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    roles: list[str] = field(default_factory=list)
    columns: list[UserColumn] = field(default_factory=list)
    confirmation_ttl: float = 24 * 3600.0
    reset_ttl: float = 3600.0
    hash_cost: int = 14

    def check(self) -> None:
        """Raise :class:`ConfigError` on a value a console would refuse."""
        if not COLUMN_NAME.match(self.identity) or self.identity in (
            "objectId",
            "ownerId",
            "password",
            "created",
            "updated",
            "userStatus",
        ):
            raise ConfigError(f"invalid identity column {self.identity!r}")
        if self.lockout_attempts is not None and (
            isinstance(self.lockout_attempts, bool) or int(self.lockout_attempts) < 1
        ):
            raise ConfigError("lockout attempts must be a positive integer or null")
        if not float(self.lockout_seconds) >= 0:
            raise ConfigError("lockout seconds must be >= 0")
        if isinstance(self.hash_cost, bool) or not 10 <= int(self.hash_cost) <= 16:
            raise ConfigError("hashCost must be an integer from 10 to 16")
        pol = self.password_policy
        if not 1 <= int(pol.min_length) <= int(pol.max_length):
            raise ConfigError("password policy: need 1 <= minLength <= maxLength")
        for role in self.roles:
            if not isinstance(role, str) or not COLUMN_NAME.match(role):
                raise ConfigError(f"invalid role name {role!r}")
            if role in SYSTEM_ROLES:
                raise ConfigError(f"{role!r} is a system role")
        for col in self.columns:
            if not COLUMN_NAME.match(col.name) or col.type not in COLUMN_TYPES:
                raise ConfigError(f"invalid Users column {col.name!r} of type {col.type!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "emailConfirmation": self.email_confirmation,
            "lockout": {"attempts": self.lockout_attempts, "seconds": self.lockout_seconds},
            "passwordPolicy": self.password_policy.as_dict(),
            "roles": list(self.roles),
            "columns": [
                {"name": c.name, "type": c.type, "required": c.required, "defaultValue": c.default}
                for c in self.columns
            ],
            "hashCost": self.hash_cost,
        }

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a (partial) mapping in the config file's form; validated before any change."""
        new = accounts_settings_from_mapping({**self.as_dict(), **dict(data)})
        self.__dict__.update(new.__dict__)


_POLICY_KEYS = {"minLength", "maxLength", "lowercase", "uppercase", "digits", "symbols"}
_USERS_KEYS = {
    "identity",
    "emailConfirmation",
    "lockout",
    "passwordPolicy",
    "roles",
    "columns",
    "hashCost",
}


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false")
    return value


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer")
    return value


def accounts_settings_from_mapping(data: Any) -> AccountSettings:
    """Build :class:`AccountSettings` from the config file's ``"users"`` object::

    {"identity": "email", "emailConfirmation": false,
     "lockout": {"attempts": 3, "seconds": 900},
     "passwordPolicy": {"minLength": 8, "maxLength": 256, "lowercase": true,
                        "uppercase": true, "digits": true, "symbols": false},
     "roles": ["TrialUser"],
     "columns": [{"name": "phone", "type": "STRING", "required": false}],
     "hashCost": 14}
    """
    if data is None:
        return AccountSettings()
    if not isinstance(data, Mapping):
        raise ConfigError("users must be an object")
    unknown = set(data) - _USERS_KEYS
    if unknown:
        raise ConfigError(f"unknown users keys: {', '.join(sorted(unknown))}")
    out = AccountSettings()
    if "identity" in data:
        if not isinstance(data["identity"], str):
            raise ConfigError("users.identity must be a column name")
        out.identity = data["identity"]
    if "emailConfirmation" in data:
        out.email_confirmation = _flag(data["emailConfirmation"], "users.emailConfirmation")
    lockout = data.get("lockout")
    if lockout is not None:
        if not isinstance(lockout, Mapping) or set(lockout) - {"attempts", "seconds"}:
            raise ConfigError('users.lockout must be {"attempts": N|null, "seconds": S}')
        attempts = lockout.get("attempts")
        out.lockout_attempts = None if attempts is None else _count(attempts, "lockout.attempts")
        seconds = lockout.get("seconds", out.lockout_seconds)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ConfigError("lockout.seconds must be a number")
        out.lockout_seconds = float(seconds)
    policy = data.get("passwordPolicy")
    if policy is not None:
        if not isinstance(policy, Mapping) or set(policy) - _POLICY_KEYS:
            raise ConfigError(f"users.passwordPolicy takes {', '.join(sorted(_POLICY_KEYS))}")
        pol = PasswordPolicy()
        for key, attr in (("minLength", "min_length"), ("maxLength", "max_length")):
            if key in policy:
                setattr(pol, attr, _count(policy[key], f"passwordPolicy.{key}"))
        for key in ("lowercase", "uppercase", "digits", "symbols"):
            if key in policy:
                setattr(pol, key, _flag(policy[key], f"passwordPolicy.{key}"))
        out.password_policy = pol
    if "hashCost" in data:
        out.hash_cost = _count(data["hashCost"], "users.hashCost")
    roles = data.get("roles")
    if roles is not None:
        if not isinstance(roles, list):
            raise ConfigError("users.roles must be a list of role names")
        out.roles = list(dict.fromkeys(roles))
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list):
            raise ConfigError("users.columns must be a list")
        for item in columns:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ConfigError("each users.columns entry needs a name")
            out.columns.append(
                UserColumn(
                    name=item["name"],
                    type=str(item.get("type", "STRING")),
                    required=_flag(item.get("required", False), "columns.required"),
                    default=item.get("defaultValue"),
                )
            )
    out.check()
    return out
