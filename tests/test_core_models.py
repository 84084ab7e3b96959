"""BackendlessUser and StoredSession: wire round trips, datetimes, read-only columns, no secrets."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest

from backendless_auth import BackendlessUser, InvalidArgumentError, StoredSession

TOKEN = "user-session-token-0001"

WIRE: dict[str, Any] = {
    "___class": "Users",
    "objectId": "A1B2-C3",
    "ownerId": "A1B2-C3",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "userStatus": "ENABLED",
    "created": 1_700_000_000_123,
    "updated": None,
    "lastLogin": 1_700_000_500_000,
    "socialAccount": "GOOGLE_PLUS",
    "accountType": "GOOGLE_PLUS",
    "oAuthIdentities": [{"providerCode": "google"}],
    "blUserLocale": "en",
    "favourite_colour": "green",
    "score": 42,
    "user-token": TOKEN,
}


def test_from_wire_reads_every_column() -> None:
    user = BackendlessUser.from_wire(WIRE)

    assert user.object_id == "A1B2-C3"
    assert user.email == "ada@example.com"
    assert user.name == "Ada Lovelace"
    assert user.user_status == "ENABLED"
    assert user.social_account == "GOOGLE_PLUS"
    assert user.user_token == TOKEN
    assert not user.is_guest
    assert user["favourite_colour"] == "green"
    assert user["score"] == 42
    assert user["oAuthIdentities"] == [{"providerCode": "google"}]
    assert "blUserLocale" in user
    assert "missing" not in user
    with pytest.raises(KeyError):
        user["missing"]


def test_token_is_not_a_column() -> None:
    user = BackendlessUser.from_wire(WIRE)

    assert "user-token" not in user.properties
    assert "user-token" not in user
    assert TOKEN not in json.dumps(dict(user.properties))


def test_datetimes_are_aware_utc() -> None:
    user = BackendlessUser.from_wire(WIRE)

    assert user.created == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.timezone.utc)
    assert user.created is not None
    assert user.created.utcoffset() == dt.timedelta(0)
    assert user.last_login == dt.datetime.fromtimestamp(1_700_000_500, tz=dt.timezone.utc)
    assert user.updated is None


def test_absent_columns_are_none() -> None:
    user = BackendlessUser.from_wire({"objectId": "x"})

    assert user.email is None
    assert user.name is None
    assert user.user_status is None
    assert user.social_account is None
    assert user.created is None
    assert user.updated is None
    assert user.last_login is None
    assert user.user_token is None


def test_round_trip() -> None:
    user = BackendlessUser.from_wire(WIRE)
    wire = user.to_wire()

    assert wire == WIRE
    assert wire["___class"] == "Users"
    assert BackendlessUser.from_wire(wire) == user


def test_round_trip_without_token_or_class() -> None:
    data = {"objectId": "g1", "userStatus": "GUEST", "created": 1_600_000_000_000}
    user = BackendlessUser.from_wire(data)

    assert user.to_wire() == {**data, "___class": "Users"}
    assert BackendlessUser.from_wire(user.to_wire()) == user


def test_to_wire_is_a_fresh_dict() -> None:
    user = BackendlessUser.from_wire(WIRE)
    wire = user.to_wire()
    wire["email"] = "changed@example.com"

    assert user.email == "ada@example.com"
    assert user["email"] == "ada@example.com"


def test_hand_built_user_shows_its_columns() -> None:
    created = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    user = BackendlessUser(
        object_id="g1", user_status="GUEST", email="g@example.com", created=created
    )

    assert user.is_guest
    assert user["userStatus"] == "GUEST"
    assert user["email"] == "g@example.com"
    assert user.to_wire() == {
        "___class": "Users",
        "objectId": "g1",
        "userStatus": "GUEST",
        "email": "g@example.com",
        "created": 1_704_164_645_000,
    }
    assert BackendlessUser.from_wire(user.to_wire()) == user


def test_evolved_user_keeps_columns_in_step() -> None:
    user = BackendlessUser.from_wire(WIRE)
    renamed = attrs.evolve(user, name="Countess")

    assert renamed["name"] == "Countess"
    assert renamed.to_wire()["name"] == "Countess"
    assert renamed["favourite_colour"] == "green"


def test_token_given_in_properties_is_dropped() -> None:
    user = BackendlessUser(object_id="x", properties={"user-token": TOKEN, "a": 1})

    assert "user-token" not in user.properties
    assert user.to_wire() == {"___class": "Users", "objectId": "x", "a": 1}
    assert TOKEN not in user._repr_html_()


def test_with_token() -> None:
    user = BackendlessUser.from_wire({"objectId": "x", "email": "e@example.com"})
    carrying = user.with_token(TOKEN)

    assert carrying.user_token == TOKEN
    assert user.user_token is None
    assert carrying.to_wire()["user-token"] == TOKEN
    assert carrying.properties == user.properties


def test_properties_are_read_only() -> None:
    source = dict(WIRE)
    user = BackendlessUser.from_wire(source)
    source["email"] = "changed@example.com"

    assert user["email"] == "ada@example.com"
    with pytest.raises(TypeError):
        user.properties["email"] = "x"  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        user.email = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "guest"),
    [("GUEST", True), ("ENABLED", False), ("DISABLED", False), ("guest", False), (None, False)],
)
def test_is_guest(status: str | None, guest: bool) -> None:
    assert BackendlessUser.from_wire({"objectId": "x", "userStatus": status}).is_guest is guest


def test_equal_users_hash_alike() -> None:
    first = BackendlessUser.from_wire(WIRE)
    second = BackendlessUser.from_wire(dict(WIRE))

    assert first == second
    assert hash(first) == hash(second)
    assert first != first.with_token("another-token-0002")


@pytest.mark.parametrize(
    ("data", "column"),
    [
        ({}, "objectId"),
        ({"objectId": ""}, "objectId"),
        ({"objectId": 7}, "objectId"),
        ({"objectId": None}, "objectId"),
        ({"objectId": "x", "email": 5}, "email"),
        ({"objectId": "x", "name": ["a"]}, "name"),
        ({"objectId": "x", "userStatus": True}, "userStatus"),
        ({"objectId": "x", "user-token": 5}, "user-token"),
        ({"objectId": "x", "created": "2024-01-01"}, "created"),
        ({"objectId": "x", "updated": True}, "updated"),
        ({"objectId": "x", "lastLogin": float("nan")}, "lastLogin"),
        ({"objectId": "x", "created": 10**30}, "created"),
    ],
)
def test_from_wire_refuses_malformed_users(data: dict[str, Any], column: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        BackendlessUser.from_wire(data)

    assert info.value.argument == column


@pytest.mark.parametrize("data", [None, "user", ["objectId", "x"], 42])
def test_from_wire_refuses_non_mappings(data: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        BackendlessUser.from_wire(data)


def test_repr_and_str_never_show_the_token() -> None:
    user = BackendlessUser.from_wire(WIRE)

    for text in (repr(user), str(user), f"{user}", f"{user!r}", repr([user]), repr({"u": user})):
        assert TOKEN not in text
    assert "A1B2-C3" in repr(user)
    assert "ada@example.com" in repr(user)


def test_pretty_repr_never_shows_the_token() -> None:
    pretty = pytest.importorskip("IPython.lib.pretty")
    user = BackendlessUser.from_wire(WIRE)

    text = pretty.pretty(user)

    assert TOKEN not in text
    assert "A1B2-C3" in text


def test_html_repr_masks_token_and_escapes() -> None:
    user = BackendlessUser.from_wire(
        {
            "objectId": "x<1>",
            "name": "<script>alert('pwned')</script>",
            "bio": "a & b",
            "user-token": TOKEN,
        }
    )

    page = user._repr_html_()

    assert TOKEN not in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "x&lt;1&gt;" in page
    assert "a &amp; b" in page
    assert "user-token" in page


def test_html_repr_without_token() -> None:
    page = BackendlessUser.from_wire({"objectId": "x"})._repr_html_()

    # No token: an empty cell, not a placeholder.
    assert "<th style='text-align:left'>user-token</th><td style='text-align:left'></td>" in page


# --- StoredSession ---------------------------------------------------------------------------


def test_stored_session_json_uses_the_js_sdk_keys() -> None:
    session = StoredSession(user_token=TOKEN, user_id="u1", stay_logged_in=True, saved_at=12.5)

    data = json.loads(session.to_json())

    assert data == {
        "user-token": TOKEN,
        "current-user-id": "u1",
        "stayLoggedIn": True,
        "savedAt": 12.5,
    }
    assert StoredSession.from_json(session.to_json()) == session
    assert StoredSession.from_json(session.to_json().encode()) == session


def test_stored_session_defaults() -> None:
    session = StoredSession.from_json(json.dumps({"user-token": TOKEN, "current-user-id": None}))

    assert session.user_id is None
    assert session.stay_logged_in is True
    assert session.saved_at == 0.0


def test_stored_session_repr_hides_the_token() -> None:
    session = StoredSession(user_token=TOKEN, user_id="u1")

    assert TOKEN not in repr(session)
    assert TOKEN not in str(session)
    assert "u1" in repr(session)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        "null",
        json.dumps({}),
        json.dumps({"user-token": ""}),
        json.dumps({"user-token": 5}),
        json.dumps({"user-token": TOKEN, "current-user-id": 5}),
        json.dumps({"user-token": TOKEN, "stayLoggedIn": "yes"}),
        json.dumps({"user-token": TOKEN, "savedAt": "now"}),
        json.dumps({"user-token": TOKEN, "savedAt": True}),
        b"\xff\xfe",
    ],
)
def test_stored_session_refuses_corrupt_text(text: str | bytes) -> None:
    with pytest.raises(ValueError) as info:
        StoredSession.from_json(text)

    assert TOKEN not in str(info.value)
