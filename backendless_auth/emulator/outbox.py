"""The emails the emulator would send: kept in an outbox instead of leaving the machine.

Like Firebase's emulator (links printed and listed) and Supabase's local inbucket, every email
lands in the ``outbox`` table, newest last, readable with ``GET /_emulator/outbox`` and
:meth:`Emulator.outbox <backendless_auth.emulator.Emulator.outbox>`. Each email carries the
link a person would click; the link works in a browser (see :mod:`.accounts`).

An email in wire form::

    {"id": 1, "to": "ann@example.com", "kind": "confirmation" | "password-reset",
     "subject": "...", "text": "... the link ...", "link": "http://127.0.0.1:PORT/...",
     "objectId": "...", "sent": 1700000000000}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .db import Database

KINDS = ("confirmation", "password-reset")


@dataclass(frozen=True)
class Email:
    """One email the emulator would have sent."""

    id: int
    to: str
    kind: str
    subject: str
    text: str
    link: str
    object_id: str
    sent: int

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Email:
        return cls(
            id=int(data["id"]),
            to=str(data["to"]),
            kind=str(data["kind"]),
            subject=str(data["subject"]),
            text=str(data["text"]),
            link=str(data["link"]),
            object_id=str(data["objectId"]),
            sent=int(data["sent"]),
        )


_TEMPLATES = {
    "confirmation": (
        "Confirm your email address",
        "Hello,\n\nplease confirm your email address for this app by opening this link:\n\n"
        "{link}\n\nIf you did not register, ignore this email.\n",
    ),
    "password-reset": (
        "Reset your password",
        "Hello,\n\nsomeone asked to reset the password of your account. To choose a new "
        "password, open this link:\n\n{link}\n\nIf it was not you, ignore this email; your "
        "password stays as it is.\n",
    ),
}


class Outbox:
    """The outbox over the emulator's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def send(self, kind: str, to: str, link: str, object_id: str) -> dict[str, Any]:
        subject, body = _TEMPLATES[kind]
        data: dict[str, Any] = {
            "to": to,
            "kind": kind,
            "subject": subject,
            "text": body.format(link=link),
            "link": link,
            "objectId": object_id,
            "sent": int(time.time() * 1000),
        }
        # One statement (no transaction of its own): callers may already be inside one.
        rows = self.db.execute(
            "INSERT INTO outbox (data) VALUES (?) RETURNING id", (json.dumps(data),)
        )
        data["id"] = int(rows[0][0])
        return data

    def list(self, to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, data FROM outbox ORDER BY id")
        out = [{**json.loads(r[1]), "id": int(r[0])} for r in rows]
        if to is not None:
            out = [m for m in out if m["to"].lower() == to.lower()]
        if kind is not None:
            out = [m for m in out if m["kind"] == kind]
        return out

    def clear(self) -> int:
        count = self.db.one("SELECT COUNT(*) FROM outbox")
        self.db.execute("DELETE FROM outbox")
        return int(count[0]) if count else 0
