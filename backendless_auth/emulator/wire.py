"""The emulator's own JSON and error answers (it never borrows the SDK's codec)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

MAX_BODY = 1024 * 1024


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
    """The JSON body, ``None`` when there is none; 8002 when it does not parse."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(8002, f"Malformed JSON body: {exc}") from None


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
