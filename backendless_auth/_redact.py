"""Keep secrets out of log records, ours and those of the libraries we drive.

urllib3 logs every request line at DEBUG, and the Backendless API key is part of every path
(as is the user token of ``users/isvalidusertoken/<token>``); requests-oauthlib logs tokens and
codes at DEBUG. A :class:`logging.Filter` on those loggers replaces every secret this process
has handed to the SDK with a mask before any handler sees the record.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import logging
import re
import threading
import weakref
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
_MAX_SECRETS = 4096
# Values that follow these keys are secrets even when this process was never handed them:
# requests-oauthlib logs a provider's whole token answer (access token, refresh token, OAuth1
# token secret) before the SDK can read it. Matches JSON, dict reprs, form bodies, OAuth
# headers and oauthlib's ('key', 'value') pairs; a value shorter than 6 characters
# (``"code": 3064``) is left alone.
_SECRET_KEYS = (
    "access_token",
    "refresh_token",
    "id_token",
    "oauth_token",
    "oauth_token_secret",
    "oauth_verifier",
    "oauth_signature",
    "code",
    "code_verifier",
    "client_secret",
    "userToken",
    "user-token",
    "accessToken",
    "accessTokenSecret",
)
_SECRET_KEY_SET = frozenset(_SECRET_KEYS) - {"code"}
_KEYS = "|".join(_SECRET_KEYS)


# Compiled on first use, not on import: most processes (a shell loop's `backendless-auth token`)
# never mask a text, and the two patterns cost most of this module's import.
@functools.cache
def _keyed_secret() -> re.Pattern[str]:
    return re.compile(
        r"""((?:["']?\b(?:""" + _KEYS + r""")\b["']?\s*[:=]\s*|["'](?:""" + _KEYS + r""")["']\s*,"""
        r"""\s*)b?["']?)[^"'&\s,;}{)\][]{6,}"""
    )


# Loggers that are known to write request lines, URLs or token bodies at DEBUG.
# A filter on a logger sees only the records made by that logger, not its children's: each
# module that logs is named.
THIRD_PARTY_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.poolmanager",
    "requests_oauthlib.oauth2_session",
    "requests_oauthlib.oauth1_session",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth2_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth2.rfc6749",
    "oauthlib.oauth2.rfc6749.parameters",
    "oauthlib.oauth2.rfc6749.clients.base",
)


def encodings(secret: str) -> set[str]:
    """Every spelling a secret takes on the wire and in logs, the secret itself included.

    Percent-encoded (``quote`` as paths are built, ``quote_plus`` as forms are; upper- and
    lower-case hex), JSON-escaped (``ensure_ascii`` on and off, ``/`` escaped or not) and as
    Python shows it in a repr. No secret of this SDK travels base64-encoded (no HTTP Basic
    authentication is used), so base64 is not among them.
    """
    found = {secret}
    try:
        percent = [quote(secret, safe=""), quote(secret), quote_plus(secret)]
    except UnicodeEncodeError:  # a lone surrogate: it never reaches a URL unchanged
        percent = []
    for encoded in percent:
        found.add(encoded)
        found.add(_percent().sub(lambda match: match.group().lower(), encoded))
    for escaped in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]):
        found.add(escaped)
        found.add(escaped.replace("/", "\\/"))
    found.add(repr(secret)[1:-1])
    with contextlib.suppress(UnicodeEncodeError):
        found.add(repr(secret.encode("utf-8"))[2:-1])
    return {text for text in found if len(text) >= _MIN_LENGTH}


@functools.cache
def _percent() -> re.Pattern[str]:
    return re.compile(r"%[0-9A-F]{2}")


_MIN_LENGTH = 6


class Pin:
    """Keeps secrets masked for as long as this object is alive (see :meth:`SecretRedactor.pin`)."""

    __slots__ = ("__weakref__", "_secrets")

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._secrets = secrets

    def __repr__(self) -> str:
        return f"Pin({len(self._secrets)} secrets)"


