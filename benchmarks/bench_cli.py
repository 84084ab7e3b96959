"""The command line in shell loops: ``backendless-auth token`` and ``valid`` against
``python -c "import requests"``, each a fresh process, interleaved, many runs.

``token`` reads the kept session from the store and prints it: it needs no network and should
not import an HTTP client (goal: at most 0.6 x the time of ``import requests``). ``valid`` asks
the server (here the instant canned server of this folder, on loopback), so it pays for
requests (goal: at most 1.2 x). Prints medians in ms and the ratios; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from instant_server import InstantServer

from backendless_auth import StoredSession
from backendless_auth._config import AppConfig
from backendless_auth.stores import FileTokenStore

APP_ID, API_KEY = "BENCH-APP", "BENCH-KEY"


def _console_script() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "backendless-auth"
    if script.exists():
        return [str(script)]
    found = shutil.which("backendless-auth")
    return [found] if found else [sys.executable, "-m", "backendless_auth"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument(
        "--no-site",
        action="store_true",
        help="run every command as 'python -S' (site-packages on PYTHONPATH): without the "
        ".pth files a machine may add to every start, e.g. a sandbox's CA injection",
    )
    args = parser.parse_args(argv)
    cli = _console_script()
    python = [sys.executable]
    if args.no_site:
        python = [sys.executable, "-S"]
        cli = [*python, "-m", "backendless_auth"]
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        with InstantServer() as server:
            config = AppConfig.create(
                app_id=APP_ID,
                api_key=API_KEY,
                domain=None,
                server_url=server.url,
                allow_insecure_http=False,
            )
            FileTokenStore(folder).save(
                config.namespace,
                StoredSession(user_token="BENCH-USER-TOKEN-0000000000000001", user_id="U1"),
            )
            # As bench_import.py: bytecode written once, so both sides run as installed.
            env = {
                key: value
                for key, value in os.environ.items()
                if key != "PYTHONDONTWRITEBYTECODE" and not key.startswith("BACKENDLESS_")
            }
            env.update(
                BACKENDLESS_APP_ID=APP_ID,
                BACKENDLESS_API_KEY=API_KEY,
                BACKENDLESS_SERVER_URL=server.url,
                BACKENDLESS_TOKEN_STORE="file",
                BACKENDLESS_TOKEN_STORE_PATH=str(folder),
            )
            if args.no_site:
                import site

                root = str(Path(__file__).resolve().parent.parent)
                env["PYTHONPATH"] = os.pathsep.join([root, *site.getsitepackages()])
            commands = {
                "python -c pass": [*python, "-c", "pass"],
                'python -c "import requests"': [*python, "-c", "import requests"],
                "backendless-auth token": [*cli, "token"],
                "backendless-auth valid": [*cli, "valid"],
            }
            for command in commands.values():
                subprocess.run(command, check=True, env=env, capture_output=True)
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, command in commands.items():
                    began = time.perf_counter()
                    subprocess.run(command, check=True, env=env, capture_output=True)
                    times[name].append(time.perf_counter() - began)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    mode = "python -S" if args.no_site else "python with site"
    print(f"median of {args.runs} runs each (fresh processes, interleaved, {mode}), in ms")
    for name, median in medians.items():
        print(f"{name:<30}{median:>8.1f}")
    base = medians['python -c "import requests"']
    for name, goal in (("backendless-auth token", 0.6), ("backendless-auth valid", 1.2)):
        ratio = medians[name] / base
        print(f"ratio {name} / import requests: {ratio:.3f} (goal <= {goal})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
