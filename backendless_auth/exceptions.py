"""The errors of backendless-auth: one tree, rooted at :class:`BackendlessError`.

::

    BackendlessError
    ├── InvalidArgumentError (also ValueError)    bad argument, refused before any request
    │   └── ConfigurationError                    bad app address, timeout, environment
    ├── TransportError                            the request did not complete
    │   ├── NetworkError                          could not connect, connection reset
    │   └── RequestTimeout                        no answer within the timeout
    ├── UnexpectedResponseError                   an answer that is not Backendless's
    ├── ApiError                                  Backendless answered with {"code", "message"}
    │   ├── UnknownApplicationError               2002: wrong app id or API key
    │   ├── LoginRejectedError                    3000, 3001, 3002, 3004, 3022, 3034, 3044
    │   │   ├── InvalidCredentialsError           3003, 3055: wrong identity or password
    │   │   ├── EmailNotConfirmedError            3087: the address is not confirmed yet
    │   │   ├── AccountDisabledError              3090: the account is disabled
    │   │   └── AccountLockedError                3036: locked after failed logins
    │   ├── SessionExpiredError                   3048, 3064, 3091: the session is gone
    │   ├── ProviderError                         3060, 3080: the OAuth provider side failed
    │   ├── InvalidParameterError                 8002, 8004, 8007, 8008, 1017, 3006
    │   ├── InvalidUserDataError                  3010..3014, 3021, 3024, 3038, 3039, 3045
    │   │   ├── InvalidEmailError                 3040: not an email address
    │   │   └── PasswordPolicyError               3125: the password breaks the policy
    │   ├── UserAlreadyExistsError                3033, 3018: the identity is taken
    │   ├── UserNotFoundError                     3020, 3030, 3104: no such user
    │   ├── RoleNotFoundError                     2005: not a role of the app
    │   └── NotAllowedError                       2007, 2008, 2011, 2014, 3009, 3028, ...
    ├── LoginFlowError                            a browser or provider flow did not finish
    │   ├── LoginCancelledError                   the person denied or the flow was stopped
    │   └── LoginTimeoutError                     nobody came back in time
    ├── NotLoggedInError                          the call needs a session, and there is none
    └── TokenStoreError                           the session could not be loaded or saved

Codes are data: :data:`ERROR_CODES` maps each known Backendless code to its class, and
:func:`api_error_for` builds the right exception from a response. No message of this module ever
holds a user token, an access token, a secret or an API key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ERROR_CODES",
    "AccountDisabledError",
    "AccountLockedError",
    "ApiError",
    "BackendlessError",
    "ConfigurationError",
    "EmailNotConfirmedError",
    "InvalidArgumentError",
    "InvalidCredentialsError",
    "InvalidEmailError",
    "InvalidParameterError",
    "InvalidUserDataError",
    "LoginCancelledError",
    "LoginFlowError",
    "LoginRejectedError",
    "LoginTimeoutError",
    "NetworkError",
    "NotAllowedError",
    "NotLoggedInError",
    "PasswordPolicyError",
    "ProviderError",
    "RequestTimeout",
    "RoleNotFoundError",
    "SessionExpiredError",
    "TokenStoreError",
    "TransportError",
    "UnexpectedResponseError",
    "UnknownApplicationError",
    "UserAlreadyExistsError",
    "UserNotFoundError",
    "api_error_for",
]


# Letters that render as nothing although Unicode files them as letters or symbols.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def _useful_text(text: object) -> str | None:
    """``text`` made fit for a message, or ``None`` when nothing in it can be read.

    Control characters and line breaks become spaces and runs of spaces one (a message is one
    line: a server cannot forge log lines through it); a text of nothing but spaces,
    invisible characters (format, private use, unassigned), marks or blank letters is no text.
    """
    if not isinstance(text, str):
        return None
    cleaned = "".join(
        " " if unicodedata.category(char)[0] in "CZ" and char != "\u200d" else char for char in text
    )
    cleaned = " ".join(cleaned.split())
    visible = any(
        unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_LETTERS for char in cleaned
    )
    return cleaned if visible else None


def _restore(cls: type[BackendlessError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class BackendlessError(Exception):
    """The root of every error raised by backendless-auth.

    Every error has a readable one-line ``message``; each pickles and copies with its fields,
    so it can cross process boundaries (``multiprocessing``, ``concurrent.futures``).
    """

    def __init__(self, message: str) -> None:
        text = _useful_text(message)
        if text is None:
            text = _first_line(type(self).__doc__) or "backendless-auth failed"
        super().__init__(text)
        self.message = text

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*args): our keyword-only fields would be lost (or
        # the class could not be built at all, as for ApiError).
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _first_line(doc: str | None) -> str:
    line = (doc or "").strip().split("\n", 1)[0].strip()
    return line[:1].lower() + line[1:].rstrip(".") if line else ""


class InvalidArgumentError(BackendlessError, ValueError):
    """An argument was refused before any request was sent.

    Attributes:
        argument: The name of the offending argument, when there is one.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class ConfigurationError(InvalidArgumentError):
    """The app's address, the timeout or the environment is not usable."""


