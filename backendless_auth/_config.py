"""The app's address (app id + API key, or a domain), the server URL and the timeouts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from ._record import field, record
from ._redact import REDACTOR
from .exceptions import ConfigurationError

DEFAULT_SERVER_URL = "https://api.backendless.com"
ENV_APP_ID = "BACKENDLESS_APP_ID"
ENV_API_KEY = "BACKENDLESS_API_KEY"
ENV_DOMAIN = "BACKENDLESS_DOMAIN"
ENV_SERVER_URL = "BACKENDLESS_SERVER_URL"

# App ids and REST API keys are GUID-like; anything that could break out of a path segment is
# refused rather than quoted, since a typo there is far likelier than a real key holding "/".
# fullmatch, not "^...$": "$" also matches before a final newline.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


@record
class Timeout:
    """How long to wait (seconds): ``connect`` for the connection; ``read`` for the whole answer,
    from sending the request to its last byte (a deadline per attempt, not per read)."""

    connect: float = 10.0
    read: float = 30.0

    @classmethod
    def coerce(cls, value: object) -> Timeout:
        """Accept a :class:`Timeout`, a number (both parts) or a ``(connect, read)`` pair.

        Raises:
            ConfigurationError: ``None``, a non-positive or non-finite number, another type.
        """
        connect: object
        read: object
        # A Timeout built by hand is checked too: Timeout(-1, 5) would otherwise reach requests.
        if isinstance(value, Timeout):
            connect, read = value.connect, value.read
        elif isinstance(value, tuple) and len(value) == 2:
            connect, read = value
        else:
            connect = read = value
        parts: list[float] = []
        for part in (connect, read):
            if isinstance(part, bool) or not isinstance(part, (int, float)):
                raise ConfigurationError(
                    "timeout must be a positive number of seconds, a (connect, read) pair or a "
                    f"Timeout; got {value!r} (a timeout is always on: there is no 'None')",
                    argument="timeout",
                )
            if not 0 < part < float("inf"):
                raise ConfigurationError(
                    f"timeout must be positive and finite, got {value!r}", argument="timeout"
                )
            parts.append(float(part))
        return cls(parts[0], parts[1])

    def as_tuple(self) -> tuple[float, float]:
        """The ``(connect, read)`` pair requests takes."""
        return (self.connect, self.read)


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` names this machine: localhost, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        import ipaddress  # only for plain http:// addresses: rare, and slow to import

        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(url: object, argument: str, *, allow_insecure_http: bool) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"{argument} must be a non-empty URL string", argument=argument)
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{argument} must start with https:// (or http:// for a local server) and name a "
            f"host, got {url!r}",
            argument=argument,
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"{argument} must not hold a query, a fragment or credentials", argument=argument
        )
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"{argument} uses plain http:// for {parts.hostname!r}, which would send the API key "
            "and session tokens unencrypted; use https://, or pass allow_insecure_http=True if "
            "you really mean it",
            argument=argument,
        )
    return url


def _check_key(value: object, argument: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{argument} must be a non-empty string", argument=argument)
    if not _KEY_PATTERN.fullmatch(value):
        raise ConfigurationError(
            f"{argument} may hold only letters, digits, '-' and '_'", argument=argument
        )
    return value


@record
class AppConfig:
    """Where the app lives. Build it with :meth:`create`; the API key is never shown."""

    base_url: str = field(repr=False)
    namespace: str
    app_id: str | None
    api_key: str | None = field(repr=False)
    domain: str | None
    server_url: str | None

    def __post_init__(self) -> None:
        # The key is in every request path: masked in every log record while the app lives,
        # however many other secrets go by.
        REDACTOR.pin(self, self.api_key)

    @classmethod
    def create(
        cls,
        *,
        app_id: str | None,
        api_key: str | None,
        domain: str | None,
        server_url: str | None,
        allow_insecure_http: bool,
    ) -> AppConfig:
        """Check the address parts and build the base URL.

        Raises:
            ConfigurationError: Neither or both forms given, a part missing or malformed.
        """
        if domain is not None:
            if app_id is not None or api_key is not None or server_url is not None:
                raise ConfigurationError(
                    "give either domain=, or app_id= and api_key= (with an optional "
                    "server_url=), not both",
                    argument="domain",
                )
            domain_url = _check_url(domain, "domain", allow_insecure_http=allow_insecure_http)
            # The console shows the REST address with /api; both spellings name the same app.
            domain_url = domain_url.removesuffix("/api").rstrip("/")
            parts = urlsplit(domain_url)
            return cls(
                base_url=f"{domain_url}/api/",
                namespace=f"Backendless_{parts.netloc.lower()}{parts.path}",
                app_id=None,
                api_key=None,
                domain=domain_url,
                server_url=None,
            )
        if app_id is None and api_key is None:
            raise ConfigurationError(
                "no app given: pass app_id= and api_key= (from the Backendless console), or "
                "domain=, or set BACKENDLESS_APP_ID and BACKENDLESS_API_KEY",
                argument="app_id",
            )
        app_id = _check_key(app_id, "app_id")
        api_key = _check_key(api_key, "api_key")
        server = _check_url(
            DEFAULT_SERVER_URL if server_url is None else server_url,
            "server_url",
            allow_insecure_http=allow_insecure_http,
        )
        return cls(
            base_url=f"{server}/{quote(app_id, safe='')}/{quote(api_key, safe='')}/",
            namespace=f"Backendless_{app_id}",
            app_id=app_id,
            api_key=api_key,
            domain=None,
            server_url=server,
        )


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, complete: bool = True
) -> dict[str, str]:
    """Read the ``BACKENDLESS_*`` variables into ``Backendless(...)`` keyword arguments.

    Every message names the variable to set or fix, not the keyword argument it becomes.

    Args:
        environ: The variables to read; ``os.environ`` by default.
        complete: Require a whole address (app id and API key, or a domain). The command line
            passes ``False`` and completes the address with its options.

    Raises:
        ConfigurationError: No variable names an app, one of ``BACKENDLESS_APP_ID`` and
            ``BACKENDLESS_API_KEY`` is missing, both forms are set, or a value is malformed.
    """
    env = os.environ if environ is None else environ
    variables = {
        "app_id": ENV_APP_ID,
        "api_key": ENV_API_KEY,
        "domain": ENV_DOMAIN,
        "server_url": ENV_SERVER_URL,
    }
    settings = {name: env[variable] for name, variable in variables.items() if env.get(variable)}
    for name in ("app_id", "api_key"):
        if name in settings and not _KEY_PATTERN.fullmatch(settings[name]):
            raise ConfigurationError(
                f"{variables[name]} may hold only letters, digits, '-' and '_' (copy it from "
                "the Backendless console: Backend, Overview)",
                argument=name,
            )
    if not complete:
        return settings
    if not settings.keys() & {"app_id", "api_key", "domain"}:
        raise ConfigurationError(
            f"set {ENV_APP_ID} and {ENV_API_KEY} (and optionally {ENV_SERVER_URL}), "
            f"or {ENV_DOMAIN}, to name the Backendless app",
            argument="environ",
        )
    if "domain" in settings:
        both = [variables[name] for name in ("app_id", "api_key", "server_url") if name in settings]
        if both:
            raise ConfigurationError(
                f"{ENV_DOMAIN} and {' and '.join(both)} are both set: they name the app in two "
                f"ways; unset {ENV_DOMAIN}, or {' and '.join(both)}",
                argument="domain",
            )
        return settings
    for name, other in (("app_id", "api_key"), ("api_key", "app_id")):
        if name not in settings:
            raise ConfigurationError(
                f"{variables[other]} is set but {variables[name]} is not: set both (from the "
                f"Backendless console: Backend, Overview), or {ENV_DOMAIN} instead",
                argument=name,
            )
    return settings
