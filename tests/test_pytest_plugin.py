"""The pytest plugin (``backendless_auth.pytest_plugin``), run by ``pytester`` in throwaway
projects with no conftest, in a separate process each, as a user's own suite would run it."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from backendless_auth.emulator import Emulator

pytest_plugins = ["pytester"]

PLUGIN = "backendless_auth.pytest_plugin"


def _entry_point_installed() -> bool:
    try:
        dist = importlib.metadata.distribution("backendless-auth")
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(ep.group == "pytest11" and ep.value == PLUGIN for ep in dist.entry_points)


def _plugin_args() -> list[str]:
    """Load the plugin by hand only where the installed distribution does not (a stale
    editable install of another checkout); where it does, loading it twice is an error."""
    return [] if _entry_point_installed() else ["-p", PLUGIN]


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throwaway projects run as a user's own suite: when this suite runs under xdist, its
    worker's variables (which the plugin reads to name a worker's database) stay out of them."""
    for name in list(os.environ):
        if name.startswith("PYTEST_XDIST_"):
            monkeypatch.delenv(name)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider", *args)


def test_the_entry_point_comes_from_the_installed_distribution(
    require_system: Callable[[bool, str], None],
) -> None:
    require_system(
        _entry_point_installed(),
        "backendless-auth installed from this checkout (python -m pip install -e '.[test]')",
    )
    eps = importlib.metadata.entry_points(group="pytest11")
    assert [ep.value for ep in eps if ep.name == "backendless_auth"] == [PLUGIN]


def test_fixtures_in_a_project_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app="""
        from backendless_auth import Backendless

        def test_guest_login(backendless_app, backendless_emulator):
            assert isinstance(backendless_app, Backendless)
            assert backendless_app.users.current_user is None
            user = backendless_app.users.login_as_guest()
            assert user.is_guest
            assert [u["objectId"] for u in backendless_emulator.users()] == [user.object_id]

        def test_provider_token_and_upgrade(backendless_app, backendless_emulator):
            guest = backendless_app.users.login_as_guest()
            account = backendless_emulator.add_account("github", email="gh@example.com")
            token = backendless_emulator.oauth2_token("github", account)
            user = backendless_app.users.login_with_oauth2("github", token, guest_user=guest)
            assert user.object_id == guest.object_id

        def test_seeded_user_and_expired_session(backendless_emulator):
            user = backendless_emulator.seed_user("google", email="seed@example.com")
            assert user["email"] == "seed@example.com"
            assert backendless_emulator.expire_sessions(user["user-token"]) == 1

        def test_fault(backendless_app, backendless_emulator):
            import pytest
            from backendless_auth import ApiError
            backendless_emulator.set_fault("error", status=503, path="register/guest")
            with pytest.raises(ApiError):
                backendless_app.users.login_as_guest()
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=4)


ISOLATION = """
    import json, os, pytest

    RECORD = {record!r}

    @pytest.mark.parametrize("n", range({count}))
    def test_each_test_starts_from_nothing(backendless_emulator, backendless_app, n):
        assert backendless_emulator.users() == []
        assert backendless_emulator.faults() == []
        accounts = backendless_emulator.accounts("google")
        assert [a.email for a in accounts] == ["ann@example.com", "bob@example.com"]
        # Leave everything behind for the next test to (not) find.
        backendless_app.users.login_as_guest()
        backendless_emulator.seed_user("github", email=f"user{{n}}@example.com")
        backendless_emulator.add_account("google", email=f"extra{{n}}@example.com")
        backendless_emulator.set_fault("delay", delay=0, count=None, path="never-matches")
        backendless_emulator.disable_provider("facebook")
        with open(RECORD, "a") as fh:
            fh.write(json.dumps([os.environ.get("PYTEST_XDIST_WORKER"), backendless_emulator.url,
                                 os.getpid()]) + "\\n")

    def test_a_disabled_provider_is_enabled_again(backendless_emulator):
        backendless_emulator.seed_user("facebook", email="fb@example.com")