class TransportError(BackendlessError):
    """The request did not complete: nothing usable came back."""


class NetworkError(TransportError):
    """The server could not be reached, or the connection broke."""


class RequestTimeout(TransportError):
    """The server did not answer within the timeout."""


class UnexpectedResponseError(BackendlessError):
    """The server answered something that is not a Backendless answer.

    An HTML page from a proxy, a body that is not JSON, JSON of the wrong shape, a missing field.

    Attributes:
        status: The HTTP status, when a response arrived.
        body: The first bytes of the body, for diagnosis.
    """

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:2048]


class ApiError(BackendlessError):
    """Backendless refused the request with an error code.

    Attributes:
        status: The HTTP status.
        code: The Backendless error code (the truth: statuses are coarse).
        message: The server's message.
        body: The whole decoded error body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body: Mapping[str, Any] = dict(body or {})

    def __str__(self) -> str:
        # Only what the message does not already say: never "code None", never twice.
        details = []
        if self.code is not None and not re.search(
            rf"\bcode\W{{0,3}}{self.code}(?!\d)", self.message, re.IGNORECASE
        ):
            details.append(f"code {self.code}")
        if f"HTTP {self.status}" not in self.message:
            details.append(f"HTTP {self.status}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class UnknownApplicationError(ApiError):
    """Backendless does not know the app: a wrong app id, API key or domain (2002)."""


class LoginRejectedError(ApiError):
    """The user cannot be logged in: wrong identity, disabled or locked account, and so on."""


class SessionExpiredError(ApiError):
    """The session token is unknown or expired; the local session has been cleared."""


class ProviderError(ApiError):
    """The OAuth provider side failed: the social account was not approved, a bad redirect."""


class InvalidParameterError(ApiError):
    """Backendless found a parameter malformed, missing or invalid."""


class LoginFlowError(BackendlessError):
    """A browser or provider login flow did not finish.

    Attributes:
        code: The Backendless error code the flow reported, when there was one.
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class LoginCancelledError(LoginFlowError):
    """The person denied the login, or the flow was interrupted."""


class LoginTimeoutError(LoginFlowError):
    """Nobody completed the login before the timeout."""


class TokenStoreError(BackendlessError):
    """The session could not be saved to, loaded from or cleared in the token store."""


# --- accounts with passwords: registration, login, emails, updates, roles, status --------------


class InvalidCredentialsError(LoginRejectedError):
    """The identity or the password is wrong (Backendless does not say which).

    Codes 3003 and 3055.
    """


class EmailNotConfirmedError(LoginRejectedError):
    """The account's email address is not confirmed yet (code 3087)."""


class AccountDisabledError(LoginRejectedError):
    """The user account is disabled (code 3090)."""


class AccountLockedError(LoginRejectedError):
    """The account is locked after too many failed logins; try again later (code 3036)."""


class InvalidUserDataError(ApiError):
    """Backendless refused the user's properties on registration or update.

    A missing password (3011), required column (3012) or identity (3013), an unknown or
    invalid property (3010, 3021, 3024), a property named ``id`` (3039), an empty required
    column (3045).
    """


class InvalidEmailError(InvalidUserDataError):
    """The email column does not hold an email address (code 3040)."""