class SecretRedactor(logging.Filter):
    """Replace known secrets in a record's message (and arguments) with a mask.

    Two kinds of secrets: *pinned* ones (an app's API key, a service's current session token)
    stay masked for as long as the object that pinned them lives; the others (tokens that went
    by: earlier sessions, provider tokens, codes) are kept up to 4096, the oldest forgotten
    first, so that memory stays bounded in a process that logs in forever.
    """

    def __init__(self, limit: int = _MAX_SECRETS) -> None:
        super().__init__()
        self._limit = limit
        self._lock = threading.Lock()
        self._secrets: dict[str, None] = {}  # not pinned, oldest first
        self._pinned: dict[str, int] = {}  # secret -> number of live pins
        self._variants: dict[str, int] = {}  # spelling -> number of secrets that have it
        self._by_prefix: dict[str, set[str]] = {}
        self._longest = 0
        # Filled by garbage collection, which may run anywhere (even inside a locked block of
        # this thread): emptied under the lock at the next call.
        self._released: collections.deque[tuple[str, ...]] = collections.deque()
        self._installed: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        """Remember secrets to mask; strings shorter than 6 characters are too common to mask."""
        with self._lock:
            self._settle()
            for secret in secrets:
                if not secret or len(secret) < _MIN_LENGTH or secret in self._pinned:
                    continue
                if secret in self._secrets:
                    # Seen again: it is in use; forget others first.
                    self._secrets[secret] = self._secrets.pop(secret)
                    continue
                self._secrets[secret] = None
                self._index(secret, +1)
            self._settle()

    def pin(self, owner: object, *secrets: str | None) -> Pin:
        """Mask ``secrets`` for as long as ``owner`` lives, however many others come by.

        Args:
            owner: Any object that can be weakly referenced (an app, a session); when it is
                garbage collected, its secrets join the bounded pool of the others.
            secrets: The secrets; ``None`` and short strings are skipped.

        Returns:
            The pin, also kept alive by ``owner``'s lifetime; nothing to do with it.
        """
        kept = tuple(s for s in secrets if s and len(s) >= _MIN_LENGTH)
        pin = Pin(kept)
        with self._lock:
            self._settle()
            for secret in kept:
                if secret in self._secrets:
                    del self._secrets[secret]
                elif secret not in self._pinned:
                    self._index(secret, +1)
                self._pinned[secret] = self._pinned.get(secret, 0) + 1
        weakref.finalize(owner, self._released.append, kept)
        return pin

    def _settle(self) -> None:
        """Unpin the secrets of owners that are gone (called with the lock held)."""
        while self._released:
            for secret in self._released.popleft():
                count = self._pinned.get(secret, 0) - 1
                if count > 0:
                    self._pinned[secret] = count
                    continue
                # Still masked for a while: it joins the bounded pool as its newest member.
                self._pinned.pop(secret, None)
                self._secrets[secret] = None
        while len(self._secrets) > self._limit:
            oldest = next(iter(self._secrets))
            del self._secrets[oldest]
            self._index(oldest, -1)

    def _index(self, secret: str, delta: int) -> None:
        for variant in encodings(secret):
            count = self._variants.get(variant, 0) + delta
            prefix = variant[:_MIN_LENGTH]
            if count > 0:
                self._variants[variant] = count
                self._by_prefix.setdefault(prefix, set()).add(variant)
                self._longest = max(self._longest, len(variant))
            else:
                self._variants.pop(variant, None)
                group = self._by_prefix.get(prefix)
                if group is not None:
                    group.discard(variant)
                    if not group:
                        del self._by_prefix[prefix]

    @property
    def longest(self) -> int:
        """The length of the longest spelling of a known secret."""
        return self._longest

    def __len__(self) -> int:
        with self._lock:
            self._settle()
            return len(self._secrets) + len(self._pinned)

    def __contains__(self, secret: object) -> bool:
        with self._lock:
            self._settle()
            return secret in self._secrets or secret in self._pinned

    def redact(self, text: str) -> str:
        """Return ``text`` with every known secret, in every spelling, masked."""
        with self._lock:
            self._settle()
            by_prefix = self._by_prefix
            if by_prefix and len(text) >= _MIN_LENGTH:
                if len(self._variants) * len(text) <= 200_000:
                    variants = sorted(self._variants, key=len, reverse=True)
                    for variant in variants:
                        if variant in text:
                            text = text.replace(variant, MASK)
                else:
                    text = _mask_indexed(text, by_prefix)
        return _keyed_secret().sub(lambda match: match.group(1) + MASK, text)

    def redact_json(self, value: Any) -> Any:
        """A copy of decoded JSON with every string redacted, and every string under a
        secret-bearing key (``user-token``, ``accessToken``, ...), however deep, masked."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        if isinstance(value, dict):
            return {
                key: _mask_strings(item) if key in _SECRET_KEY_SET else self.redact_json(item)
                for key, item in value.items()
            }
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the caller's bug; leave it to logging
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True

    def install(self, names: tuple[str, ...] = THIRD_PARTY_LOGGERS) -> None:
        """Attach this filter to the named loggers (once each)."""
        with self._lock:
            todo = [name for name in names if name not in self._installed]
            self._installed.update(todo)
        for name in todo:
            logging.getLogger(name).addFilter(self)


def _mask_strings(value: Any) -> Any:
    """``value`` with every string in it masked (numbers, booleans and null stay)."""
    if isinstance(value, str):
        return MASK if value else value
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask_strings(item) for key, item in value.items()}
    return value


def _mask_indexed(text: str, by_prefix: dict[str, set[str]]) -> str:
    """Mask by scanning once, for many secrets in a long text: leftmost, then longest, first."""
    parts: list[str] = []
    last = position = 0
    end = len(text) - _MIN_LENGTH
    while position <= end:
        group = by_prefix.get(text[position : position + _MIN_LENGTH])
        if group:
            for variant in sorted(group, key=len, reverse=True):
                if text.startswith(variant, position):
                    parts.append(text[last:position])
                    parts.append(MASK)
                    position += len(variant)
                    last = position
                    break
            else:
                position += 1
        else:
            position += 1
    parts.append(text[last:])
    return "".join(parts)


REDACTOR = SecretRedactor()
