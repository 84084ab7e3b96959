"""Checks of the arguments that carry a user: ``guest_user=``, a registration, an update.

Each runs before any request is built and raises
:class:`~backendless_auth.exceptions.InvalidArgumentError` naming the argument; what JSON cannot
encode is refused here, not by the encoder halfway through a send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _checks as checks
from . import _wire
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from ._models import BackendlessUser


def guest_user(guest_user: object) -> BackendlessUser:
    """The ``guest_user=`` argument of a login, checked (no I/O; also for pre-checks)."""
    from ._models import BackendlessUser  # an attrs class: imported where a user is built

    if isinstance(guest_user, BackendlessUser):
        user = guest_user
    elif isinstance(guest_user, Mapping):
        try:
            user = BackendlessUser.from_wire(guest_user)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(
                f"guest_user is not a user object: {exc}", argument="guest_user"
            ) from None
    else:
        raise InvalidArgumentError(
            f"guest_user must be a BackendlessUser or a user mapping, not "
            f"{type(guest_user).__name__}",
            argument="guest_user",
        )
    if not user.is_guest:
        raise InvalidArgumentError(
            f"guest_user must be a guest (userStatus GUEST), not {user.user_status!r}",
            argument="guest_user",
        )
    encodable(user.to_wire(), "guest_user")
    return user


def encodable(value: Mapping[str, Any], argument: str) -> None:
    """Refuse what JSON cannot carry (a date, a set, a tuple key, a cycle, NaN) before sending.

    Raised outside the ``except`` block: the encoder's error stays off the chain (a body may
    hold a password).
    """
    reason: str | None = None
    try:
        json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, TypeError) else type(exc).__name__
        if isinstance(exc, ValueError) and "ircular" in str(exc):
            reason = "a circular reference"
        elif isinstance(exc, ValueError):
            reason = "NaN or infinity"
        elif isinstance(exc, RecursionError):
            reason = "nesting too deep"
    if reason is not None:
        raise InvalidArgumentError(
            f"{argument} holds a value JSON cannot encode ({reason})", argument=argument
        )


def user_body(user: object, argument: str, *, need_object_id: bool) -> dict[str, Any]:
    """The JSON body of a registration or an update: the user's columns, checked.

    A :class:`BackendlessUser` gives its columns with ``___class: "Users"`` (as the JS SDK
    sends a ``Backendless.User``); a mapping is sent as given. ``user-token`` never goes in.
    """
    from ._models import BackendlessUser

    if isinstance(user, BackendlessUser):
        columns: dict[str, Any] = user.to_wire()
    elif isinstance(user, Mapping):
        columns = dict(user)
    else:
        raise InvalidArgumentError(
            f"{argument} must be a BackendlessUser or a mapping of columns, not "
            f"{type(user).__name__}",
            argument=argument,
        )
    for key in columns:
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(
                f"{argument}: every column name must be a non-empty string, not {key!r}",
                argument=argument,
            )
    columns.pop(_wire.USER_TOKEN, None)
    if need_object_id:
        object_id = columns.get(_wire.OBJECT_ID)
        if not isinstance(object_id, str) or not object_id.strip():
            raise InvalidArgumentError(
                f"{argument} needs its objectId (a non-empty string) to say which user to update",
                argument=argument,
            )
        checks.text(object_id, "objectId")
    else:
        if _wire.PASSWORD not in columns:
            raise InvalidArgumentError(f"{argument} must hold a 'password'", argument="password")
        if not columns.keys() - {_wire.PASSWORD, _wire.LOCALE, _wire.CLASS, _wire.OBJECT_ID}:
            raise InvalidArgumentError(
                f"{argument} must hold the identity column too ('email' unless the console "
                "names another)",
                argument=argument,
            )
    encodable(columns, argument)
    return columns
