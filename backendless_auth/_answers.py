"""Reading Backendless's answers: JSON bodies, users, URLs and error answers.

Whatever a server sends, these give a value or one of our errors; a kept body is masked.
"""

from __future__ import annotations

import json
from typing import Any

from ._http import HttpResponse
from ._models import BackendlessUser, UserProperty
from ._redact import REDACTOR
from .exceptions import InvalidArgumentError, UnexpectedResponseError, api_error_for

_JSON_TYPES = frozenset({"application/json", "text/json"})


def diagnostic(body: bytes) -> bytes:
    """The start of a body, kept on an error for diagnosis, with any session token masked.

    A login answer that cannot be used may still carry a live ``user-token``: the server opened
    a session this process will never adopt. It must not travel on in the exception.
    """
    return REDACTOR.redact(body[:2048].decode("utf-8", "replace")).encode("utf-8")


def json_from(answer: HttpResponse) -> Any:
    if not answer.body.strip():
        raise UnexpectedResponseError(
            "the server answered with an empty body", status=answer.status, body=answer.body
        )
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        kind = "an HTML page" if b"<" in answer.body[:64] else "a body that is not JSON"
        raise UnexpectedResponseError(
            f"the server answered HTTP {answer.status} with {kind} "
            f"({answer.content_type or 'no content type'}); is the app address right?",
            status=answer.status,
            body=diagnostic(answer.body),
        ) from None


def user_from(answer: HttpResponse, *, need_token: bool) -> BackendlessUser:
    data = json_from(answer)
    try:
        user = BackendlessUser.from_wire(data)
    except InvalidArgumentError as exc:
        raise UnexpectedResponseError(
            f"the server answered with something that is not a user: {exc}",
            status=answer.status,
            body=diagnostic(answer.body),
        ) from None
    if need_token and user.user_token is None:
        raise UnexpectedResponseError(
            "the login answer held no user-token", status=answer.status, body=b""
        )
    return user


def url_from(answer: HttpResponse, *, key: str = "url", what: str = "authorization URL") -> str:
    url: object
    text = answer.body.decode("utf-8", "replace").strip()
    if answer.content_type in _JSON_TYPES or text.startswith(('"', "{")):
        data = json_from(answer)
        url = data.get(key) if isinstance(data, dict) else data
    else:
        url = text
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise UnexpectedResponseError(
            f"the {what} answer held no http(s) URL",
            status=answer.status,
            body=diagnostic(answer.body),
        )
    return url


def error_from(answer: HttpResponse, method: str, template: str) -> Exception:
    if 300 <= answer.status < 400:
        return UnexpectedResponseError(
            f"{method} {template}: the server answered with a redirect (HTTP {answer.status}), "
            "which is not followed: it would carry the session token elsewhere",
            status=answer.status,
        )
    try:
        data = json.loads(answer.body) if answer.body.strip() else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and ("code" in data or "message" in data):
        # Mask before the error is built: the message also lands in args and body, and servers
        # do echo tokens ("Not existing user token - ...").
        if isinstance(data.get("message"), str):
            data["message"] = REDACTOR.redact(data["message"])
        return api_error_for(answer.status, data)
    kind = "an HTML page" if b"<" in answer.body[:64] else "no Backendless error body"
    return UnexpectedResponseError(
        f"{method} {template}: the server answered HTTP {answer.status} with {kind}",
        status=answer.status,
        body=diagnostic(answer.body),
    )


def names_from(answer: HttpResponse, *, what: str) -> list[str]:
    """A JSON list of strings (role names)."""
    data = json_from(answer)
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise UnexpectedResponseError(
            f"the {what} answer is not a list of names",
            status=answer.status,
            body=diagnostic(answer.body),
        )
    return data


def users_from(answer: HttpResponse) -> list[BackendlessUser]:
    """A JSON list of user objects (no session tokens are kept from it)."""
    data = json_from(answer)
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            "the users answer is not a list", status=answer.status, body=diagnostic(answer.body)
        )
    try:
        return [BackendlessUser.from_wire(item).with_token(None) for item in data]
    except InvalidArgumentError as exc:
        raise UnexpectedResponseError(
            f"the users answer holds something that is not a user: {exc}",
            status=answer.status,
            body=diagnostic(answer.body),
        ) from None


def columns_from(answer: HttpResponse) -> list[UserProperty]:
    """The answer of ``users/userclassprops``: a list of column descriptions."""
    data = json_from(answer)
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            "the user class answer is not a list of columns",
            status=answer.status,
            body=diagnostic(answer.body),
        )
    try:
        return [UserProperty.from_wire(item) for item in data]
    except InvalidArgumentError as exc:
        raise UnexpectedResponseError(
            f"the user class answer holds something that is not a column: {exc}",
            status=answer.status,
            body=diagnostic(answer.body),
        ) from None
