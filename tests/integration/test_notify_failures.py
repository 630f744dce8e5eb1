"""Failures the environment causes — a damaged database, a full disk, a read-only folder, missing permissions —
are one line (`policy VERB: error: <what> (<path>); <what to do>`), exit 1, no traceback, nothing half-written.

Full and read-only file systems are real tmpfs mounts (the tests run as root; they are skipped with the reason
when mounting is not possible); missing permissions are checked as the unprivileged user nobody (setpriv).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.failure import fill, read_only, set_option, tmpfs
from tests.support.project import ROOT, SUBSCRIBED, Project, copy_project

NAMES = {f"reader{i}@example.org": f"Reader {i}" for i in range(5)}


def one_line(result: subprocess.CompletedProcess, verb: str, *fragments: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith(f"policy {verb}: error: "), result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def subscribe(project: Project, env: dict[str, str]) -> None:
    csv_file = project.path.parent / "subscribers.csv"
    csv_file.write_text("email,name,subscribed\n" + "".join(f"{a},{n},{SUBSCRIBED}\n" for a, n in NAMES.items()),
                        encoding="utf-8")
    project.run("subscribers", "import", str(csv_file), env=env, check=True)


def deliveries(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT status, attempts FROM deliveries").fetchall()


# --- a damaged database -----------------------------------------------------------------------------------

def _damage(database: Path, how: str, tmp_path: Path) -> None:
    if how == "random bytes":
        database.write_bytes(os.urandom(16384))
    elif how == "truncated":
        project = copy_project(tmp_path / "maker")
        rows = "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(3000))
        (tmp_path / "many.csv").write_text(rows)
        project.run("subscribers", "import", str(tmp_path / "many.csv"), env={"POLICY_SUBSCRIBERS_DB": str(database)},
                    check=True)
        with open(database, "r+b") as f:
            f.truncate(3 * 4096)
    else:
        database.mkdir()


@pytest.mark.parametrize("how", ["random bytes", "truncated", "directory"])
def test_a_damaged_database_is_one_line_for_every_verb(git_project: Project, tmp_path: Path, how: str) -> None:
    database = tmp_path / "subs.sqlite3"
    _damage(database, how, tmp_path)
    before = database.read_bytes() if database.is_file() else None
    env = {"POLICY_SUBSCRIBERS_DB": str(database)}
    what = "is a folder, not a database file" if how == "directory" else "is damaged or not a subscribers database"
    export = tmp_path / "export.csv"
    for args in (("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org"), ("subscribers", "export", "-o", str(export)),
                 ("subscribers", "list"), ("notify",), ("notify", "--status")):
        one_line(git_project.run(*args, env=env), args[0], f"the subscribers database {what} ({database}); ")
    assert (database.read_bytes() if database.is_file() else None) == before  # untouched
    assert not export.exists() and not (git_project.path / ".cache" / "outbox").exists()


# --- a full disk ------------------------------------------------------------------------------------------

def test_full_disk_under_the_database(git_project: Project, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        database = disk / "subs.sqlite3"
        env = {"POLICY_SUBSCRIBERS_DB": str(database)}
        filler = fill(disk)
        one_line(git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env), "subscribers",
                 "the disk is full", str(database), "; free some space and run it again")
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]  # no half-made database left behind
        filler.unlink()
        subscribe(git_project, env)
        filler = fill(disk)
        one_line(git_project.run("notify", env=env), "notify", "the subscribers database cannot be written: the disk "
                 f"is full ({database}); free some space and run it again")
        filler.unlink()
        assert "5 sent" in git_project.run("notify", env=env, check=True).stdout
        assert len(list((git_project.path / ".cache" / "outbox" / "1.0").glob("*.eml"))) == 5
        assert deliveries(database) == [("sent", 1)] * 5


def test_full_disk_under_the_outbox_and_the_export(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3")}
    subscribe(git_project, env)
    with tmpfs(tmp_path / "disk") as disk:
        set_option(git_project, "outbox_dir", disk / "outbox")
        export = disk / "subscribers.csv"
        git_project.run("subscribers", "export", "-o", str(export), env=env, check=True)
        old_export = export.read_bytes()
        git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "late@example.org", env=env, check=True)
        filler = fill(disk)
        one_line(git_project.run("subscribers", "export", "-o", str(export), env=env), "subscribers",
                 f"cannot write the export: the disk is full ({export}); free some space and run it again")
        assert export.read_bytes() == old_export  # the old export is intact: the new one never replaced it
        one_line(git_project.run("notify", env=env), "notify",
                 f"cannot write to the outbox: the disk is full ({disk / 'outbox' / '1.0'}); free some space")
        assert deliveries(tmp_path / "subs.sqlite3") == [("pending", 0)] * 6  # no attempt counted, none lost
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "outbox", "subscribers.csv"]
        assert not [p for p in (disk / "outbox").rglob("*") if p.is_file()]  # no half-written message
        filler.unlink()
        assert "6 sent" in git_project.run("notify", env=env, check=True).stdout
        assert len(list((disk / "outbox" / "1.0").glob("*.eml"))) == 6


# --- read-only folders ------------------------------------------------------------------------------------

def test_read_only_outbox_database_and_export_folders(git_project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3")}
    subscribe(git_project, env)
    with tmpfs(tmp_path / "ro") as folder:
        (folder / "outbox").mkdir()
        kept = {"POLICY_SUBSCRIBERS_DB": str(folder / "kept.sqlite3")}
        git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=kept, check=True)
        set_option(git_project, "outbox_dir", folder / "outbox")
        read_only(folder)
        one_line(git_project.run("notify", env=env), "notify", "cannot write to the outbox: the file system is "
                 f"read-only ({folder / 'outbox' / '1.0'}); make it writable or choose another place")
        assert deliveries(tmp_path / "subs.sqlite3") == [("pending", 0)] * 5
        one_line(git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org",
                                 env={"POLICY_SUBSCRIBERS_DB": str(folder / "new.sqlite3")}), "subscribers",
                 f"cannot create the subscribers database: the file system is read-only ({folder / 'new.sqlite3'})")
        one_line(git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "bob@example.org", env=kept), "subscribers",
                 "the subscribers database cannot be opened for writing: the file system is read-only "
                 f"({folder / 'kept.sqlite3'})")
        one_line(git_project.run("subscribers", "export", "-o", str(folder / "x.csv"), env=env), "subscribers",
                 f"cannot write the export: the file system is read-only ({folder / 'x.csv'})")


# --- missing permissions (as the user nobody) -------------------------------------------------------------

@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder every user can enter (pytest's own tmp_path is private to root)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run commands as the user nobody")
    reach = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                            "import policy_site.cli, mkdocs"], env={"PYTHONPATH": str(ROOT / "scripts")},
                           capture_output=True, text=True)
    if reach.returncode != 0:  # e.g. a clone inside `mktemp -d`, a folder only root may enter
        pytest.skip(f"the user nobody cannot run this checkout's Python and code ({ROOT} or its .venv is in a "
                    "folder only root may enter); clone it where other users may enter to run this test")
    folder = Path(tempfile.mkdtemp(prefix="policy-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def run_as_nobody(project: Project, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ["PATH"], "HOME": str(project.path), "PYTHONPATH": str(ROOT / "scripts"),
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*", **env}
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                           "-m", "policy_site", *args], cwd=project.path, env=full_env, capture_output=True, text=True)


def test_missing_permissions(shared_dir: Path) -> None:
    project = copy_project(shared_dir / "project").init_git()
    project.commit("Publish the privacy policy, version 1.0")
    locked = shared_dir / "locked"  # root's, mode 0755: nobody may read, not write
    locked.mkdir(mode=0o755)
    mine = shared_dir / "mine"  # nobody's own
    mine.mkdir()
    for path in (mine, project.path / ".cache"):
        path.mkdir(exist_ok=True)
        os.chown(path, 65534, 65534)
    subprocess.run(["chmod", "-R", "a+rX", str(project.path)], check=True)
    root_db = {"POLICY_SUBSCRIBERS_DB": str(locked / "subs.sqlite3")}
    project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=root_db, check=True)
    (locked / "subs.sqlite3").chmod(0o644)

    one_line(run_as_nobody(project, "subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org",
                           env={"POLICY_SUBSCRIBERS_DB": str(locked / "new.sqlite3")}), "subscribers",
             f"cannot create the subscribers database: permission denied ({locked / 'new.sqlite3'}); ")
    one_line(run_as_nobody(project, "subscribers", "add", "--subscribed", SUBSCRIBED, "bob@example.org", env=root_db), "subscribers",
             f"the subscribers database cannot be opened for reading and writing: permission denied "
             f"({locked / 'subs.sqlite3'}); let this user read and write the file and its folder")
    own_db = {"POLICY_SUBSCRIBERS_DB": str(mine / "subs.sqlite3")}
    result = run_as_nobody(project, "subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=own_db)
    assert result.returncode == 0, result.stderr
    one_line(run_as_nobody(project, "subscribers", "export", "-o", str(locked / "x.csv"), env=own_db), "subscribers",
             f"cannot write the export: permission denied ({locked / 'x.csv'}); ")
    (locked / "outbox").mkdir()
    set_option(project, "outbox_dir", locked / "outbox")
    one_line(run_as_nobody(project, "notify", env=own_db), "notify",
             f"cannot write to the outbox: permission denied ({locked / 'outbox' / '1.0'}); ")
    assert deliveries(mine / "subs.sqlite3") == [("pending", 0)]


# --- the build -------------------------------------------------------------------------------------------------

def test_build_into_a_full_site_folder_is_one_line(git_project: Project, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "site", "256k") as site:
        fill(site)
        result = git_project.run("build", "--site-dir", str(site))
        one_line(result, "build", f"cannot write {site}", "No space left on device", "free some space")


def test_build_with_read_only_generated_pages_is_one_line(git_project: Project, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "pages", "4m") as pages:
        set_option(git_project, "pages_dir", pages)
        read_only(pages)
        result = git_project.run("build")
        one_line(result, "build", f"cannot write {pages}", "Read-only file system", "make it writable")


def test_a_cache_that_cannot_be_saved_costs_time_not_the_build(git_project: Project, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "cache", "64k") as cache:
        fill(cache)
        set_option(git_project, "cache_dir", cache)
        result = git_project.run("build")
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert "the parse cache was not saved" in result.stderr
        assert (git_project.path / "site/index.html").is_file()
