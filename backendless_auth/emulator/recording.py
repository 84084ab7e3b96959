"""A log of the requests the emulator receives, for tests that compare clients.

``with emu.record_requests() as log:`` collects every request to the Backendless routes (not the
admin routes, nor the fake providers' pages) as :class:`RecordedRequest`, in arrival order. The
log lives in memory only while the block runs; it holds user tokens and provider tokens, so it
is a test tool and never written anywhere.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it.

    Attributes:
        method: ``GET``, ``POST``, ...
        route: the path below the Backendless base (``users/register/guest``), the same for
            both URL forms.
        form: ``"keyed"`` (``/<APP_ID>/<API_KEY>/``) or ``"domain"`` (``/api/``).
        query: the query string's parameters (the first value of a repeated one).
        query_string: the query string as sent, still percent-encoded.
        server: whether it came with the CloudCode key (always keyed).
        headers: every header, names in lower case.
        body: the JSON body decoded, ``None`` when there is none (or the raw text when it is
            not JSON).
    """

    method: str
    route: str
    form: str
    query: dict[str, str] = field(default_factory=dict)
    query_string: str = ""
    server: bool = False
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: Any = field(default=None, repr=False)


class Recorders:
    """The logs being recorded now (several blocks may record at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: list[list[RecordedRequest]] = []

    def __bool__(self) -> bool:
        return bool(self._logs)

    def start(self) -> list[RecordedRequest]:
        log: list[RecordedRequest] = []
        with self._lock:
            self._logs.append(log)
        return log

    def stop(self, log: list[RecordedRequest]) -> None:
        with self._lock:
            self._logs = [other for other in self._logs if other is not log]

    def record(self, request: Request, route: str, form: str, *, server: bool = False) -> None:
        raw = request.get_data(cache=True)
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                body = raw.decode("utf-8", "replace")
        entry = RecordedRequest(
            method=request.method,
            route=route.lstrip("/"),
            form=form,
            query=dict(request.args.items()),
            query_string=request.query_string.decode("latin-1"),
            server=server,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        with self._lock:
            for log in self._logs:
                log.append(entry)
