"""`policy build` generates the site's sources in a second process while the first one loads MkDocs.

Before MkDocs renders a page, a build reads mkdocs.yml through MkDocs (importing MkDocs, Material and the
Markdown extensions) and generates the site's sources: it imports GitPython, markdown-it, feedgen and this
package's source, history and diff code, validates the working tree, reads the history and writes the pages and
feeds. Neither needs the other until MkDocs' `on_config`, and on a small policy the two take about as long as
all the rendering after them. So `policy build` forks once, first thing: the child reads mkdocs.yml too and
generates (`cli/site_verbs._generate_ahead`: exactly what `policy build` would do before and in `on_config`),
while the parent reads mkdocs.yml, then waits for the child's summary (site/generated.py) and hands it to the
plugin, which then generates nothing.

The child writes only what a generation writes (the generated folder and the caches under .cache/) and prints
nothing: what it would have printed on standard error (notes about the caches) goes to the parent, which prints
it. Whatever goes wrong in the child (a mistake in the policy, a crash, a kill), the parent generates itself,
exactly as with one process, so every error reads and exits as before. The parent stops and waits for the
child when it fails first. One process only with POLICY_BUILD_PROCESSES=1, on one CPU, or without fork.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


def _wanted() -> bool:
    """Two CPUs, fork, and no other thread (a thread holding a lock at the fork would leave it held in the child)."""
    if os.environ.get("POLICY_BUILD_PROCESSES") == "1" or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) >= 2


class Generation:
    """The child process that generates: given the settings once, it sends back its summary."""

    def __init__(self, pid: int, reader: int, writer: int) -> None:
        self.pid, self.reader, self.writer = pid, reader, writer

    def _finish(self) -> bytes:
        data = b""
        if self.writer >= 0:
            os.close(self.writer)
            self.writer = -1
        if self.reader < 0:
            return b""
        try:
            data = _read_all(self.reader)
        finally:
            os.close(self.reader)
            self.reader = -1
            os.waitpid(self.pid, 0)
        return data

    def result(self, settings: Any, meanwhile: Callable[[], None] = lambda: None) -> Any | None:
        """Send the settings, run meanwhile(), then the child's summary, its notes printed; None when it did not
        generate (the caller then does)."""
        try:
            _write_all(self.writer, pickle.dumps(settings))
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.cancel()
            return None
        os.close(self.writer)
        self.writer = -1
        meanwhile()
        try:
            done, summary, notes = pickle.loads(self._finish())
        except Exception:  # nothing read: the child died
            return None
        if not done:
            return None
        sys.stderr.write(notes)
        return summary

    def cancel(self) -> None:
        """Stop the child: the parent failed before it needed the summary."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self._finish()
        except OSError:
            pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> bytes:
    data = bytearray()
    while chunk := os.read(fd, 1 << 16):
        data += chunk
    return bytes(data)


def _child(prepare: Callable[[], None], generate: Callable[[Any], Any], reader: int, writer: int) -> None:
    """Import, wait for the settings, generate and send (done, summary, notes) to the parent; never returns."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        notes = io.StringIO()
        sys.stdout, sys.stderr = io.StringIO(), notes
        logging.disable(logging.CRITICAL)
        prepare()
        settings = pickle.loads(_read_all(reader))
        payload = pickle.dumps((True, generate(settings), notes.getvalue()))
    except BaseException:  # the parent generates again and reports it as one process would
        payload = pickle.dumps((False, None, ""))
    try:
        _write_all(writer, payload)
    finally:
        os._exit(0)


def start_generation(prepare: Callable[[], None], generate: Callable[[Any], Any]) -> Generation | None:
    """Fork a child that runs prepare() at once, then generate(settings) with the settings Generation.result
    sends; or None, to generate in this process."""
    return fork_generation(prepare, generate) if _wanted() else None


def fork_generation(prepare: Callable[[], None], generate: Callable[[Any], Any]) -> Generation | None:
    """start_generation without asking whether two processes are worth it."""
    sys.stdout.flush()
    sys.stderr.flush()
    to_child, from_parent = os.pipe()[::-1]  # (write end, read end)
    from_child, to_parent = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for fd in (to_child, from_parent, from_child, to_parent):
            os.close(fd)
        return None
    if pid == 0:
        os.close(to_child)
        os.close(from_child)
        _child(prepare, generate, from_parent, to_parent)
    os.close(from_parent)
    os.close(to_parent)
    return Generation(pid, from_child, to_child)
