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
