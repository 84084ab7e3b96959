"""Save + load round trip per token store, against ``MemoryTokenStore`` in the same run.

Prints the median and p99 of one ``save`` followed by one ``load``, in microseconds, and the
ratio of each median to the memory store's. The file store is measured in a temporary folder
(so on that folder's file system: two fsyncs per save); the keyring store over an in-memory
keyring backend, which measures this package's overhead (the worker thread and its time limit),
and over the Secret Service when ``DBUS_SESSION_BUS_ADDRESS`` names a bus where one answers.
Never asserts time.

    python benchmarks/bench_stores.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keyring.backends.fail
import keyring.errors

from backendless_auth import (
    AutoTokenStore,
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    StoredSession,
    TokenStore,
    TokenStoreError,
)
from backendless_auth.testing import MemoryKeyring

NAMESPACE = "Backendless_BENCH-APP"


def measure(stores: dict[str, TokenStore], rounds: int) -> dict[str, list[float]]:
    """Time ``rounds`` save + load pairs per store, interleaved; return microseconds.

    Interleaved (one round of every store, then the next), so that a slow spell of the
    machine or its disk weighs on every store alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in stores}
    for store in stores.values():
        # Warm: the folder, the lock file, the worker thread, the D-Bus connection.
        store.save(NAMESPACE, StoredSession(user_token="bench-token-warm", user_id="u"))
        store.load(NAMESPACE)
    for index in range(rounds):
        session = StoredSession(
            user_token=f"bench-token-{index}", user_id="bench-user", saved_at=float(index)
        )
        for name, store in stores.items():
            started = time.perf_counter()
            store.save(NAMESPACE, session)
            loaded = store.load(NAMESPACE)
            samples[name].append((time.perf_counter() - started) * 1e6)
            assert loaded == session
    for store in stores.values():
        store.clear(NAMESPACE)
    return samples


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def secret_service_store() -> TokenStore | None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    try:
        from keyring.backends import SecretService

        store = KeyringTokenStore("backendless-auth-bench", keyring_backend=SecretService.Keyring())
        store.check()
    except (ImportError, TokenStoreError, RuntimeError) as exc:
        print(f"(Secret Service skipped: {exc})")
        return None
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=500, help="round trips per store")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        cases: dict[str, Callable[[], TokenStore | None]] = {
            "MemoryTokenStore": MemoryTokenStore,
            "FileTokenStore": lambda: FileTokenStore(Path(folder) / "file"),
            "KeyringTokenStore (in-memory backend)": lambda: KeyringTokenStore(
                keyring_backend=MemoryKeyring()
            ),
            "AutoTokenStore (chose file)": lambda: AutoTokenStore(
                keyring_backend=keyring.backends.fail.Keyring(), path=Path(folder) / "auto"
            ),
            "KeyringTokenStore (Secret Service)": secret_service_store,
        }
        stores = {name: store for name, build in cases.items() if (store := build()) is not None}
        results = measure(stores, args.rounds)

    memory_median = statistics.median(results["MemoryTokenStore"])
    print(f"save + load round trip, {args.rounds} rounds each")
    print(f"{'store':<40} {'median µs':>10} {'p99 µs':>10} {'× memory':>10}")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"{name:<40} {median:>10.1f} {p99(samples):>10.1f} {median / memory_median:>10.0f}")


if __name__ == "__main__":
    main()
