"""The emulator's own JSON and error answers (it never borrows the SDK's codec)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

MAX_BODY = 1024 * 1024
#: The deepest nesting of arrays and objects a request body may have (Backendless users are flat).
MAX_DEPTH = 32


class ApiError(Exception):
    """A Backendless error answer: ``{"code": int, "message": str}``."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def json_response(value: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(value, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def error_response(code: int, message: str, status: int = 400) -> Response:
    return json_response({"code": code, "message": message}, status=status)


def read_json(request: Request) -> Any:
    """The JSON body, ``None`` when there is none; 8002 when it is not well-formed JSON.

    Well-formed means more than parsing: nesting at most :data:`MAX_DEPTH` deep, and every
    string (keys included) valid Unicode, without the lone surrogates that JSON's ``\\ud800``
    escapes can spell and that SQLite cannot store.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ApiError(8002, f"Malformed JSON body: nested deeper than {MAX_DEPTH}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(8002, f"Malformed JSON body: {exc}") from None
    check_json(value)
    return value


def check_json(value: Any) -> None:
    """Refuse (8002) a decoded JSON value nested too deep or holding a string that is not
    valid Unicode; iterative, so that no input can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ApiError(8002, f"Malformed JSON body: nested deeper than {MAX_DEPTH}")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            8002, "Malformed JSON body: a string holds a lone surrogate (not valid Unicode)"
        ) from None


def json_object(request: Request) -> dict[str, Any]:
    """The body as an object; an absent body is an empty object."""
    value = read_json(request)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(8002, "The request body must be a JSON object")
    return value


def opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(8007, f"Invalid value for parameter '{key}': expected a string")
    return value


def req_str(body: dict[str, Any], key: str) -> str:
    value = opt_str(body, key)
    if not value:
        raise ApiError(8007, f"Missing required parameter '{key}'")
    return value


def opt_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ApiError(8007, f"Invalid value for parameter '{key}': expected a boolean")
    return value


def opt_mapping(body: dict[str, Any], key: str) -> dict[str, str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        raise ApiError(
            8007, f"Invalid value for parameter '{key}': expected an object of non-empty strings"
        )
    return dict(value)


def opt_scope(body: dict[str, Any], key: str, default_scope: str) -> str | None:
    """A scope given as a string, or as a list of strings (the JS SDK's popup flow sends
    ``permissions: []``), joined with the provider's own separator; ``None`` when absent or
    an empty list."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        if not value:
            return None
        return ("," if "," in default_scope else " ").join(value)
    raise ApiError(
        8007, f"Invalid value for parameter '{key}': expected a string or a list of strings"
    )
