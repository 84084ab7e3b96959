"""backendless-auth: social, OAuth and guest logins for Backendless from Python.

Start with :class:`Backendless`; its ``users`` attribute is the :class:`UserService`.
"""

# No "from __future__ import annotations" and only private aliases here: every public name of
# this module is one that __all__ lists (tests/test_exported_members.py).
import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

# The errors are imported at once: they are cheap, and code catching them should not pay for
# requests. Everything else is imported on first use (PEP 562), so that `import
# backendless_auth`, `backendless_auth.exceptions` and the command line's --help stay fast;
# `from backendless_auth import Backendless` still imports what it needs right there.
from .exceptions import (
    AccountDisabledError,
    AccountLockedError,
    ApiError,
    BackendlessError,
    ConfigurationError,
    EmailNotConfirmedError,
    InvalidArgumentError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidParameterError,
    InvalidUserDataError,
    LoginCancelledError,
    LoginFlowError,
    LoginRejectedError,
    LoginTimeoutError,
    NetworkError,
    NotAllowedError,
    NotLoggedInError,
    PasswordPolicyError,
    ProviderError,
    RequestTimeout,
    RoleNotFoundError,
    SessionExpiredError,
    TokenStoreError,
    TransportError,
    UnexpectedResponseError,
    UnknownApplicationError,
    UserAlreadyExistsError,
    UserNotFoundError,
)

if _TYPE_CHECKING:
    from ._app import AsyncBackendless, Backendless
    from ._config import Timeout
    from ._http import HttpResponse
    from ._models import BackendlessUser, UserProperty
    from ._service import UserService
    from ._service_async import AsyncUserService
    from ._session import StoredSession
    from ._transport import RequestsTransport, Transport
    from ._transport_async import AsyncTransport, HttpxTransport
    from .stores import (
        AutoTokenStore,
        FileTokenStore,
        KeyringTokenStore,
        MemoryTokenStore,
        TokenStore,
        default_token_store,
    )

_LAZY = {
    "AsyncBackendless": "._app",
    "AsyncTransport": "._transport_async",
    "AsyncUserService": "._service_async",
    "AutoTokenStore": ".stores",
    "Backendless": "._app",
    "BackendlessUser": "._models",
    "FileTokenStore": ".stores",
    "HttpResponse": "._http",
    "HttpxTransport": "._transport_async",
    "KeyringTokenStore": ".stores",
    "MemoryTokenStore": "._stores_memory",
    "RequestsTransport": "._transport",
    "StoredSession": "._session",
    "Timeout": "._config",
    "TokenStore": "._stores_memory",
    "Transport": "._transport",
    "UserProperty": "._models",
    "UserService": "._service",
    "default_token_store": ".stores",
}

__all__ = [
    "AccountDisabledError",
    "AccountLockedError",
    "ApiError",
    "AsyncBackendless",
    "AsyncTransport",
    "AsyncUserService",
    "AutoTokenStore",
    "Backendless",
    "BackendlessError",
    "BackendlessUser",
    "ConfigurationError",
    "EmailNotConfirmedError",
    "FileTokenStore",
    "HttpResponse",
    "HttpxTransport",
    "InvalidArgumentError",
    "InvalidCredentialsError",
    "InvalidEmailError",
    "InvalidParameterError",
    "InvalidUserDataError",
    "KeyringTokenStore",
    "LoginCancelledError",
    "LoginFlowError",
    "LoginRejectedError",
    "LoginTimeoutError",
    "MemoryTokenStore",
    "NetworkError",
    "NotAllowedError",
    "NotLoggedInError",
    "PasswordPolicyError",
    "ProviderError",
    "RequestTimeout",
    "RequestsTransport",
    "RoleNotFoundError",
    "SessionExpiredError",
    "StoredSession",
    "Timeout",
    "TokenStore",
    "TokenStoreError",
    "Transport",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownApplicationError",
    "UserAlreadyExistsError",
    "UserNotFoundError",
    "UserProperty",
    "UserService",
    "__version__",
    "default_token_store",
]

_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module, __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    # Read from the installed metadata only when asked: importlib.metadata is slow to import.
    if name == "__version__":
        from importlib.metadata import version

        return version("backendless-auth")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
