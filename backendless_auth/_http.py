"""What both transports share: the answer type, the retry rules, the checks of what is sent and
the errors for what came back. Imports no HTTP library.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

from . import _limits
from ._record import field, record
from .exceptions import InvalidArgumentError, RequestTimeout, UnexpectedResponseError

# Statuses a proxy or load balancer answers while the service behind it is briefly away.
RETRY_STATUSES = frozenset({502, 503, 504})
# The pauses before the second and the third attempt of a request that may be retried.
RETRY_DELAYS = (0.05, 0.25)


@record
class HttpResponse:
    """What came back: status, headers (lower-cased names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


# What every HTTP stack sends as a header value: visible ASCII, inner spaces and tabs.
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?")


def check_header_values(method: str, label: str, headers: Mapping[str, str]) -> None:
    """Refuse a header value no HTTP stack sends, before sending.

    Else requests, http.client or h11 fails with their own error, whose text holds the value (a
    session token, say). The value is never repeated here.

    Raises:
        InvalidArgumentError: Naming the header.
    """
    for name, value in headers.items():
        if not _HEADER_VALUE.fullmatch(value):
            raise InvalidArgumentError(
                f"{method} {label}: the {name} header holds characters HTTP does not allow",
                argument=name,
            )


def deadline_error(method: str, label: str, seconds: float) -> RequestTimeout:
    """The error for an attempt that got no whole answer within the read timeout."""
    return RequestTimeout(
        f"{method} {label}: the server did not answer in time "
        f"(no whole answer within the {seconds:g} s read timeout)"
    )


def body_error(exc: Exception, method: str, label: str, status: int) -> UnexpectedResponseError:
    """The error for a body :class:`~._limits.BodyDecoder` refused (too large, undecodable)."""
    if isinstance(exc, _limits.BodyTooLarge):
        problem = f"an answer larger than {_limits.MAX_BODY // 1024} KiB decoded"
    elif isinstance(exc, _limits.UnsupportedEncoding):
        problem = f"an answer in an unsupported content coding ({exc})"
    else:
        assert isinstance(exc, zlib.error), exc
        problem = "a compressed answer that is corrupt"
    return UnexpectedResponseError(f"{method} {label}: the server sent {problem}", status=status)


BODY_ERRORS = (_limits.BodyTooLarge, _limits.UnsupportedEncoding, zlib.error)
"""What :class:`~._limits.BodyDecoder` raises for a body that is refused."""
