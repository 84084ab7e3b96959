"""Many threads on one service, many processes on one file store: no mixed tokens, no corruption.

* 32 threads share one ``UserService`` against the emulator, each running a random mix of guest
  and OAuth2 logins, logouts, validity checks, reloads and reads of the current session. Every
  session a thread observes must be one the server issued, whole: the token and the user id
  belong together (checked against what the server answered to every login, once all threads
  are done). At the end the token store holds exactly what memory holds.
* 8 processes share one ``FileTokenStore`` folder (one app, so one file), logging in against the
  emulator with ``stay_logged_in=True``, "restarting" (a fresh app reading the store) and
  logging out, in a loop. Every session any process reads back is whole and one the server
  issued, and no file is ever found corrupt.

The threads run through both services (``both_services``, tests/drivers.py): under an async
driver the 32 threads share one ``AsyncBackendless``, each call a task on its one event loop, so
the calls interleave at every ``await`` and the file store runs in worker threads, while the
properties are read from the 32 threads themselves.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backendless_auth import (
    BackendlessUser,
    FileTokenStore,
    SessionExpiredError,
    UserService,
)
from backendless_auth.emulator import Emulator

THREADS = 32
OPERATIONS = 16
PROCESSES = 8
ROUNDS = 12


class Ledger:
    """What the server answered to each login, and what the threads observed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[str, str] = {}
        self.observed: list[tuple[str, str | None, str]] = []
        self.operations: dict[str, int] = {}

    def login(self, user: BackendlessUser) -> None:
        assert user.user_token is not None
        with self.lock:
            self.issued[user.user_token] = user.object_id

    def saw(self, token: str | None, user_id: str | None, where: str) -> None:
        if token is None:
            return
        with self.lock:
            self.observed.append((token, user_id, where))

    def did(self, name: str) -> None:
        with self.lock:
            self.operations[name] = self.operations.get(name, 0) + 1


def _observe(users: UserService, ledger: Ledger) -> None:
    user = users.current_user  # one read: a user and its token, from one session
    if user is not None:
        ledger.saw(user.user_token, user.object_id, "current_user")
    # Two properties are two reads; a token seen unchanged on both sides of the id read means
    # the id came from the same session (every login issues a new token).
    for _ in range(3):
        before = users.user_token
        user_id = users.current_user_id
        if users.user_token == before:
            ledger.saw(before, user_id, "user_token/current_user_id")
            break


def _worker(
    users: UserService, seed: int, tokens: list[str], ledger: Ledger, errors: list[BaseException]
) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(OPERATIONS):
            action = rng.choice(["guest", "oauth", "logout", "valid", "reload", "observe"])
            ledger.did(action)
            if action == "guest":
                ledger.login(users.login_as_guest(stay_logged_in=True))
            elif action == "oauth":
                ledger.login(
                    users.login_with_oauth2("google", rng.choice(tokens), stay_logged_in=True)
                )
            elif action == "logout":
                users.logout()
            elif action == "valid":
                users.is_valid_login()
            elif action == "reload":
                try:
                    user = users.get_current_user(reload=True)
                except SessionExpiredError:
                    continue  # another thread logged that session out meanwhile
                if user is not None:
                    ledger.saw(user.user_token, user.object_id, "get_current_user")
            _observe(users, ledger)
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


@pytest.mark.both_services
def test_threads_sharing_one_service_never_mix_tokens(emu: Emulator, tmp_path: Path) -> None:
    tokens = [
        emu.provider_token("google", emu.add_account("google", email=f"t{n}@example.com"))
        for n in range(4)
    ]
    store = FileTokenStore(tmp_path)
    app = emu.app(token_store=store, timeout=30)
    ledger = Ledger()
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_worker, args=(app.users, seed, tokens, ledger, errors))
        for seed in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors[:3]

    mixed = [
        (where, user_id, ledger.issued.get(token))
        for token, user_id, where in ledger.observed
        if ledger.issued.get(token) != user_id
    ]
    stored = store.load(app.namespace)
    print(
        f"\n[figures] concurrency: {THREADS} threads, {sum(ledger.operations.values())} "
        f"operations ({', '.join(f'{k}: {n}' for k, n in sorted(ledger.operations.items()))}), "
        f"{len(ledger.observed)} observations, mixed tokens: {len(mixed)}"
    )
    assert not mixed, mixed[:5]
    # At rest, the store and memory agree.
    assert (stored.user_token if stored else None) == app.users.user_token
    assert (stored.user_id if stored else None) == app.users.current_user_id
    app.close()


# --- processes sharing one file store ----------------------------------------------------------

_PROCESS = r"""
import json, random, sys
from backendless_auth import Backendless, FileTokenStore, SessionExpiredError

folder, app_id, api_key, url, seed, rounds = sys.argv[1:7]
rng = random.Random(int(seed))
out = {"issued": {}, "read": [], "errors": []}

def app():
    return Backendless(
        app_id=app_id, api_key=api_key, server_url=url, token_store=FileTokenStore(folder),
        timeout=30,
    )

for _ in range(int(rounds)):
    try:
        user = app().users.login_as_guest(stay_logged_in=True)
        out["issued"][user.user_token] = user.object_id
        restarted = app().users
        out["read"].append([restarted.user_token, restarted.current_user_id])
        if rng.random() < 0.3:
            restarted.logout()
    except Exception as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}")
print(json.dumps(out))
"""


# Sync-only: the processes run their own blocking script; the file store's locking across
# processes is the store's own, the same under both services (which only call it).
def test_processes_sharing_one_file_store_never_corrupt_it(emu: Emulator, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _PROCESS,
                str(folder),
                emu.app_id,
                emu.api_key,
                emu.url,
                str(n),
                str(ROUNDS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        results.append(json.loads(stdout))
    issued: dict[str, str] = {}
    for result in results:
        issued.update(result["issued"])
    reads = [pair for result in results for pair in result["read"]]
    errors = [error for result in results for error in result["errors"]]
    torn = [pair for pair in reads if pair[0] is not None and issued.get(pair[0]) != pair[1]]
    corrupt = sorted(path.name for path in folder.iterdir() if ".corrupt" in path.name)
    final = FileTokenStore(folder).load(f"Backendless_{emu.app_id}")
    print(
        f"\n[figures] file store: {PROCESSES} processes x {ROUNDS} rounds, {len(issued)} logins "
        f"saved, {len(reads)} restarts read the store, torn or mixed: {len(torn)}, corrupt "
        f"files: {len(corrupt)}, errors: {len(errors)}"
    )
    assert not errors, errors[:3]
    assert not torn, torn[:3]
    assert not corrupt
    assert final is None or issued.get(final.user_token) == final.user_id
