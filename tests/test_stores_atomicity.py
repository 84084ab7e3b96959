"""FileTokenStore across processes: killed writers and concurrent writers never tear a session."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from backendless_auth import FileTokenStore, StoredSession

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory (tmpfs) when there is one.

    What is tested is what other processes see, which a killed process's page cache already
    holds: fsync to a busy disk (milliseconds each, two per save) would only slow the test.
    """
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        yield tmp_path / "store"
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="backendless-auth-test-") as memory:
        yield Path(memory) / "store"


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

# Imports the package once, then forks a writer per round and kills it with SIGKILL at a
# random moment; after each kill it waits for "next" on stdin, so that the test reads the file
# while nothing writes it. One interpreter start instead of one per kill.
KILLER = MAKE + textwrap.dedent(
    """
    import os, random, signal, sys, time
    from backendless_auth import FileTokenStore

    folder, kills, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    for writer in range(1, kills + 1):
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            store = FileTokenStore(folder)
            counter = 0
            store.save("NS", make(writer, counter))
            os.write(ready_write, b"r")
            while True:
                counter += 1
                store.save("NS", make(writer, counter))
        os.close(ready_write)
        os.read(ready_read, 1)
        os.close(ready_read)
        time.sleep(rng.uniform(0.0, 0.04))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        print("killed", writer, os.WIFSIGNALED(status) and os.WTERMSIG(status), flush=True)
        if sys.stdin.readline().strip() != "next":
            break
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
    folder: Path,
) -> None:
    kills = 20
    killer = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(folder), str(kills), "4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert killer.stdin is not None
    assert killer.stdout is not None
    try:
        for writer in range(1, kills + 1):
            # int(): before 3.11, str(signal.SIGKILL) reads "Signals.SIGKILL".
            expected = ["killed", str(writer), str(int(signal.SIGKILL))]
            assert killer.stdout.readline().split() == expected
            loaded = FileTokenStore(folder).load("NS")
            assert loaded is not None, f"writer {writer}: no session"
            assert is_whole(loaded), f"writer {writer}: a torn session"
            assert int(loaded.saved_at) // 100000 == writer
            # A killed writer may leave its temporary file; the next save removes it.
            assert len(list(folder.glob(".*.tmp"))) <= 1
            killer.stdin.write("next\n")
            killer.stdin.flush()
    finally:
        killer.stdin.close()
        killer.wait(timeout=60)
        killer.stdout.close()
    assert killer.returncode == 0
    assert list(folder.glob("*.corrupt")) == []


def test_eight_processes_saving_and_loading_one_file_always_load_a_whole_session(
    folder: Path,
) -> None:
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
