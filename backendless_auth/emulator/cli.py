"""``emulator [--host H] [--port N] [--db FILE] [--config FILE]``: run the emulator as a process.

Prints the URL, app id, API key, admin token and CloudCode key, then serves until Ctrl+C or
SIGTERM (exit 0).
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import threading
from types import FrameType

from .config import ConfigError
from .core import Emulator


def build_parser(prog: str = "emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="A local Backendless user service with fake login providers."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--db", default=None, help="SQLite file to keep data across restarts")
    parser.add_argument("--config", default=None, help="JSON config file")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        emu = Emulator(
            db=args.db, config=args.config, host=args.host, port=args.port, verbose=args.verbose
        )
        emu.start()
    except (ConfigError, OSError, sqlite3.Error) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
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
