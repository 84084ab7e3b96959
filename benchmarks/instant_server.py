"""A loopback HTTP/1.1 server that answers canned bytes at once, so that benchmarks measure the
client, not the server. It counts the TCP connections it accepts.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable

USER = {
    "___class": "Users",
    "objectId": "0A1B2C3D-0000-4000-8000-000000000001",
    "ownerId": "0A1B2C3D-0000-4000-8000-000000000001",
    "email": "ann@example.com",
    "name": "Ann",
    "userStatus": "ENABLED",
    "created": 1700000000000,
    "updated": 1700000000000,
    "lastLogin": 1700000000000,
    "socialAccount": "GOOGLE_PLUS",
    "user-token": "BENCH-USER-TOKEN-0000000000000001",
}


def _response(body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def canned_answer(path: str) -> bytes:
    """The canned answer for a request path."""
    if "/users/isvalidusertoken/" in path:
        return _response(b"true")
    if path.endswith("/users/register/guest"):
        return _response(json.dumps(dict(USER, userStatus="GUEST")).encode())
    if path.endswith("/users/logout"):
        return _response(b"")
    if "/users/oauth/" in path:
        return _response(json.dumps(USER).encode())
    return _response(json.dumps({"code": 404, "message": "no such route"}).encode())


class InstantServer:
    """Serve canned answers on 127.0.0.1, port 0, one thread per connection."""

    def __init__(self, answer: Callable[[str], bytes] = canned_answer) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepts = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> InstantServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        # shutdown() wakes a thread blocked in accept(); close() alone does not on Linux.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepts += 1
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1].decode()
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                try:
                    conn.sendall(self._answer(path))
                except OSError:
                    return


class InstantServerProcess:
    """An :class:`InstantServer` in a child process, so that it does not share the client's GIL.

    The child prints its URL, serves until its standard input closes, then prints how many
    connections it accepted (read into :attr:`accepts` on exit).
    """

    def __init__(self) -> None:
        self.url = ""
        self.accepts = -1
        self._child: subprocess.Popen[str] | None = None

    def __enter__(self) -> InstantServerProcess:
        self._child = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        self.url = self._child.stdout.readline().strip()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._child is not None
        output, _ = self._child.communicate(timeout=30)
        self.accepts = int(output.strip() or -1)


if __name__ == "__main__":
    with InstantServer() as server:
        print(server.url, flush=True)
        sys.stdin.read()
        print(server.accepts, flush=True)