class PasswordPolicyError(InvalidUserDataError):
    """The new password does not meet the app's password policy (code 3125)."""


class UserAlreadyExistsError(ApiError):
    """Another user has that identity already.

    Code 3033 on registration, 3018 on update.
    """


class UserNotFoundError(ApiError):
    """No user has that identity or objectId (codes 3020, 3030, 3104)."""


class RoleNotFoundError(ApiError):
    """The role is not one of the app's roles (code 2005)."""


class NotAllowedError(ApiError):
    """The caller may not do this: another user's data, or a call only server code may make.

    Server code calls with the app's CloudCode API key. Also a system role (un)assigned and
    registration switched off. Codes 2007, 2008, 2011, 2014, 3009, 3028, 3029, 3054, 3121, 3122.
    """


class NotLoggedInError(BackendlessError):
    """Nobody is logged in, and the call needs a logged-in user; nothing was sent."""


_ACCOUNT_CODES: Mapping[int, type[ApiError]] = {
    1017: InvalidParameterError,
    2005: RoleNotFoundError,
    2007: NotAllowedError,
    2008: NotAllowedError,
    2011: NotAllowedError,
    2014: NotAllowedError,
    3001: LoginRejectedError,
    3002: LoginRejectedError,
    3003: InvalidCredentialsError,
    3006: InvalidParameterError,
    3009: NotAllowedError,
    3010: InvalidUserDataError,
    3011: InvalidUserDataError,
    3012: InvalidUserDataError,
    3013: InvalidUserDataError,
    3014: InvalidUserDataError,
    3018: UserAlreadyExistsError,
    3020: UserNotFoundError,
    3021: InvalidUserDataError,
    3024: InvalidUserDataError,
    3028: NotAllowedError,
    3029: NotAllowedError,
    3030: UserNotFoundError,
    3033: UserAlreadyExistsError,
    3036: AccountLockedError,
    3038: InvalidUserDataError,
    3039: InvalidUserDataError,
    3040: InvalidEmailError,
    3045: InvalidUserDataError,
    3054: NotAllowedError,
    3055: InvalidCredentialsError,
    3087: EmailNotConfirmedError,
    3090: AccountDisabledError,
    3102: ApiError,
    3103: ApiError,
    3104: UserNotFoundError,
    3121: NotAllowedError,
    3122: NotAllowedError,
    3125: PasswordPolicyError,
}

# --- end of accounts ---------------------------------------------------------------------------


ERROR_CODES: Mapping[int, type[ApiError]] = {
    2002: UnknownApplicationError,
    3000: LoginRejectedError,
    3004: LoginRejectedError,
    3022: LoginRejectedError,
    3034: LoginRejectedError,
    3044: LoginRejectedError,
    3048: SessionExpiredError,
    3064: SessionExpiredError,
    3091: SessionExpiredError,
    3060: ProviderError,
    3080: ProviderError,
    8002: InvalidParameterError,
    8004: InvalidParameterError,
    8007: InvalidParameterError,
    8008: InvalidParameterError,
    **_ACCOUNT_CODES,
}
"""Each Backendless error code this SDK knows, mapped to the class raised for it."""


def api_error_for(status: int, body: Mapping[str, Any]) -> ApiError:
    """Build the exception for an error answer.

    Args:
        status: The HTTP status of the answer.
        body: The decoded JSON body, ``{"code": int, "message": str}`` from Backendless.

    Returns:
        An instance of the class :data:`ERROR_CODES` names for the code, or :class:`ApiError`.
    """
    raw_code = body.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    # str.isdigit() also accepts "²" and other digits int() refuses; and a code is short.
    if code is None and isinstance(raw_code, str) and re.fullmatch(r"[0-9]{1,9}", raw_code):
        code = int(raw_code)
    cls = ERROR_CODES.get(code, ApiError) if code is not None else ApiError
    message = _useful_text(body.get("message")) or _without_message(cls, status)
    return cls(message, status=status, code=code, body=body)


def _without_message(cls: type[ApiError], status: int) -> str:
    """What an error answer that gave no readable message means, in words."""
    if cls is ApiError:
        return f"Backendless refused the request without saying why (HTTP {status})"
    return _first_line(cls.__doc__)
