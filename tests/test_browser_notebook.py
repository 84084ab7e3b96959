"""The browser login in a real Jupyter kernel (ipykernel, driven by nbclient).

Where no browser can open, the kernel's cell shows a clickable link (``display_data`` with
HTML) and prints the URL and a progress message; a person then signs in. Here the "person" is
a thread inside the kernel that signs in on the emulator's page, so the cell finishes.

The login runs through both services: ``Backendless`` in a plain cell, and ``AsyncBackendless``
awaited at the top level of a cell, on the kernel's own asyncio loop and under
``%autoawait trio``: an async login must not block the loop it shares with the kernel.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

CELL = textwrap.dedent(
    """
    import os, re, sys, threading, time
    import requests
    from backendless_auth import LoginTimeoutError
    from backendless_auth.emulator import Emulator

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        os.environ.pop(name, None)

    class Person(threading.Thread):
        # Reads the URL the cell printed, and signs in with the first account.
        def __init__(self, emu):
            super().__init__(daemon=True)
            self.emu = emu

        def run(self):
            for _ in range(500):
                found = re.search(r"^    (http\\S+)$", sys.stdout.getvalue(), re.M)
                if found:
                    account = self.emu.accounts("github")[0].id
                    with requests.Session() as http:
                        http.post(found.group(1), data={"action": "choose", "account": account})
                    return
                time.sleep(0.02)

    class Tee:
        # Keeps what the cell prints, and passes it on to the kernel's stream.
        def __init__(self, out):
            self.out, self.text = out, []
        def write(self, s):
            self.text.append(s)
            return self.out.write(s)
        def flush(self):
            self.out.flush()
        def getvalue(self):
            return "".join(self.text)

    sys.stdout = Tee(sys.stdout)
    """
)

LOGIN = {
    "sync": textwrap.dedent(
        """
        with Emulator() as emu, emu.app() as app:
            Person(emu).start()
            user = app.users.login_with_browser("github", timeout=20)
            print("LOGGED-IN", user.email == emu.accounts("github")[0].email)
            try:
                app.users.login_with_browser("github", open_browser=False, timeout=0.3)
            except LoginTimeoutError:
                print("TIMED-OUT")
        sys.stdout = sys.stdout.out
        """
    ),
    "async": textwrap.dedent(
        """
        import sniffio

        from backendless_auth import AsyncBackendless

        with Emulator() as emu:
            async with AsyncBackendless(
                app_id=emu.app_id, api_key=emu.api_key, server_url=emu.url
            ) as app:
                print("LOOP", sniffio.current_async_library())
                Person(emu).start()
                user = await app.users.login_with_browser("github", timeout=20)
                print("LOGGED-IN", user.email == emu.accounts("github")[0].email)
                try:
                    await app.users.login_with_browser("github", open_browser=False, timeout=0.3)
                except LoginTimeoutError:
                    print("TIMED-OUT")
        sys.stdout = sys.stdout.out
        """
    ),
}
# The cells before the login's: the kernel's loop (asyncio) is IPython's default.
BEFORE = {"sync": [], "asyncio": [], "trio": ["%autoawait trio"]}


def _run(*cells: str) -> list[dict[str, Any]]:
    """Run the cells in a fresh kernel; the last one's outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells.extend(nbformat.v4.new_code_cell(cell) for cell in cells)
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3")
    client.execute()
    return list(notebook.cells[-1].outputs)


@pytest.mark.parametrize("driver", ["sync", "asyncio", "trio"])
def test_in_a_kernel_the_login_shows_a_link_and_prints_the_url(driver: str) -> None:
    login = LOGIN["sync" if driver == "sync" else "async"]
    outputs = _run(*BEFORE[driver], CELL + login)
    links = [o["data"]["text/html"] for o in outputs if o["output_type"] == "display_data"]
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert errors == []
    assert len(links) == 2
    assert links[0].startswith('<a href="http://127.0.0.1:')
    assert "/_providers/github/authorize?" in links[0]
    assert links[0].endswith(">Sign in with github</a>")
    assert "Open this URL in a browser to sign in with github:" in text
    assert "Waiting up to 20 seconds for the sign-in to finish..." in text
    assert "LOGGED-IN True" in text
    assert "TIMED-OUT" in text
    if driver != "sync":
        assert f"LOOP {driver}" in text
