"""How a user reads in a notebook: ``BackendlessUser._repr_html_``.

Dates as dates, empty cells empty, JSON rather than Python reprs, and the session token never
in clear; whatever columns the server sends (generated)."""

from __future__ import annotations

import datetime
import html
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backendless_auth import BackendlessUser


def _cells(table: str) -> dict[str, str]:
    rows = re.findall(r"<tr><th[^>]*>(.*?)</th><td[^>]*>(.*?)</td></tr>", table)
    return {html.unescape(key): html.unescape(value) for key, value in rows}


def _user(**columns: Any) -> BackendlessUser:
    return BackendlessUser.from_wire({"objectId": "U1", "user-token": "Tok-secret-1", **columns})


def test_dates_empty_cells_and_json() -> None:
    table = _user(
        created=1796193144779,
        updated=1796193144779,
        lastLogin=0,
        email=None,
        name="Ann",
        oAuthIdentities=[],
        ___class="Users",
        flags={"beta": True},
        tags=["a", "b"],
    )._repr_html_()
    cells = _cells(table)
    assert cells["created"] == "2026-12-02 06:32:24 UTC"
    assert cells["lastLogin"] == "1970-01-01 00:00:00 UTC"
    assert cells["email"] == ""
    assert cells["oAuthIdentities"] == ""
    assert cells["name"] == "Ann"
    assert cells["flags"] == '{"beta": true}'
    assert cells["tags"] == '["a", "b"]'
    assert "___class" not in cells
    assert cells["user-token"] == "••••••"
    assert table.startswith("<table>")


def test_no_token_is_an_empty_cell() -> None:
    cells = _cells(BackendlessUser.from_wire({"objectId": "U2"})._repr_html_())
    assert cells["user-token"] == ""


def test_a_date_column_the_sdk_already_parsed_reads_the_same() -> None:
    moment = datetime.datetime(2026, 12, 2, 6, 32, 24, tzinfo=datetime.timezone.utc)
    user = BackendlessUser(object_id="U3", properties={"created": moment})
    assert _cells(user._repr_html_())["created"] == "2026-12-02 06:32:24 UTC"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["created", "updated", "lastLogin", "email", "name", "misc", "nested"]),
        json_values,
    )
)
def test_no_python_repr_none_or_raw_epoch_in_any_table(columns: dict[str, Any]) -> None:
    user = BackendlessUser(object_id="U4", user_token="Tok-secret-4", properties=columns)
    table = user._repr_html_()
    cells = _cells(table)
    assert "Tok-secret-4" not in table
    for column, shown in cells.items():
        if column not in columns or isinstance(columns[column], str):
            continue  # a string column shows as written, whatever it says ("None" included)
        value = columns[column]
        assert shown != "None", column
        if isinstance(value, bool):
            assert shown == str(value).lower(), (column, shown)
        elif isinstance(value, (list, dict)) and value:
            # JSON, not a Python repr: it reads back as the value.
            assert json.loads(shown) == value, (column, shown)
        dated = column in ("created", "updated", "lastLogin") and type(value) is int
        if dated and shown != str(value):  # out of the calendar's range stays a number
            assert shown.endswith(" UTC"), shown
        if value is None or value in ([], {}, ""):
            assert shown == "", (column, shown)
