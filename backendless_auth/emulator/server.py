"""A keep-alive HTTP/1.1 server for the emulator, on werkzeug's threaded dev server.

werkzeug's own handler closes every connection and waits for more input after each answer,
which caps a client at a few hundred requests per second. This handler buffers the request
body (bounded), answers with a Content-Length, and keeps the connection open.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import selectors
import socket
import struct
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .wire import MAX_BODY

_log = logging.getLogger("backendless_auth.emulator")

RESET_KEY = "backendless_auth.emulator.reset"


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection or a stalled client is dropped
    verbose = False

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns = getattr(self.server, "open_connections", None)
        if conns is not None:
            with self.server.conn_lock:  # type: ignore[attr-defined]
                conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            conns = getattr(self.server, "open_connections", None)
            if conns is not None:
                with self.server.conn_lock:  # type: ignore[attr-defined]
                    conns.discard(self.connection)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.verbose:
            super().log_request(code, size)

    def log_error(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_error(format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, headers) as JSON, like every other error."""
        self.close_connection = True
        reason = self.responses.get(code, ("Error", ""))[0]
        body = json.dumps({"code": code, "message": message or reason}).encode()
        head = (
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            self.wfile.write(head.encode("latin-1") + body)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        chunked = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        if not chunked:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self._send_raw(
                    413 if length > MAX_BODY else 400,
                    b'{"code":8002,"message":"Bad or too large Content-Length"}',
                )
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                self.close_connection = True
                return
            environ["wsgi.input"] = io.BytesIO(body)
            environ["wsgi.input_terminated"] = True
            environ["CONTENT_LENGTH"] = str(length)
        else:
            self.close_connection = True  # the rest of a chunked body is never drained

        status_headers: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            status_headers[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                for data in result:
                    chunks.append(data)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            _log.exception("emulator: unhandled error")
            self._send_raw(500, b'{"code":0,"message":"Internal emulator error"}')
            self.close_connection = True
            return
        body = b"".join(chunks)
        status, headers = status_headers
        code_str, _, msg = status.partition(" ")
        self.send_response(int(code_str), msg)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        if environ.get(RESET_KEY):
            self._write_all(body[: max(1, len(body) // 4)])
            self._reset()
            return
        self._write_all(b"" if environ["REQUEST_METHOD"] == "HEAD" else body)

    def _write_all(self, body: bytes) -> None:
        # Headers and body in one send: two small writes meet Nagle + delayed ACK (40 ms).
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()

    def _send_raw(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self._write_all(body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed proxy would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def serve(app: Any, host: str, port: int, *, verbose: bool = False) -> BaseWSGIServer:
    """Bind a threaded server (not yet serving); ``serve_forever`` it in a thread."""
    handler = type("EmulatorHandler", (_Handler,), {"verbose": verbose})
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    server.open_connections = set()  # type: ignore[attr-defined]
    server.conn_lock = threading.Lock()  # type: ignore[attr-defined]
    return server


def close_connections(server: BaseWSGIServer) -> None:
    """Shut down every open keep-alive connection, so that clients see the server go."""
    with server.conn_lock:  # type: ignore[attr-defined]
        conns = list(server.open_connections)  # type: ignore[attr-defined]
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)


class ServerLoop:
    """Serve ``server`` in a thread until :meth:`stop`, which returns at once.

    ``socketserver``'s ``serve_forever`` only notices ``shutdown()`` at its next poll (werkzeug
    passes 0.5 s; we had 0.05 s, and ``stop()`` took that long). This loop waits on the
    listening socket *and* a wake-up socket pair, so a stop is seen immediately and an idle
    emulator never wakes up.
    """

    def __init__(self, server: BaseWSGIServer) -> None:
        self.server = server
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="backendless-emulator", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.server.socket, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping:
                    for key, _events in selector.select():
                        if key.fileobj is self._wake_r or self._stopping:
                            return
                        self.server._handle_request_noblock()  # type: ignore[attr-defined]
        finally:
            self._done.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting connections and wait for the loop to end."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self.thread.is_alive():
            self._done.wait(timeout)
            self.thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()
