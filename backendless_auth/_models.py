"""The user and the stored session, as attrs classes. Secrets are kept out of every repr."""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from . import _checks, _wire
from ._redact import REDACTOR
from .exceptions import InvalidArgumentError

_UTC = _dt.timezone.utc
_MASK = "••••••"


def _epoch_ms(value: Any, column: str) -> _dt.datetime | None:
    """Read a Backendless timestamp (epoch milliseconds, or null) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgumentError(
            f"user column {column!r} must be epoch milliseconds or null, "
            f"not {type(value).__name__}",
            argument=column,
        )
    try:
        return _dt.datetime.fromtimestamp(value / 1000, tz=_UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidArgumentError(
            f"user column {column!r} is out of range", argument=column
        ) from exc


def _optional_str(data: Mapping[str, Any], column: str) -> str | None:
    value = data.get(column)
    if value is None or isinstance(value, str):
        return value
    raise InvalidArgumentError(
        f"user column {column!r} must be a string or null, not {type(value).__name__}",
        argument=column,
    )


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen(eq=True)
class BackendlessUser:
    """A Backendless user, as the server returned it.

    Build one from wire data with :meth:`from_wire`. Every column, custom ones too, is in
    :attr:`properties` and reachable as ``user["column"]``. The session token is kept in
    :attr:`user_token` and never shown by ``repr`` or ``str``.
    """

    object_id: str
    email: str | None = None
    name: str | None = None
    user_status: str | None = None
    social_account: str | None = None
    created: _dt.datetime | None = None
    updated: _dt.datetime | None = None
    last_login: _dt.datetime | None = None
    user_token: str | None = attrs.field(default=None, repr=False)
    properties: Mapping[str, Any] = attrs.field(
        factory=dict,
        repr=False,
        hash=False,
        converter=_frozen_mapping,
    )

    def __attrs_post_init__(self) -> None:
        # The typed attributes are columns too. Without this, a user built by hand or changed
        # with attrs.evolve() would hide them from properties and to_wire(): a guest passed as
        # guest_user= would be sent without its userStatus. The token never goes in.
        columns = {key: value for key, value in self.properties.items() if key != _wire.USER_TOKEN}
        columns.setdefault(_wire.CLASS, _wire.USERS_CLASS)
        columns[_wire.OBJECT_ID] = self.object_id
        for column, text in (
            (_wire.EMAIL, self.email),
            (_wire.NAME, self.name),
            (_wire.USER_STATUS, self.user_status),
            (_wire.SOCIAL_ACCOUNT, self.social_account),
        ):
            if text is not None:
                columns[column] = text
        for column, moment in (
            (_wire.CREATED, self.created),
            (_wire.UPDATED, self.updated),
            (_wire.LAST_LOGIN, self.last_login),
        ):
            if moment is not None:
                millis = round(moment.timestamp() * 1000)
                # Compared as numbers: parsing the column again would cost a datetime per login.
                current = columns.get(column)
                same = (
                    isinstance(current, (int, float))
                    and math.isfinite(current)
                    and round(current) == millis
                )
                if not same:
                    columns[column] = millis
        object.__setattr__(self, "properties", MappingProxyType(columns))
        if self.user_token is not None:
            # Masked in every log record for as long as this user (the current one, say) lives.
            REDACTOR.pin(self, self.user_token)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BackendlessUser:
        """Build a user from a Backendless user object.

        Args:
            data: The decoded JSON user object (``objectId``, ``email``, ..., ``user-token``).

        Returns:
            The user. ``user-token`` becomes :attr:`user_token` and is not kept in
            :attr:`properties`.

        Raises:
            InvalidArgumentError: ``data`` is not a user object (no string ``objectId``, a
                column of the wrong type, a ``user-token`` that is not a valid header value).
        """
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(
                f"a user object must be a mapping, not {type(data).__name__}", argument="data"
            )
        object_id = data.get(_wire.OBJECT_ID)
        if not isinstance(object_id, str) or not object_id:
            raise InvalidArgumentError(
                "a user object needs a non-empty string 'objectId'", argument=_wire.OBJECT_ID
            )
        token = _optional_str(data, _wire.USER_TOKEN)
        if token and not _checks.is_user_token(token):
            # Refused where it enters: stored, it would break every later call (and a foreign
            # error's repr would show it).
            raise InvalidArgumentError(
                f"a user object's 'user-token' must be {_checks.USER_TOKEN_RULE}",
                argument=_wire.USER_TOKEN,
            )
        columns = {key: value for key, value in data.items() if key != _wire.USER_TOKEN}
        return cls(
            object_id=object_id,
            email=_optional_str(data, _wire.EMAIL),
            name=_optional_str(data, _wire.NAME),
            user_status=_optional_str(data, _wire.USER_STATUS),
            social_account=_optional_str(data, _wire.SOCIAL_ACCOUNT),
            created=_epoch_ms(data.get(_wire.CREATED), _wire.CREATED),
            updated=_epoch_ms(data.get(_wire.UPDATED), _wire.UPDATED),
            last_login=_epoch_ms(data.get(_wire.LAST_LOGIN), _wire.LAST_LOGIN),
            user_token=token or None,
            properties=columns,
        )

    def to_wire(self) -> dict[str, Any]:
        """Return the user object as Backendless spells it, with ``___class: "Users"``.

        This is what ``guest_user=`` sends: every column, plus ``user-token`` when known.
        """
        wire: dict[str, Any] = dict(self.properties)
        wire[_wire.CLASS] = _wire.USERS_CLASS
        wire[_wire.OBJECT_ID] = self.object_id
        if self.user_token is not None:
            wire[_wire.USER_TOKEN] = self.user_token
        return wire

    @property
    def is_guest(self) -> bool:
        """Whether this is a guest user (``userStatus`` is ``GUEST``)."""
        return self.user_status == _wire.GUEST_STATUS

    def __getitem__(self, column: str) -> Any:
        return self.properties[column]

    def __contains__(self, column: object) -> bool:
        return column in self.properties

    def with_token(self, user_token: str | None) -> BackendlessUser:
        """Return a copy of this user carrying ``user_token``."""
        return attrs.evolve(self, user_token=user_token)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if not cycle else "BackendlessUser(...)")

    def _repr_html_(self) -> str:
        """The user as a two-column table for notebooks: dates as dates, empty cells empty.

        Backendless's date columns (epoch milliseconds) show as UTC date and time, lists and
        objects as compact JSON, ``None`` and empty lists as nothing; the session token as
        ``••••••``, never in clear.
        """
        import html  # notebooks only

        rows: list[tuple[str, Any]] = [("objectId", self.object_id)]
        rows += [
            (key, value)
            for key, value in sorted(self.properties.items())
            if key not in (_wire.OBJECT_ID, _wire.CLASS)
        ]
        rows.append((_wire.USER_TOKEN, _MASK if self.user_token else None))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
            f"<td style='text-align:left'>{html.escape(_cell(key, value))}</td></tr>"
            for key, value in rows
        )
        return f"<table><caption>BackendlessUser</caption>{body}</table>"


# Backendless's own date columns: epoch milliseconds on the wire.
_DATE_COLUMNS = frozenset({"created", "updated", "lastLogin"})


def _cell(column: str, value: Any) -> str:
    """How a column's value reads in a table cell."""
    datetime = _dt
    if value is None or value == [] or value == {} or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
            return str(value.strftime("%Y-%m-%d %H:%M:%S UTC"))
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, datetime.date):
        return str(value.isoformat())
    if isinstance(value, bool):
        return "true" if value else "false"
    if column in _DATE_COLUMNS and isinstance(value, (int, float)):
        try:
            moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return str(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    return str(value)


@attrs.frozen
class UserProperty:
    """One column of the Users table, as ``describe_user_class()`` reports it.

    Build one from wire data with :meth:`from_wire`. What Backendless sends beside the typed
    attributes stays in :attr:`properties`.

    Attributes:
        name: The column's name, e.g. ``"email"``.
        type: Backendless's data type: ``"STRING"``, ``"INT"``, ``"DATETIME"``, ...
        required: Whether a registration must give it a value.
        identity: Whether it is the identity column (what ``login`` matches).
        default: The column's default value, or ``None``.
        related_table: For a relation column, the table it points to.
        custom_regex: The pattern values must match, when the console sets one.
        auto_load: For a relation column, whether it loads with the user.
        primary_key: Whether the column is the primary key (``objectId``).
    """

    name: str
    type: str
    required: bool = False
    identity: bool = False
    default: Any = None
    related_table: str | None = None
    custom_regex: str | None = None
    auto_load: bool = False
    primary_key: bool = False
    properties: Mapping[str, Any] = attrs.field(
        factory=dict, repr=False, eq=False, hash=False, converter=_frozen_mapping
    )

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> UserProperty:
        """Build a column description from one item of ``GET users/userclassprops``.

        Raises:
            InvalidArgumentError: ``data`` is not a column description (no string ``name`` and
                ``type``, or a field of the wrong type).
        """
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(
                f"a column description must be a mapping, not {type(data).__name__}",
                argument="data",
            )
        name, kind = data.get("name"), data.get("type")
        if not isinstance(name, str) or not name or not isinstance(kind, str) or not kind:
            raise InvalidArgumentError(
                "a column description needs a non-empty string 'name' and 'type'",
                argument="name",
            )

        def flag(key: str) -> bool:
            value = data.get(key)
            if value is None:
                return False
            if not isinstance(value, bool):
                raise InvalidArgumentError(
                    f"column {name!r}: {key!r} must be true, false or null", argument=key
                )
            return value

        return cls(
            name=name,
            type=kind,
            required=flag("required"),
            identity=flag("identity"),
            default=data.get("defaultValue"),
            related_table=_optional_str(data, "relatedTable"),
            custom_regex=_optional_str(data, "customRegex"),
            auto_load=flag("autoLoad"),
            primary_key=flag("isPrimaryKey"),
            properties=data,
        )
