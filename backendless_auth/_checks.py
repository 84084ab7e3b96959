"""Argument checks of the user service's calls: each runs before any request is built.

Every check raises :class:`~backendless_auth.exceptions.InvalidArgumentError` naming the argument;
a message never repeats a value that may be a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ._wire import STATUSES
from .exceptions import InvalidArgumentError

# fullmatch, not "^...$": "$" also matches before a final newline.
_PROVIDER_CODE = re.compile(r"[A-Za-z0-9_.-]+")
# A session token is sent as the value of the user-token header by every transport: requests
# refuses CR/LF and leading whitespace, http.client encodes as latin-1, h11 (httpx) allows only
# visible ASCII, obs-text and inner spaces, and httpx encodes str values as ASCII. What all of
# them accept, and what every Backendless token is: visible ASCII, no space, not too long.
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]{1,1024}")
USER_TOKEN_RULE = "visible ASCII characters (no space, no control character), at most 1024"


def is_user_token(value: object) -> bool:
    """Whether ``value`` can be sent as a ``user-token`` header by any transport."""
    return isinstance(value, str) and _HEADER_TOKEN.fullmatch(value) is not None


def user_token(value: object, argument: str) -> str:
    """A session token handed to the SDK (adopted from a browser, another process, a paste).

    Raises:
        InvalidArgumentError: Not a string, or not a valid header value (the message never
            repeats the value: it is a secret).
    """
    token = secret(value, argument)
    if not is_user_token(token):
        raise InvalidArgumentError(
            f"{argument} is not a Backendless session token: it must be {USER_TOKEN_RULE}",
            argument=argument,
        )
    return token


def provider_code(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(
            "provider_code must be a non-empty string such as 'google'", argument="provider_code"
        )
    if not _PROVIDER_CODE.fullmatch(value) or set(value) == {"."}:
        raise InvalidArgumentError(
            f"provider_code {value!r} may hold only letters, digits, '_', '-' and '.'",
            argument="provider_code",
        )
    return value.lower()


def secret(value: object, argument: str) -> str:
    # The message never repeats the value: it is a secret.
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{argument} must be a string, not {type(value).__name__}", argument=argument
        )
    if not value.strip():
        raise InvalidArgumentError(f"{argument} must not be empty", argument=argument)
    return value


def flag(value: object, argument: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"{argument} must be True or False, not {type(value).__name__}", argument=argument
        )
    return value


def optional_str(value: object, argument: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            f"{argument} must be a non-empty string or None", argument=argument
        )
    return value


def fields_mapping(value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            "fields_mapping must be a mapping of provider field to Users column, "
            f"not {type(value).__name__}",
            argument="fields_mapping",
        )
    for key, column in value.items():
        if not isinstance(key, str) or not isinstance(column, str) or not key or not column:
            raise InvalidArgumentError(
                "fields_mapping must map non-empty strings to non-empty strings; "
                f"found {key!r}: {column!r}",
                argument="fields_mapping",
            )
    return value


def scope(value: object, separator: object) -> str | None:
    # Checked even without a scope: a bad argument is refused wherever it is given. An empty
    # separator would glue the scopes into one unknown word.
    if not isinstance(separator, str) or not separator:
        raise InvalidArgumentError(
            "scope_separator must be a non-empty string", argument="scope_separator"
        )
    if value is None:
        return None
    if isinstance(value, str):
        return value
    # bytes is a Sequence too: b"" would otherwise pass as "no scope".
    if (
        isinstance(value, Sequence)
        and not isinstance(value, (bytes, bytearray))
        and all(isinstance(item, str) and item for item in value)
    ):
        return separator.join(value) if value else None
    raise InvalidArgumentError(
        "scope must be a string, or a sequence of non-empty strings", argument="scope"
    )


def redirect_url(value: object, argument: str) -> str | None:
    url = optional_str(value, argument)
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"{argument} must be an http:// or https:// URL", argument=argument
        )
    return url


# --- accounts with passwords (the JS SDK's rules, from its unit tests) -------------------------


def _sendable(value: str, argument: str) -> str:
    """``value``, unless it holds what no URL or JSON body can carry (a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        bad = True
    else:
        bad = False
    if bad:
        raise InvalidArgumentError(
            f"{argument} holds characters that cannot be sent (a lone surrogate)",
            argument=argument,
        )
    return value


def identity(value: object, argument: str) -> str:
    """An identity, objectId or login: a non-empty string, or an integer (the JS SDK takes
    numbers too); ``True``/``False`` are refused (they are ints in Python)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{argument} must be a string or an integer, not {type(value).__name__}",
            argument=argument,
        )
    if not value.strip():
        raise InvalidArgumentError(f"{argument} must not be empty", argument=argument)
    return _sendable(value, argument)


def text(value: object, argument: str) -> str:
    """A non-empty string that can travel in a URL or a JSON body (a role name, an email)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{argument} must be a non-empty string", argument=argument)
    return _sendable(value, argument)


def password(value: object, argument: str) -> str:
    """A password: any non-empty string (spaces are allowed). Never quoted in a message."""
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{argument} must be a string, not {type(value).__name__}", argument=argument
        )
    if not value:
        raise InvalidArgumentError(f"{argument} must not be empty", argument=argument)
    return _sendable(value, argument)


def optional_flag(value: object, argument: str) -> bool | None:
    if value is None:
        return None
    return flag(value, argument)


def count(value: object, argument: str, *, low: int, high: int | None = None) -> int | None:
    """An optional integer in ``low..high``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{argument} must be an integer or None, not {type(value).__name__}",
            argument=argument,
        )
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise InvalidArgumentError(f"{argument} must be {bound}, not {value}", argument=argument)
    return value


def names(value: object, argument: str, *, allow_str: bool) -> list[str] | None:
    """``None``, a sequence of non-empty strings, or (``allow_str``) one string."""
    if value is None:
        return None
    if isinstance(value, str):
        if allow_str:
            return [text(value, argument)]
        raise InvalidArgumentError(
            f"{argument} must be a sequence of column names, not one string (write [{value!r}])",
            argument=argument,
        )
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(
            f"{argument} must be a sequence of strings, not {type(value).__name__}",
            argument=argument,
        )
    return [text(item, argument) for item in value]


def status(value: object) -> str:
    if not isinstance(value, str) or value not in STATUSES:
        shown = repr(value) if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(
            f"status must be one of {', '.join(STATUSES)}, not {shown}", argument="status"
        )
    return value
