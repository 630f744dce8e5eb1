"""Forked processes: whether to fork (`may_fork`), forking (`fork`, with the one garbage-collector rule), whole
messages written and read through pipes, and one function run in a forked process (`call_beside`).

`policy build` forks at most three times: its first process forks the one that generates (cli/build_fork.py),
that one may fork once more to write part of the site beside it (site/generate.py), and MkDocs' process may fork
a helper that renders pages into the page cache (site/mkdocs/parallel.py). All of them ask `may_fork` (fork
exists, this process runs one thread, at least two CPUs are *usable* by it — its affinity — and
POLICY_BUILD_PROCESSES is not 1) and fork with `fork`. Nothing here is used where a thread may be running.

The collector rule: the parent's objects at the fork are frozen (gc.freeze) so that the collector never touches,
and so copies, the memory pages the child shares; the parent unfreezes them after the fork only when it had not
frozen them itself before (`policy build` freezes what loading MkDocs made for good: a fork must not undo that).
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

PROCESSES = "POLICY_BUILD_PROCESSES"  # "1": never fork


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system says; else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def may_fork() -> bool:
    """Whether a second process is worth it and safe: fork exists, two usable CPUs, this process runs one thread
    (a thread holding a lock at the fork would leave it held in the child), and POLICY_BUILD_PROCESSES is not 1."""
    import threading
    return (os.environ.get(PROCESSES, "").strip() != "1" and hasattr(os, "fork") and threading.active_count() == 1
            and usable_cpus() >= 2)


def fork() -> int:
    """os.fork with the standard streams flushed and the collector rule of this module (OSError if it fails)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        if not frozen_before:
            gc.unfreeze()
        raise
    if pid and not frozen_before:
        gc.unfreeze()
    return pid


def collect_from_now() -> None:
    """In a process that ran without the cyclic collector (build_fork's child): what it made so far lives to its end
    (frozen: never gone through again), and the collector takes back what it makes from now on — rendering the
    pages and feeds leaves cycles that, uncollected, were a third of a library's generation peak memory."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_all(fd: int) -> bytes:
    """Everything until the other end is closed."""
    data = bytearray()
    while chunk := os.read(fd, 1 << 16):
        data += chunk
    return bytes(data)


def read_exactly(fd: int, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError("the other process ended")
        data += chunk
    return bytes(data)


class Claims:
    """The numbers 0 … count-1, each handed to whichever process asks first: a pipe filled before a fork, read
    two bytes at a time (a read that small is never split between readers). Iterating takes numbers until none
    is left."""

    MAX = 16_000  # the pipe holds them all before anyone reads (64 KiB at least)

    def __init__(self, count: int) -> None:
        if not 0 <= count <= self.MAX:
            raise ValueError(f"cannot hand out {count} numbers")
        self.reader, writer = os.pipe()
        try:
            write_all(writer, b"".join(struct.pack("!H", n) for n in range(count)))
        finally:
            os.close(writer)

    def __iter__(self) -> Iterator[int]:
        while len(data := os.read(self.reader, 2)) == 2:
            yield struct.unpack("!H", data)[0]

    def close(self) -> None:
        os.close(self.reader)


class BesideFailed(RuntimeError):
    """The forked process died, or its result or exception could not be sent back."""


def call_beside(work: Callable[[], Any]) -> Callable[[], Any]:
    """Start work() in a forked process and return a function that waits for it: its result, or the exception it
    raised, raised again here (BesideFailed when that cannot be sent). What it printed on standard error is
    printed here when it ends. The forked process shares what this one had in memory at the fork (copy on write)
    and ends without running anything else. Without fork (or when it fails), work() runs here, when waited for.
    """
    if not hasattr(os, "fork"):
        return work
    reader, writer = os.pipe()
    try:
        pid = fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return work
    if pid == 0:  # pragma: no cover - runs in the forked process; tests see its result
        os.close(reader)
        try:
            sys.stderr = notes = io.StringIO()
            try:
                payload = pickle.dumps((True, work(), notes.getvalue()))
            except BaseException as exc:  # noqa: BLE001 - sent to the waiting process, which raises it
                payload = pickle.dumps((False, exc, notes.getvalue()))
        except BaseException:  # noqa: BLE001 - neither could be pickled: the waiting side says so
            payload = b""
        try:
            write_all(writer, payload)
        finally:
            os._exit(0)
    os.close(writer)

    def wait() -> Any:
        try:
            data = read_all(reader)
        finally:
            os.close(reader)
            os.waitpid(pid, 0)
        try:
            done, value, notes = pickle.loads(data)
        except Exception:  # noqa: BLE001 - nothing, or not all, was sent
            raise BesideFailed("the process working beside this one ended without an answer") from None
        sys.stderr.write(notes)
        if not done:
            raise value
        return value

    return wait
