"""``emulator [--host H] [--port N] [--db FILE] [--config FILE]``: run the emulator as a process.

Prints the URL, app id, API key, admin token and CloudCode key, then serves until Ctrl+C or
SIGTERM (exit 0).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import sqlite3
import sys
import threading
from types import FrameType

from .config import ConfigError
from .core import Emulator


def build_parser(prog: str = "python -m backendless_auth.emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="A local Backendless user service with fake login providers."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--db", default=None, help="SQLite file to keep data across restarts")
    parser.add_argument("--config", default=None, help="JSON config file")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _start(emu: Emulator, host: str, port: int) -> None:
    """Start serving; a port that cannot be bound raises ``OSError`` with one line of reason.

    werkzeug reports a failed bind by printing its own two lines and calling ``sys.exit(1)``;
    here its words are caught and turned into our single ``emulator: <reason>`` line.
    """
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            emu.start()
    except SystemExit:
        lines = said.getvalue().strip().splitlines()
        reason = lines[0] if lines else "the server could not start"
        raise OSError(f"cannot listen on {host}:{port}: {reason.lower()}") from None
    if said.getvalue():
        sys.stderr.write(said.getvalue())


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the emulator until interrupted; returns the exit status.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` by default.
        prog: The program name shown in ``--help`` and usage errors.
    """
    parser = build_parser() if prog is None else build_parser(prog)
    args = parser.parse_args(argv)
    emu: Emulator | None = None
    try:
        emu = Emulator(
            db=args.db, config=args.config, host=args.host, port=args.port, verbose=args.verbose
        )
        _start(emu, args.host, args.port)
    except (ConfigError, OSError, sqlite3.Error) as exc:
        if emu is not None:
            emu.close()
        print(f"emulator: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print("Backendless emulator running")
        print(f"  URL:          {emu.url}")
        print(f"  App id:       {emu.app_id}")
        print(f"  API key:      {emu.api_key}")
        print(f"  Admin token:  {emu.admin_token}")
        print(f"  CloudCode key: {emu.cloud_code_key}")  # server-side calls (accounts.py)
        print(f"  Base URL:     {emu.base_url}")
        print(f"  Domain URL:   {emu.domain_url}")
        print("Press Ctrl+C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Emulator stopped.", flush=True)
    return 0
