"""Local servers for the benchmarks and the tests: a free port on 127.0.0.1, a GET that never raises, polling
until a page shows a text, and stopping a server."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 5) -> str:
    """The page's text, or "" when it cannot be fetched (not up yet, an error status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(url: str, text: str, timeout: float, every: float = 0.02) -> float | None:
    """Seconds until the page at url shows text (polled every `every` seconds), or None after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if text in fetch(url):
            return time.monotonic() - start
        time.sleep(every)
    return None


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a server: SIGTERM, and SIGKILL when it has not ended within timeout seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
