"""CORS for the Backendless side, so that a web frontend on another origin can use the emulator.

A browser page on ``http://localhost:5173`` calling ``http://127.0.0.1:PORT/api/...`` through
the official JS SDK makes cross-origin requests: a preflight (``OPTIONS``) for every request that
sends ``user-token`` or ``Content-Type: application/json``, then the request itself. The policy:

* allowed origins are configurable; by default every loopback origin (``http`` or ``https``,
  host ``127.0.0.1``, ``localhost`` or ``[::1]``, any port); ``null`` (file pages, sandboxed
  frames) is never allowed;
* an allowed origin is echoed back exactly, never ``*``, with
  ``Access-Control-Allow-Credentials: true`` (a page may send cookies with
  ``withCredentials``), and every answer of a CORS route carries ``Vary: Origin`` so that no
  cache serves one origin's answer to another;
* a preflight is answered ``204`` before routing and before faults, with the methods and the
  request headers the Backendless SDKs send; a preflight from an origin not allowed gets ``403``
  without any ``Access-Control-*`` header, and the browser refuses the request;
* only the Backendless routes take part: the admin routes (``/_emulator/``) and the fake
  providers' pages never answer with ``Access-Control-*`` headers, so no web page can read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

#: The configuration value that stands for every loopback origin.
LOOPBACK = "loopback"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ALLOWED_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
#: Request headers a page may send: the JS SDK's and the other Backendless SDKs' own.
ALLOWED_HEADERS = (
    "accept",
    "content-type",
    "user-token",
    "application-type",
    "application-id",
    "secret-key",
    "api-version",
    "bl-execution-type",
    "x-requested-with",
)
MAX_AGE = 600


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case with the default port dropped; ``None`` when the
    value is not an http(s) origin (a path, user info, ``null``, garbage)."""
    if not origin or origin != origin.strip() or any(c in origin for c in "\\@?#"):
        return None
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.path or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    default = 80 if scheme == "http" else 443
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port in (None, default) else f":{port}")


class CorsPolicy:
    """Which origins may call the Backendless routes from a browser, and the headers to answer.

    Args:
        origins: exact origins (``"http://localhost:5173"``), and/or :data:`LOOPBACK` for every
            loopback origin. An empty list turns CORS off.
    """

    def __init__(self, origins: Iterable[str] = (LOOPBACK,)) -> None:
        self.loopback = False
        self.origins: set[str] = set()
        for item in origins:
            if item == LOOPBACK:
                self.loopback = True
                continue
            normal = normalize_origin(item)
            if normal is None:
                raise ValueError(f"not an http(s) origin: {item!r} (e.g. 'http://localhost:5173')")
            self.origins.add(normal)

    def allows(self, origin: str | None) -> bool:
        normal = normalize_origin(origin or "")
        if normal is None:
            return False
        if normal in self.origins:
            return True
        host = urlsplit(normal).hostname
        return self.loopback and host in LOOPBACK_HOSTS

    def describe(self) -> list[str]:
        return ([LOOPBACK] if self.loopback else []) + sorted(self.origins)

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers

    def preflight(self, request: Request) -> Response:
        origin = request.headers.get("Origin")
        response = Response(b"", status=204)
        response.headers["Vary"] = "Origin"
        if not self.allows(origin):
            response.status_code = 403
            return response
        assert origin is not None
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
        return response

    def decorate(self, request: Request, response: Response) -> None:
        """Add the CORS headers to an actual answer (success or error) of a CORS route."""
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if self.allows(origin):
            assert origin is not None
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
