"""Private files written atomically, and file-system failures reported as one clean line.

Files holding addresses (the database, the outbox) are flagged when git would commit them.
Every failure the user's environment causes — a full disk, a read-only folder, missing permissions — becomes a
UserError of one line, `<what> (<path>); <what to do>`, never a traceback (a database's own failures are its
backend's: database.py, postgres.py). `write_private` never leaves a half-written file: it writes a temporary
file (mode 0600) in the target's folder, fsyncs it and renames it over the target, so the result is private
even when it replaces a file that was readable by others.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from pathlib import Path

from ..errors import UserError
from ..history import git as gitcmd

_OS_REASONS = {
    errno.ENOSPC: ("the disk is full", "free some space and run it again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space and run it again"),
    errno.EROFS: ("the file system is read-only", "make it writable or choose another place"),
    errno.EACCES: ("permission denied", "give this user the right to write there, or choose another place"),
    errno.EPERM: ("permission denied", "give this user the right to write there, or choose another place"),
    errno.ENOENT: ("the folder does not exist", "create it, or choose another place"),
    errno.EISDIR: ("it is a folder", "remove the folder or choose another file name"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "fix the path"),
}


def os_failure(what: str, path: Path | str, exc: OSError) -> UserError:
    """'cannot write the export: the disk is full (PATH); free some space and run it again'."""
    reason, todo = _OS_REASONS.get(exc.errno or 0, (exc.strerror or str(exc), "check the path and run it again"))
    return UserError(f"{what}: {reason} ({path}); {todo}")


def write_private(path: Path, data: bytes, what: str = "cannot write the file") -> None:
    """Write data to path atomically, readable by its owner only (mode 0600), or raise a one-line UserError."""
    folder = path.parent
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
    except OSError as exc:
        raise os_failure(what, path, exc) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def warn_if_committable(path: Path) -> None:
    """Addresses must never reach git: warn when a new database or outbox is in a work tree, not ignored."""
    if gitcmd.is_ignored(path) is False:
        print(f"warning: {path} holds subscriber addresses and is not git-ignored; add it to .gitignore",
              file=sys.stderr)
