"""The stored session: what "stay logged in" keeps between runs, and the one reader of its JSON.

A leaf beside :mod:`._models` without attrs (see :mod:`._record`): every token store and every
command of the command line builds one.
"""

from __future__ import annotations

import json
import math
from typing import Any

from . import _checks, _wire
from ._record import field, record


@record
class StoredSession:
    """What "stay logged in" keeps between runs: the session, never the API key.

    The JSON form uses the JS SDK's keys (``user-token``, ``current-user-id``, ``stayLoggedIn``)
    plus ``savedAt`` (epoch seconds). Token stores call :meth:`to_json` and :meth:`from_json`
    so that the format lives in one place.
    """

    user_token: str = field(repr=False)
    user_id: str | None
    stay_logged_in: bool = True
    saved_at: float = 0.0

    def to_json(self) -> str:
        """Encode the session as a JSON text."""
        return json.dumps(
            {
                _wire.STORED_TOKEN: self.user_token,
                _wire.STORED_USER_ID: self.user_id,
                _wire.STORED_STAY: self.stay_logged_in,
                _wire.STORED_SAVED_AT: self.saved_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> StoredSession:
        """Decode a session written by :meth:`to_json`; whatever else it is given is refused.

        Any value at all may come in (a store holds whatever was left in it): bytes that are
        not UTF-8, more than 1 MiB, JSON nested 100,000 deep, ``NaN``, numbers too large for a
        float, another shape, a token that could not be sent as a header. Each gives a
        ``ValueError`` whose message says why and never quotes the value, with no exception
        chained to it (a JSON decoding error would keep the whole text, token included).

        Raises:
            ValueError: The value is not a stored session.
        """
        reason = _session_problem(text)
        if isinstance(reason, str):
            raise ValueError(reason)
        return reason


# Far beyond any real session (about 150 bytes); refused before decoding anything.
MAX_STORED_BYTES = 1 << 20
_MAX_FIELD = 4096


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a session holds")


def _session_problem(text: object) -> StoredSession | str:
    """The session ``text`` holds, or why it holds none; never raises, never quotes ``text``."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        if len(text) > MAX_STORED_BYTES:
            return "too large to be a session"
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return "not UTF-8 text"
    if not isinstance(text, str):
        return f"a stored session is text, not {type(text).__name__}"
    if len(text) > MAX_STORED_BYTES:
        return "too large to be a session"
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        return "JSON nested too deeply to be a session"
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at character {exc.pos})"
    except ValueError as exc:
        # parse_constant (NaN, Infinity) and integers beyond the interpreter's digit limit.
        return f"not a session's JSON ({str(exc)[:100]})"
    if not isinstance(data, dict):
        return "a stored session is a JSON object"
    token = data.get(_wire.STORED_TOKEN)
    user_id = data.get(_wire.STORED_USER_ID)
    stay = data.get(_wire.STORED_STAY, True)
    saved_at = data.get(_wire.STORED_SAVED_AT, 0.0)
    if not isinstance(token, str) or not token:
        return "a stored session needs a non-empty user token"
    if not _checks.is_user_token(token):
        # Sent as the user-token header on every call: a token no header can carry would make
        # every later call fail, so it is no session.
        return "a stored session's user token is not one a header can carry"
    if user_id is not None and (
        not isinstance(user_id, str)
        or len(user_id) > _MAX_FIELD
        or not user_id.isprintable()
        or not _utf8(user_id)
    ):
        return "a stored session's user id is printable text"
    if not isinstance(stay, bool):
        return "a stored session's stayLoggedIn is a boolean"
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)):
        return "a stored session's savedAt is a number"
    try:
        seconds = float(saved_at)
    except OverflowError:
        return "a stored session's savedAt is out of range"
    if not math.isfinite(seconds):
        return "a stored session's savedAt is out of range"
    return StoredSession(user_token=token, user_id=user_id, stay_logged_in=stay, saved_at=seconds)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
