"""FileTokenStore across processes: killed writers and concurrent writers never tear a session."""

from __future__ import annotations

import contextlib
import inspect
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backendless_auth import FileTokenStore, StoredSession

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def make(writer: int, counter: int) -> StoredSession:
    """A session recognisable as whole: token, user id and savedAt carry the same pair."""
    return StoredSession(
        # The token's length varies, so that a torn write cannot pass for a whole one.
        user_token=f"tok-{writer}-{counter}-" + "x" * ((counter * 37) % 900),
        user_id=f"user-{writer}-{counter}",
        stay_logged_in=True,
        saved_at=float(writer * 100000 + counter),
    )


def is_whole(session: StoredSession) -> bool:
    writer, counter = divmod(int(session.saved_at), 100000)
    return session == make(writer, counter)


MAKE = (
    "from backendless_auth import StoredSession\n\n"
    + inspect.getsource(make)
    + "\n"
    + inspect.getsource(is_whole)
)

WRITER = MAKE + textwrap.dedent(
    """
    import sys
    from backendless_auth import FileTokenStore

    store = FileTokenStore(sys.argv[1])
    writer = int(sys.argv[2])
    counter = 0
    store.save("NS", make(writer, counter))
    print("ready", flush=True)
    while True:
        counter += 1
        store.save("NS", make(writer, counter))
    """
)

CYCLER = MAKE + textwrap.dedent(
    """
    import sys
    from backendless_auth import FileTokenStore

    store = FileTokenStore(sys.argv[1])
    writer, cycles = int(sys.argv[2]), int(sys.argv[3])
    bad = 0
    for counter in range(cycles):
        store.save("NS", make(writer, counter))
        loaded = store.load("NS")
        if loaded is None or not is_whole(loaded):
            bad += 1
    print("bad", bad, flush=True)
    """
)


def test_a_writer_killed_at_random_moments_never_leaves_an_unreadable_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "store"
    rng = random.Random(4)
    for kill in range(20):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(kill + 1)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
            with contextlib.suppress(subprocess.TimeoutExpired):
                writer.wait(timeout=rng.uniform(0.0, 0.04))
            writer.send_signal(signal.SIGKILL)
        finally:
            writer.kill()
            writer.wait()
            assert writer.stdout is not None
            writer.stdout.close()
        assert writer.returncode == -signal.SIGKILL
        loaded = FileTokenStore(folder).load("NS")
        assert loaded is not None, f"kill {kill}: no session"
        assert is_whole(loaded), f"kill {kill}: a torn session"
        assert int(loaded.saved_at) // 100000 == kill + 1
    assert list(folder.glob("*.corrupt")) == []


def test_eight_processes_saving_and_loading_one_file_always_load_a_whole_session(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "store"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CYCLER, str(folder), str(index + 1), "200"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(8)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
        assert out.strip() == "bad 0"
    loaded = FileTokenStore(folder).load("NS")
    assert loaded is not None
    assert is_whole(loaded)
    assert list(folder.glob("*.corrupt")) == []
