"""Every `.venv/bin/policy …` command the README and docs/ show works as written, in a copy of this project."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from policy_site.bench.local import free_port
from tests.support.project import ROOT, Project
from tests.support.service import set_subscriptions_url

README = "\n".join(path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
# commands in inline code (`.venv/bin/policy …`) and in shell code blocks, comments dropped
_INLINE = re.findall(r"`(\.venv/bin/policy[^`]*)`", README)
_BLOCKS = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)
           for line in block.splitlines() if line.startswith(".venv/bin/policy")]
COMMANDS = sorted({c.strip() for c in _INLINE + _BLOCKS if c.strip() != ".venv/bin/policy"})
LONG_RUNNING = ("serve",)  # servers: `policy serve` is started by tests/integration/test_serve.py, `subscriptions serve` below
SERVICE = [c for c in COMMANDS if shlex.split(c)[1:3] == ["subscriptions", "serve"]]


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 8, COMMANDS
    assert SERVICE, "the README shows no `policy subscriptions serve` command"


def _program() -> list[str]:
    executable = Path(sys.executable).parent / "policy"
    return [str(executable)] if executable.exists() else [sys.executable, "-m", "policy_site"]


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works_as_written(git_project: Project, command: str) -> None:
    args = shlex.split(command)[1:]
    if any(verb in args for verb in LONG_RUNNING):
        pytest.skip("a long-running server: started by test_readme_service_command_serves_until_stopped "
                    "(subscriptions serve) or tests/integration/test_serve.py (serve)")
    (git_project.path / "readers.csv").write_text("email,name\nreader2@example.org,Reader Two\n")
    program = _program()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"),
           "POLICY_SUBSCRIBERS_DB": str(git_project.path / ".cache/subscribers.sqlite3")}
    result = subprocess.run(program + args, cwd=git_project.path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", SERVICE)
def test_readme_service_command_serves_until_stopped(git_project: Project, command: str) -> None:
    """The service as the README starts it (on a free port instead of the one shown): it answers, and stops
    cleanly on SIGTERM. (`policy serve`, the live preview, is started by tests/integration/test_serve.py.)"""
    args = shlex.split(command)[1:]
    port = free_port()
    args[args.index("--port") + 1] = str(port)
    set_subscriptions_url(git_project, f"http://127.0.0.1:{port}/")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "POLICY_UNSUBSCRIBE_SECRET": "a-secret-of-the-readme-test",
           "POLICY_SUBSCRIBERS_DB": str(git_project.path / ".cache/subscribers.sqlite3")}
    server = subprocess.Popen(_program() + args, cwd=git_project.path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 120, None
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/subscribe", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None and page.status_code == 200 and "Subscribe to changes" in page.text, command
    finally:
        server.terminate()
        out, err = server.communicate(timeout=60)
    # uvicorn finishes the requests in flight, then ends by the signal it was sent (as process managers expect)
    assert server.returncode in (0, -signal.SIGTERM) and "Traceback" not in err, f"{command}\n{out}\n{err}"
    assert "Finished server process" in err
