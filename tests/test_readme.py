"""Every `.venv/bin/policy …` command the README shows works as written, in a copy of this project."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, Project

README = (ROOT / "README.md").read_text(encoding="utf-8")
# commands in inline code (`.venv/bin/policy …`) and in shell code blocks, comments dropped
_INLINE = re.findall(r"`(\.venv/bin/policy[^`]*)`", README)
_BLOCKS = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)
           for line in block.splitlines() if line.startswith(".venv/bin/policy")]
COMMANDS = sorted({c.strip() for c in _INLINE + _BLOCKS if c.strip() != ".venv/bin/policy"})
LONG_RUNNING = ("serve",)  # a server: started elsewhere (tests/test_serve.py)


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 8, COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works_as_written(git_project: Project, command: str) -> None:
    args = shlex.split(command)[1:]
    if any(verb in args for verb in LONG_RUNNING):
        pytest.skip("a long-running server")
    (git_project.path / "readers.csv").write_text("email,name\nreader2@example.org,Reader Two\n")
    executable = Path(sys.executable).parent / "policy"
    program = [str(executable)] if executable.exists() else [sys.executable, "-m", "policy_site"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"),
           "POLICY_SUBSCRIBERS_DB": str(git_project.path / ".cache/subscribers.sqlite3")}
    result = subprocess.run(program + args, cwd=git_project.path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
