"""What both transports share: the answer type and the retry rules. Imports no HTTP library."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

# Statuses a proxy or load balancer answers while the service behind it is briefly away.
RETRY_STATUSES = frozenset({502, 503, 504})
# The pauses before the second and the third attempt of a request that may be retried.
RETRY_DELAYS = (0.05, 0.25)


@attrs.frozen
class HttpResponse:
    """What came back: status, headers (lower-cased names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
