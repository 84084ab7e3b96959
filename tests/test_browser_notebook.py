"""The browser login in a real Jupyter kernel (ipykernel, driven by nbclient).

Where no browser can open, the kernel's cell shows a clickable link (``display_data`` with
HTML) and prints the URL and a progress message; a person then signs in. Here the "person" is
a thread inside the kernel that signs in on the emulator's page, so the cell finishes.
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
)


def _run(cell: str) -> list[dict[str, Any]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(cell))
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3")
    client.execute()
    return list(notebook.cells[0].outputs)


def test_in_a_kernel_the_login_shows_a_link_and_prints_the_url() -> None:
    outputs = _run(CELL)
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
