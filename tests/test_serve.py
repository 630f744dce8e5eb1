"""`mkdocs serve` rebuilds when a policy file is saved; the edit shows as a draft."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from conftest import Project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(url: str, text: str, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in fetch(url):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def test_serve_shows_a_saved_edit_as_draft(git_project: Project) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
                              cwd=git_project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(url, "Version 1.0", 60) is not None, "server did not start"
        time.sleep(1.0)  # let the watcher settle after the first build
        section = git_project.read("sections/protecting-information.yaml")
        section["body"][0] = "Freshly saved sentence for the live preview."
        git_project.write("sections/protecting-information.yaml", section)
        elapsed = wait_for(url, "Freshly saved sentence", 20)
        assert elapsed is not None, "the edit never appeared"
        print(f"edit visible after {elapsed:.2f}s")
        page = fetch(url)
        assert "Draft — not published" in page
        assert "Freshly saved sentence" in fetch(url + "changes/draft/")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
