"""Reading Backendless's answers: JSON bodies, users, URLs and error answers.

Whatever a server sends, these give a value or one of our errors; a kept body is masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import _limits, _wire
from ._http import HttpResponse
from ._redact import REDACTOR
from .exceptions import InvalidArgumentError, UnexpectedResponseError, api_error_for

if TYPE_CHECKING:
    from ._models import BackendlessUser, UserProperty

T = TypeVar("T")
_JSON_TYPES = frozenset({"application/json", "text/json"})
_KEPT = 2048
_NOT_JSON = object()


def diagnostic(body: bytes) -> bytes:
    """The start of a body, kept on an error for diagnosis, with every secret masked.

    A login answer that cannot be used may still carry a live ``user-token``: the server opened
    a session this process will never adopt. It must not travel on in the exception. Masked
    first, then cut: a secret that straddles the cut is masked whole. (Only the part that can
    reach the kept excerpt is masked: every secret starting in it ends within the longest
    secret's length after it.)
    """
    window = body[: _KEPT + 4 * (REDACTOR.longest + 256)]
    masked = REDACTOR.redact(window.decode("utf-8", "replace")).encode("utf-8")
    return masked[:_KEPT]


def _parse(body: bytes) -> Any:
    """The JSON value of ``body``, or ``_NOT_JSON``; never raises, never recurses unbounded.

    Parsed outside any ``except`` block of the caller, so that the parser's error, whose
    ``doc`` is the whole body (a live token, maybe), is never chained to ours.
    """
    if _limits.json_depth_exceeds(body):
        return _NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


def json_from(answer: HttpResponse) -> Any:
    if not answer.body.strip():
        raise UnexpectedResponseError(
            "the server answered with an empty body", status=answer.status, body=answer.body
        )
    data = _parse(answer.body)
    if data is _NOT_JSON:
        if _limits.json_depth_exceeds(answer.body):
            kind = f"JSON nested deeper than {_limits.MAX_DEPTH} levels"
        elif b"<" in answer.body[:64]:
            kind = "an HTML page"
        else:
            kind = "a body that is not JSON"
        raise UnexpectedResponseError(
            f"the server answered HTTP {answer.status} with {kind} "
            f"({answer.content_type or 'no content type'}); is the app address right?",
            status=answer.status,
            body=diagnostic(answer.body),
        )
    return data


def user_from(answer: HttpResponse, *, need_token: bool) -> BackendlessUser:
    from ._models import BackendlessUser

    data = json_from(answer)
    problem: str | None = None
    try:
        user = BackendlessUser.from_wire(data)
    except InvalidArgumentError as exc:
        problem = exc.message
    if problem is not None:
        if isinstance(data, dict) and isinstance(data.get(_wire.USER_TOKEN), str):
            # A session the server opened and this process refuses: masked wherever it goes.
            REDACTOR.add(data[_wire.USER_TOKEN])
        raise UnexpectedResponseError(
            f"the server answered with something that is not a user: {problem}",
            status=answer.status,
            body=diagnostic(answer.body),
        )
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
    data = _parse(answer.body) if answer.body.strip() else None
    if isinstance(data, dict) and ("code" in data or "message" in data):
        # Mask the whole body before the error is built: the message also lands in args, the
        # body is kept whole, and servers do echo tokens ("Not existing user token - ...") or
        # send a session next to the error.
        return api_error_for(answer.status, REDACTOR.redact_json(data))
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
    from ._models import BackendlessUser

    def user(item: Any) -> BackendlessUser:
        return BackendlessUser.from_wire(item).with_token(None)

    return _items_from(answer, user, "users", "a user")


def columns_from(answer: HttpResponse) -> list[UserProperty]:
    """The answer of ``users/userclassprops``: a list of column descriptions."""
    from ._models import UserProperty

    return _items_from(answer, UserProperty.from_wire, "user class", "a column")


def _items_from(answer: HttpResponse, parse: Callable[[Any], T], what: str, item: str) -> list[T]:
    """A JSON list, each item read by ``parse`` (which raises InvalidArgumentError)."""
    data = json_from(answer)
    problem = None if isinstance(data, list) else "it is not a list"
    items: list[T] = []
    for entry in data if problem is None else ():
        try:
            items.append(parse(entry))
        except InvalidArgumentError as exc:
            problem = f"it holds something that is not {item}: {exc.message}"
            break
    if problem is not None:
        raise UnexpectedResponseError(
            f"the {what} answer is not usable: {problem}",
            status=answer.status,
            body=diagnostic(answer.body),
        )
    return items
