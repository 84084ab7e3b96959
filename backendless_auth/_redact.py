"""Keep secrets out of log records, ours and those of the libraries we drive.

urllib3 logs every request line at DEBUG, and the Backendless API key is part of every path
(as is the user token of ``users/isvalidusertoken/<token>``); requests-oauthlib logs tokens and
codes at DEBUG. A :class:`logging.Filter` on those loggers replaces every secret this process
has handed to the SDK with a mask before any handler sees the record.
"""

from __future__ import annotations

import logging
import re
import threading

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
_KEYS = "|".join(_SECRET_KEYS)
_KEYED_SECRET = re.compile(
    r"""((?:["']?\b(?:""" + _KEYS + r""")\b["']?\s*[:=]\s*|["'](?:""" + _KEYS + r""")["']\s*,\s*)"""
    r"""b?["']?)[^"'&\s,;}{)\][]{6,}"""
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


class SecretRedactor(logging.Filter):
    """Replace known secrets in a record's message (and arguments) with a mask."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[str, None] = {}
        self._installed: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        """Remember secrets to mask; strings shorter than 6 characters are too common to mask."""
        with self._lock:
            for secret in secrets:
                if secret and len(secret) >= 6 and secret not in self._secrets:
                    self._secrets[secret] = None
                    if len(self._secrets) > _MAX_SECRETS:
                        del self._secrets[next(iter(self._secrets))]

    def redact(self, text: str) -> str:
        """Return ``text`` with every known secret masked (longest first)."""
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _KEYED_SECRET.sub(lambda match: match.group(1) + MASK, text)

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


REDACTOR = SecretRedactor()
