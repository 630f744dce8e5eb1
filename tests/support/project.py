"""A copy of the project in a temp dir with real git commits, and the real CLI run on it (`run_policy`, through one
fork server per test process: tests/support/forkserver.py). Its fixtures `project` and `git_project` are a pytest
plugin (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "synergycabinet-privacy-policy.txt"
FIDELITY = SHARED / "checks" / "seed_fidelity.py"
OUTPUT = ROOT / "test-output"

# when the tests' readers subscribed: before every commit of a test project (its clock starts 2026-11-20), so
# that they are sent the versions those commits publish (a reader is sent only news: policy_site.notify.run)
SUBSCRIBED = "2026-01-01T00:00:00Z"

class Project:
    """A copy of mkdocs.yml, policy/ and templates/ in a temp dir, optionally a real git repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = 1_795_132_800  # 2026-11-20T00:00:00Z; every commit one day later

    @property
    def policy(self) -> Path:
        return self.path / "policy"

    def git(self, *args: str, **env: str) -> str:
        full_env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **env}
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True,
                              env=full_env).stdout.strip()

    def init_git(self) -> Project:
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Legal Team")
        self.git("config", "user.email", "legal@example.org")
        return self

    def commit(self, message: str, when: int | None = None) -> str:
        self.clock = when if when is not None else self.clock + 86_400
        stamp = f"@{self.clock} +0000"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        return self.git("rev-parse", "HEAD")

    # --- editing the policy as YAML -----------------------------------------------------------
    def read(self, relative: str) -> dict:
        return yaml.safe_load((self.policy / relative).read_text(encoding="utf-8"))

    def write(self, relative: str, data: dict) -> None:
        target = self.policy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
        schema = "schema/policy.schema.json" if relative == "policy.yaml" else "../schema/section.schema.json"
        target.write_text(f"# yaml-language-server: $schema={schema}\n{text}", encoding="utf-8")

    def write_text(self, relative: str, text: str) -> None:
        (self.policy / relative).write_text(text, encoding="utf-8")

    def meta(self, **changes) -> None:
        data = self.read("policy.yaml")
        data.update(changes)
        if "effective" in data:
            data["effective"] = str(data["effective"])
        self.write("policy.yaml", data)

    def run(self, *args: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
        return run_policy(self.path, *args, check=check, env=env)


class _Forkserver:
    """One tests/support/forkserver.py process for this test session: each command a fresh fork of it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def run(self, args: tuple[str, ...], cwd: Path, env: dict[str, str],
            kill_after: float | None = None) -> subprocess.CompletedProcess:
        with self.lock, tempfile.TemporaryDirectory(prefix="policy-cli-") as folder:
            if self.process is None or self.process.poll() is not None:
                self.process = subprocess.Popen(
                    [sys.executable, str(Path(__file__).with_name("forkserver.py"))], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
            out, err = Path(folder, "out"), Path(folder, "err")
            assert self.process.stdin is not None and self.process.stdout is not None
            request = {"argv": [os.fspath(a) for a in args], "cwd": str(cwd), "env": env, "out": str(out), "err": str(err),
                       "kill_after": kill_after}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
            if not answer:
                raise AssertionError("the test CLI server ended (tests/support/forkserver.py)")
            return subprocess.CompletedProcess(["policy", *args], int(answer), out.read_text(), err.read_text())


_FORKSERVER = _Forkserver()
# what Python reads when it starts: a command given one of these starts a real process
_AT_START = ("PYTHON", "LANG", "LC_")


def run_policy(cwd: Path, *args: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m policy_site ARGS` in cwd: a fresh process forked from one that imported the CLI already
    (tests/support/forkserver.py), or a real start-up when env sets what Python reads as it starts (or
    POLICY_TEST_SUBPROCESS=1)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **(env or {})}
    if os.environ.get("POLICY_TEST_SUBPROCESS") == "1" or any(k.startswith(_AT_START) for k in env or {}) \
            or not hasattr(os, "fork"):
        result = subprocess.run([sys.executable, "-m", "policy_site", *args], cwd=cwd, capture_output=True,
                                text=True, env=full_env)
    else:
        result = _FORKSERVER.run(args, cwd, full_env)
    if check and result.returncode != 0:
        raise AssertionError(f"policy {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def killed_policy(cwd: Path, *args: str, after: float, env: dict | None = None) -> bool:
    """`python -m policy_site ARGS` in cwd in a process group of its own (forked as run_policy's are), SIGKILLed as
    a whole after `after` seconds, and any helper it left behind either way; True if it had ended by itself."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **(env or {})}
    if os.environ.get("POLICY_TEST_SUBPROCESS") == "1" or any(k.startswith(_AT_START) for k in env or {}) \
            or not hasattr(os, "fork"):
        process = subprocess.Popen([sys.executable, "-m", "policy_site", *args], cwd=cwd, env=full_env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=after)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return False
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # a forked helper left behind by the group
            except ProcessLookupError:
                pass
    return _FORKSERVER.run(args, cwd, full_env, kill_after=after).returncode != -signal.SIGKILL


PDF_OFF = "  - policy:\n      pdf: false  # PDFs: tests/integration/test_pdf.py and test_site_build.py\n"


def without_pdfs(config: str) -> str:
    """mkdocs.yml's text with the policy plugin's PDFs turned off (they cost a second or more a version)."""
    assert "  - policy:\n" in config
    return config.replace("  - policy:\n", PDF_OFF, 1)


def copy_project(target: Path, pdf: bool = False) -> Project:
    """The repository's project in target; pdf=False (most tests): with the PDFs turned off."""
    target.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    (target / "mkdocs.yml").write_text(config if pdf else without_pdfs(config), encoding="utf-8")
    shutil.copytree(ROOT / "policy", target / "policy")
    shutil.copytree(ROOT / "templates", target / "templates")
    return Project(target)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The repository's policy, templates and mkdocs.yml in a temp dir (no git)."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def git_project(project: Project) -> Project:
    """The project as a real git repository with the seed committed as version 1.0."""
    project.init_git()
    project.commit("Publish the privacy policy, version 1.0")
    return project


def output_dir(name: str) -> Path:
    path = OUTPUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path
