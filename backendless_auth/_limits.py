"""What an answer may cost: its decoded size, its nesting, and the time a whole call may take.

Transport-independent rules, shared by every transport (the ``requests`` one and any other):
a transport feeds the raw bytes it reads to a :class:`BodyDecoder`, which inflates them in
bounded steps, so that a small compressed answer ("a gzip bomb") never grows in memory past
:data:`MAX_BODY`; and it checks a :class:`Deadline` between reads, so that a server sending one
byte at a time cannot keep a call alive past the read timeout. This module imports nothing from
the package.
"""

from __future__ import annotations

import re
import time
import zlib

MAX_BODY = 1024 * 1024
"""The largest decoded answer body accepted, in bytes (1 MiB). Backendless's answers are a few
kilobytes; anything larger is refused before it is held in memory whole."""

MAX_DEPTH = 64
"""The deepest nesting of JSON arrays and objects accepted in an answer."""

READ_SIZE = 16 * 1024
"""How many raw bytes a transport asks for at a time."""

ACCEPT_ENCODING = "gzip, deflate"
"""The content codings a transport asks for: the ones :class:`BodyDecoder` can bound."""


class BodyTooLarge(Exception):
    """The decoded body grew past the limit (raised by :class:`BodyDecoder`)."""


class UnsupportedEncoding(Exception):
    """The answer's ``Content-Encoding`` is not one :class:`BodyDecoder` decodes."""


class BodyDecoder:
    """Decode an answer's body from its raw bytes, never holding more than ``limit`` decoded.

    Args:
        content_encoding: The answer's ``Content-Encoding`` header (``""`` for none).
        limit: The most decoded bytes accepted.

    Raises:
        UnsupportedEncoding: The coding is neither identity, gzip nor deflate.
    """

    def __init__(self, content_encoding: str, limit: int = MAX_BODY) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._inflaters: list[zlib._Decompress] = []
        # Codings apply in the order listed; they are undone in reverse.
        for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
            if coding in ("", "identity"):
                continue
            if coding in ("gzip", "x-gzip"):
                self._inflaters.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self._inflaters.append(_Deflate())  # type: ignore[arg-type]
            else:
                raise UnsupportedEncoding(coding)

    def feed(self, raw: bytes) -> None:
        """Add raw bytes as read from the connection.

        Raises:
            BodyTooLarge: The decoded body is now larger than the limit.
            zlib.error: The compressed data is corrupt.
        """
        self._push(raw, 0)

    def finish(self) -> bytes:
        """The whole decoded body, once every raw byte was fed."""
        for index, inflater in enumerate(self._inflaters):
            tail = inflater.flush()
            if tail:
                self._push(tail, index + 1)
        return b"".join(self._parts)

    def _push(self, data: bytes, index: int) -> None:
        if index == len(self._inflaters):
            if data:
                self._size += len(data)
                if self._size > self._limit:
                    raise BodyTooLarge(self._limit)
                self._parts.append(data)
            return
        inflater = self._inflaters[index]
        # max_length bounds each step: a bomb is inflated one slice at a time, and the size
        # check between slices stops it long before it fills memory.
        while not inflater.eof:
            piece = inflater.decompress(data, READ_SIZE)
            data = inflater.unconsumed_tail
            if piece:
                self._push(piece, index + 1)
            if not data and len(piece) < READ_SIZE:
                break


class _Deflate:
    """HTTP "deflate": zlib-wrapped data, or (from some servers) raw deflate."""

    def __init__(self) -> None:
        self._inner = zlib.decompressobj()
        self._first = True
        self.unconsumed_tail = b""
        self.eof = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first:
            self._first = False
            try:
                out = self._inner.decompress(data, max_length)
            except zlib.error:
                self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._inner.decompress(data, max_length)
        else:
            out = self._inner.decompress(data, max_length)
        self.unconsumed_tail = self._inner.unconsumed_tail
        self.eof = self._inner.eof
        return out

    def flush(self) -> bytes:
        return self._inner.flush()


class Deadline:
    """A point in time a whole call must end by (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.monotonic() >= self.at


# Strings first (they may hold any bracket), then the brackets themselves.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than ``limit``.

    Checked before parsing: a parser recurses once per level, and so does everything that
    walks, copies or prints the value afterwards. Linear in the size of the body.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKEN.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False
