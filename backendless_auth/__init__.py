"""backendless-auth: social, OAuth and guest logins for Backendless from Python.

Start with :class:`Backendless`; its ``users`` attribute is the :class:`UserService`.
"""

# No "from __future__ import annotations" and only private aliases here: every public name of
# this module is one that __all__ lists (tests/test_exported_members.py).
import logging as _logging
from typing import Any as _Any

from ._app import Backendless
from ._config import Timeout
from ._models import BackendlessUser, StoredSession
from ._service import UserService
from ._transport import HttpResponse, RequestsTransport, Transport
from .exceptions import (
    ApiError,
    BackendlessError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidParameterError,
    LoginCancelledError,
    LoginFlowError,
    LoginRejectedError,
    LoginTimeoutError,
    NetworkError,
    ProviderError,
    RequestTimeout,
    SessionExpiredError,
    TokenStoreError,
    TransportError,
    UnexpectedResponseError,
    UnknownApplicationError,
)
from .stores import (
    AutoTokenStore,
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
    default_token_store,
)

__all__ = [
    "ApiError",
    "AutoTokenStore",
    "Backendless",
    "BackendlessError",
    "BackendlessUser",
    "ConfigurationError",
    "FileTokenStore",
    "HttpResponse",
    "InvalidArgumentError",
    "InvalidParameterError",
    "KeyringTokenStore",
    "LoginCancelledError",
    "LoginFlowError",
    "LoginRejectedError",
    "LoginTimeoutError",
    "MemoryTokenStore",
    "NetworkError",
    "ProviderError",
    "RequestTimeout",
    "RequestsTransport",
    "SessionExpiredError",
    "StoredSession",
    "Timeout",
    "TokenStore",
    "TokenStoreError",
    "Transport",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownApplicationError",
    "UserService",
    "__version__",
    "default_token_store",
]

_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def __getattr__(name: str) -> _Any:
    # Read from the installed metadata only when asked: importlib.metadata is slow to import.
    if name == "__version__":
        from importlib.metadata import version

        return version("backendless-auth")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
