"""Programmable faults: slow answers, dropped connections and 502/503 errors.

A :class:`Fault` matches requests by an optional regular expression searched in the path and an
optional method, and fires for its next ``count`` matching requests (``None``: until cleared).
Admin routes (``/_emulator/...``) are never faulted, so a test can always clear them.

Kinds:

* ``"delay"`` – wait ``delay`` seconds, then answer normally;
* ``"reset"`` – send the status line, headers and part of the body, then reset the TCP
  connection (the client sees a connection error mid-response);
* ``"error"`` – answer ``status`` (502 or 503 by default 503) with
  ``{"code": <status>, "message": "..."}``.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["delay", "reset", "error"]
KINDS = ("delay", "reset", "error")
_ids = itertools.count(1)


class FaultError(ValueError):
    """A fault definition is invalid."""


@dataclass
class Fault:
    """One programmed fault."""

    kind: FaultKind
    path: str | None = None
    method: str | None = None
    count: int | None = 1
    delay: float = 1.0
    status: int = 503
    id: int = field(default_factory=lambda: next(_ids))
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.count is not None and (not isinstance(self.count, int) or self.count < 1):
            raise FaultError("count must be a positive integer or None")
        if not isinstance(self.delay, (int, float)) or not 0 <= self.delay <= 60:
            raise FaultError("delay must be between 0 and 60 seconds")
        if self.kind == "error" and self.status not in (500, 502, 503, 504, 429):
            raise FaultError("status must be one of 429, 500, 502, 503, 504")
        if self.path is not None:
            try:
                self._pattern = re.compile(self.path)
            except re.error as exc:
                raise FaultError(f"invalid path pattern: {exc}") from None
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self._pattern.search(path) is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "method": self.method,
            "count": self.count,
            "delay": self.delay,
            "status": self.status,
            "fired": self.fired,
        }


class FaultBox:
    """The emulator's list of active faults, safe across request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counted as fired."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.fired += 1
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def fault_from_json(data: Any) -> Fault:
    if not isinstance(data, dict):
        raise FaultError("a fault must be a JSON object")
    allowed = {"kind", "path", "method", "count", "delay", "status"}
    if set(data) - allowed:
        raise FaultError(f"unknown fault keys: {', '.join(sorted(set(data) - allowed))}")
    kind = data.get("kind")
    path, method = data.get("path"), data.get("method")
    if not isinstance(kind, str):
        raise FaultError("kind is required")
    if path is not None and not isinstance(path, str):
        raise FaultError("path must be a string")
    if method is not None and not isinstance(method, str):
        raise FaultError("method must be a string")
    count = data.get("count", 1)
    delay = data.get("delay", 1.0)
    status = data.get("status", 503)
    if isinstance(count, bool) or (count is not None and not isinstance(count, int)):
        raise FaultError("count must be an integer or null")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise FaultError("delay must be a number")
    if isinstance(status, bool) or not isinstance(status, int):
        raise FaultError("status must be an integer")
    return Fault(kind, path=path, method=method, count=count, delay=float(delay), status=status)  # type: ignore[arg-type]
