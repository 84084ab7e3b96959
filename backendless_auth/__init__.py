"""backendless-auth: social, OAuth and guest logins for Backendless from Python.

Start with :class:`Backendless`; its ``users`` attribute is the :class:`UserService`.
"""

from __future__ import annotations

import logging
from typing import Any

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
from .stores import MemoryTokenStore, TokenStore

__all__ = [
    "ApiError",
    "Backendless",
    "BackendlessError",
    "BackendlessUser",
    "ConfigurationError",
    "HttpResponse",
    "InvalidArgumentError",
    "InvalidParameterError",
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
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    # Read from the installed metadata only when asked: importlib.metadata is slow to import.
    if name == "__version__":
        from importlib.metadata import version

        return version("backendless-auth")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