"""


def test_reset_isolates_every_test(pytester: pytest.Pytester, tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    pytester.makepyfile(test_iso=ISOLATION.format(record=str(record), count=6))
    _run(pytester, "-p", "no:randomly").assert_outcomes(passed=7)
    urls = {json.loads(line)[1] for line in record.read_text().splitlines()}
    assert len(urls) == 1  # one emulator for the whole session


def test_parallel_workers_each_get_their_own_emulator(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytest.importorskip("xdist")
    record = tmp_path / "record.jsonl"
    pytester.makepyfile(test_iso=ISOLATION.format(record=str(record), count=12))
    result = _run(pytester, "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=13)
    rows = [json.loads(line) for line in record.read_text().splitlines()]
    by_worker: dict[str, set[str]] = {}
    for worker, url, _pid in rows:
        by_worker.setdefault(worker, set()).add(url)
    assert set(by_worker) == {"gw0", "gw1"}
    assert all(len(urls) == 1 for urls in by_worker.values())
    assert by_worker["gw0"] != by_worker["gw1"]


def test_an_emulator_already_running(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator() as emu:
        monkeypatch.setenv("BACKENDLESS_EMULATOR_ADMIN_TOKEN", emu.admin_token)
        pytester.makepyfile(
            test_remote=f"""
            def test_first(backendless_emulator, backendless_app):
                assert backendless_emulator.url == {emu.url!r}
                assert backendless_emulator.app_id == {emu.app_id!r}
                backendless_app.users.login_as_guest()
                backendless_emulator.set_fault("error", path="never")
                assert len(backendless_emulator.faults()) == 1

            def test_second_sees_a_reset_one(backendless_emulator, backendless_app):
                assert backendless_emulator.users() == []
                assert backendless_emulator.faults() == []
                user = backendless_emulator.seed_user("twitter", email="tw@example.com")
                assert backendless_emulator.user(user["objectId"])["email"] == "tw@example.com"
                assert backendless_emulator.expire_sessions() >= 1
            """
        )
        _run(pytester, f"--backendless-emulator-url={emu.url}").assert_outcomes(passed=2)
        # The suite used this emulator: what the last test made is here.
        assert [u["email"] for u in emu.users()] == ["tw@example.com"]


def test_remote_mode_refuses_what_cannot_work(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_x="def test_x(backendless_emulator): pass")
    monkeypatch.delenv("BACKENDLESS_EMULATOR_ADMIN_TOKEN", raising=False)
    result = _run(pytester, "--backendless-emulator-url=http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*BACKENDLESS_EMULATOR_ADMIN_TOKEN*"])
    monkeypatch.setenv("BACKENDLESS_EMULATOR_ADMIN_TOKEN", "t")
    if pytest.importorskip("xdist"):
        result = _run(pytester, "--backendless-emulator-url=http://127.0.0.1:9", "-n", "2")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*parallel workers*"])


def test_a_database_file(pytester: pytest.Pytester, tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite"
    pytester.makepyfile(
        test_db=f"""
        def test_it(backendless_emulator):
            open({str(tmp_path / "ids")!r}, "w").write(backendless_emulator.app_id)
            assert backendless_emulator._db.path == {str(db)!r}
        """
    )
    _run(pytester, f"--backendless-emulator-db={db}").assert_outcomes(passed=1)
    with Emulator(db=db) as emu:
        assert emu.app_id == (tmp_path / "ids").read_text()


def test_the_async_twin_fixture_exists_exactly_when_the_twin_does(
    pytester: pytest.Pytester,
) -> None:
    import backendless_auth

    twin = getattr(backendless_auth, "AsyncBackendless", None)
    pytester.makepyfile(
        test_async="""
        import asyncio

        def test_it(backendless_async_app, backendless_emulator):
            async def main():
                user = await backendless_async_app.users.login_as_guest()
                assert user.is_guest
            asyncio.run(main())
            assert len(backendless_emulator.users()) == 1
        """
    )
    result = _run(pytester)
    if twin is None:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*fixture 'backendless_async_app' not found*"])
    else:
        result.assert_outcomes(passed=1)


def test_without_the_emulator_extra_the_plugin_does_nothing(pytester: pytest.Pytester) -> None:
    """werkzeug made unimportable: the plugin imports, adds no option, no fixture, and imports
    neither werkzeug nor the emulator; a plain suite runs as before."""
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_plain():
            assert "werkzeug" not in sys.modules or sys.modules["werkzeug"] is None
            assert "backendless_auth.emulator" not in sys.modules

        def test_wants_the_fixture(backendless_emulator):
            pass
        """
    )
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["werkzeug"] = None  # as if the emulator extra were not installed
        import pytest
        args = {[*_plugin_args(), "-p", "no:cacheprovider", "-p", "no:xdist"]!r}
        status = pytest.main([*args, *sys.argv[1:]])
        assert "{PLUGIN}" in sys.modules, "the plugin was not loaded"
        sys.exit(int(status))
        """
    )
    env = {**os.environ, "PYTEST_ADDOPTS": ""}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=pytester.path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "--backendless-emulator-url" not in helped.stdout
    ran = run("-q")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 passed, 1 error" in ran.stdout
    assert "fixture 'backendless_emulator' not found" in ran.stdout


def test_the_testing_page_runs_as_a_project(pytester: pytest.Pytester) -> None:
    """Every Python block of docs/testing.md, as a user would copy them into a new project."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", page, re.S | re.M)
    assert len(blocks) >= 3
    tests = 0
    for n, block in enumerate(blocks):
        name = "conftest" if block.startswith("# conftest.py") else f"test_doc_{n}"
        pytester.makepyfile(**{name: block})
        tests += block.count("\ndef test_")
    result = _run(pytester)
    result.assert_outcomes(passed=tests)
