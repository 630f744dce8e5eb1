"""A build is published whole or not at all: written into a second folder, then switched with site_dir in one step.

A reader of site_dir (a web server serving it, a deploy step run after a build that timed out) must never see a mix
of two builds. So `policy build` never writes into site_dir:

- it takes the build lock first (`BuildLock`, an flock on `<cache>/build.lock` that the kernel releases when the
  process ends, however it ends): a second build at the same time stops with "another build is running (pid N)";
- it writes into the back folder (`Staging.folder`), on the same file system as site_dir: under the cache folder
  when that is on the same device, else beside site_dir as a hidden `.NAME.back-…`. The back folder is the site
  the build before the last one published (double buffering): what this build makes with the same bytes is left
  there as it is, the rest is written and what it does not make is removed (site/mkdocs/site_output.py) — so a warm
  build costs what building in place cost, and nothing published is ever written;
- it switches the two folders in one step: Linux's `renameat2(RENAME_EXCHANGE)` (macOS: `renamex_np(RENAME_SWAP)`)
  exchanges them atomically, so site_dir is at every moment either the old build or the new one, whole; the old one
  becomes the back folder of the next build. Where neither call exists (or the file system refuses it) site_dir is
  renamed aside and the new folder renamed into its place: for that moment there is no site_dir, never half of one.

A build MkDocs runs itself (`mkdocs build`, site/mkdocs/staged_build.py) writes everything anyway: it gets a new empty
folder (`fresh=True`), and the previous build is removed after the switch.

A site_dir that is a mount point (a volume a web server serves) cannot be exchanged: the build is then written
whole into a new hidden folder inside it (no back folder is kept where it would be served), and each top-level
entry (`index.html`, `versions/`, …) is switched in by a rename of its own — a moment where one folder is the new
build's and another the old one's, never a half-written file or folder; `policy build` says so (point site_dir at a
folder inside the mount to switch the whole site at once).

A build killed, crashed or failed before the switch leaves site_dir exactly as it was (and a back folder that the
next build, holding the lock, finds without a record: it is then written whole). Top-level dotfiles of site_dir
(a `.well-known/`, a `.nojekyll`, a `.git` of a deploy worktree) are carried into each new build, as MkDocs'
cleaning keeps them. When site_dir is a symbolic link, the folder it points to is the one switched.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import sys
from pathlib import Path
from typing import IO

from ..errors import UserError

LOCK = "build.lock"
STAGING = "staging"  # under the cache folder
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EXDEV}


class BuildLock:
    """The lock one `policy build` holds from reading its settings to its end (released by the kernel if killed).
    A cache folder where the lock cannot be made (read-only, full) costs the check, not the build: a note says so."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / LOCK
        self.file: IO[str] | None = None

    def acquire(self) -> BuildLock:
        import fcntl
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        except OSError as exc:
            print(f"note: cannot make the build lock {self.path} ({exc.strerror or exc}): a second build at the same "
                  "time would not be noticed", file=sys.stderr)
            return self
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise UserError(f"another build is running (pid {holder}) in this project; wait for it to finish "
                            f"(its lock: {self.path})") from None
        try:
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds, its pid is not written
        self.file = handle
        return self

    def release(self) -> None:
        if self.file is not None:
            try:
                self.file.close()  # closing releases the flock
            except OSError:
                pass
            self.file = None


def _same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


class Staging:
    """The folder a build writes into, and the one step that makes it site_dir."""

    def __init__(self, site_dir: Path, cache_dir: Path, fresh: bool = False) -> None:
        self.final = Path(os.path.realpath(site_dir))
        parent = self.final.parent
        self.mounted = os.path.ismount(self.final)
        self.fresh = fresh or self.mounted  # no back folder inside a served mount: a new folder each time
        try:
            parent.mkdir(parents=True, exist_ok=True)
            if self.mounted:
                self.area, self.prefix = self.final, ".policy-"
            elif _same_device(cache_dir, parent) or (not cache_dir.exists()
                                                     and _same_device(cache_dir.parent, parent)):
                self.area, self.prefix = cache_dir / STAGING, f"{self.final.name}-"
            else:
                self.area, self.prefix = parent, f".{self.final.name}."
            self.area.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from .output import write_failure
            raise write_failure(parent, exc) from None
        which = hashlib.sha256(os.fsencode(self.final)).hexdigest()[:12]  # one back folder per site_dir
        self.folder = self.area / (f"{self.prefix}building-{os.getpid()}" if fresh else f"{self.prefix}back-{which}")

    def begin(self) -> Path:
        """Remove what killed builds left (the lock is held: nobody else uses it), make the folder to write into
        and give it site_dir's top-level dotfiles."""
        try:
            for leftover in self.area.glob(f"{self.prefix}building-*"):
                shutil.rmtree(leftover, ignore_errors=True)
            self.folder.mkdir(exist_ok=True)
            for entry in os.scandir(self.folder):
                if entry.name.startswith("."):
                    _remove(entry.path)
            if self.final.is_dir():
                for entry in os.scandir(self.final):
                    if entry.name.startswith(".") and not entry.name.startswith(self.prefix):
                        _carry(entry.path, os.path.join(self.folder, entry.name))
        except OSError as exc:
            from .output import write_failure
            raise write_failure(self.area, exc) from None
        return self.folder

    def publish(self) -> None:
        """Make the folder site_dir, in one step; the previous build becomes the back folder (or is removed)."""
        if self.mounted:
            self._publish_entries()
        elif not os.path.lexists(self.final):
            os.rename(self.folder, self.final)
        elif not _exchange(str(self.folder), str(self.final)):
            aside = self.area / f"{self.prefix}building-old-{os.getpid()}"
            os.rename(self.final, aside)
            os.rename(self.folder, self.final)
            os.rename(aside, self.folder)
        if self.fresh:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _publish_entries(self) -> None:
        """site_dir is a mount point: each top-level entry switched by a rename of its own (see the docstring); the
        old ones go to the back folder."""
        new = set(os.listdir(self.folder))
        for name in sorted(os.listdir(self.final)):
            if name not in new and not name.startswith(self.prefix):  # not in the new build: into the back folder
                os.rename(self.final / name, self.folder / name)
        for name in sorted(new):
            target = self.final / name
            if not os.path.lexists(target):
                os.rename(self.folder / name, target)
            elif not _exchange(str(self.folder / name), str(target)):
                aside = self.area / f"{self.prefix}building-old-{os.getpid()}"
                os.rename(target, aside)
                os.rename(self.folder / name, target)
                os.rename(aside, self.folder / name)

    def discard(self) -> None:
        """After a failed build: a fresh folder is removed; the back folder stays (the next build, finding no record
        of it, writes it whole)."""
        if self.fresh:
            shutil.rmtree(self.folder, ignore_errors=True)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _carry(source: str, target: str) -> None:
    """A copy of source at target made of hard links (copies where links cannot be made)."""
    if os.path.isdir(source) and not os.path.islink(source):
        os.makedirs(target, exist_ok=True)
        for entry in os.scandir(source):
            _carry(entry.path, os.path.join(target, entry.name))
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EEXIST):
            raise
        shutil.copy2(source, target, follow_symlinks=False)  # a file system without hard links


def _exchange(a: str, b: str) -> bool:
    """Exchange two paths atomically; False when this system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        result = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        result = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), b)
