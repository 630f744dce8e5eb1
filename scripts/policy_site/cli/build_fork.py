"""`policy build` generates the site's sources in a second process while the first one loads MkDocs.

Before MkDocs renders a page, a build reads mkdocs.yml through MkDocs (importing MkDocs, Material and the
Markdown extensions) and generates the site's sources: it imports GitPython, markdown-it, feedgen and this
package's source, history and diff code, validates the working tree, reads the history and writes the pages and
feeds. Neither needs the other until MkDocs' `on_config`, and on a small policy the two take about as long as
all the rendering after them. So `policy build` forks once, first thing: the child imports the generator while
the parent reads mkdocs.yml; the parent sends it the settings it made (so the two never disagree), and the child
generates (`cli/site_verbs._generate_ahead`: exactly what `policy build` would do before and in `on_config`).
Meanwhile the parent does what needs no generated file (cli/site_verbs._meanwhile: the theme's templates
compiled, the page cache's headers and the list of site_dir's files read), then hands the child's summary
(site/generated.py) to the plugin, which then generates nothing. The child may fork once more to write the
translations, the library's pages and some documents beside it (site/generate.py).

The child writes only what a generation writes (the generated folder and the caches under .cache/) and prints
nothing: what it would have printed on standard error (notes about the caches) goes to the parent, which prints
it. What only the next build reads (the parse cache, the record of generated files) the child saves after it
sent its summary (`Then`), while MkDocs renders; the parent waits for it, and prints its notes, before it ends.
Whatever goes wrong in the child (a mistake in the policy, a crash, a kill), the parent generates itself,
exactly as with one process, so every error reads and exits as before. The parent stops and waits for the
child when it fails first. One process only with POLICY_BUILD_PROCESSES=1, on one CPU, or without fork.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..pipes import fork, may_fork, read_all, read_exactly, write_all

_LENGTH = struct.Struct("!Q")  # each message: its length, then the pickle


@dataclass
class Then:
    """What a generate function may return: `value` goes to the parent at once, then the child runs `then()`."""

    value: Any
    then: Callable[[], None]


class Generation:
    """The child process that generates: given the settings once, it sends back its summary."""

    def __init__(self, pid: int, reader: int, writer: int) -> None:
        self.pid, self.reader, self.writer = pid, reader, writer

    def _message(self) -> Any:
        """The child's next message, or None (it died, or said everything)."""
        try:
            head = read_exactly(self.reader, _LENGTH.size)
            return pickle.loads(read_exactly(self.reader, _LENGTH.unpack(head)[0]))
        except Exception:  # noqa: BLE001 - cut short or unreadable: the child died
            return None

    def _finish(self) -> Any:
        """The child's last message (None if it sent none), once it has ended."""
        if self.writer >= 0:
            os.close(self.writer)
            self.writer = -1
        if self.reader < 0:
            return None
        try:
            return self._message()
        finally:
            os.close(self.reader)
            self.reader = -1
            os.waitpid(self.pid, 0)

    def result(self, settings: Any, meanwhile: Callable[[], None] = lambda: None) -> Any | None:
        """Send the settings, run meanwhile(), then the child's summary, its notes printed; None when it did not
        generate (the caller then does)."""
        try:
            write_all(self.writer, pickle.dumps(settings))
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.cancel()
            return None
        os.close(self.writer)
        self.writer = -1
        meanwhile()
        try:
            done, summary, notes, more = self._message()
        except Exception:  # noqa: BLE001 - nothing read: the child died
            done, more = False, False
        if not more:
            self._finish()
        if not done:
            return None
        sys.stderr.write(notes)
        return summary

    def close(self) -> None:
        """Wait for the child to finish what it does after its summary, and print its notes."""
        late = self._finish()
        if isinstance(late, str):
            sys.stderr.write(late)

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


def _send(fd: int, data: bytes) -> None:
    """One message: its length, then the pickled bytes."""
    write_all(fd, _LENGTH.pack(len(data)) + data)


def _child(prepare: Callable[[], None], generate: Callable[[Any], Any], reader: int, writer: int) -> None:
    """Import, wait for the settings, generate and send (done, summary, notes, more) to the parent; with `more`,
    then run what generate left for after (Then) and send its notes; never returns."""
    then: Callable[[], None] | None = None
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        notes = io.StringIO()
        sys.stdout, sys.stderr = io.StringIO(), notes
        logging.disable(logging.CRITICAL)
        # This process lives for one generation, and most of what it reads lives as long (the parse cache's
        # policies and diffs): the collector would go through them again and again, for a tenth of a second in a
        # library's rebuild, and find little. Once they are read, generate_site freezes them and turns the
        # collector on (pipes.collect_from_now): writing the pages leaves cycles, a third of the peak memory.
        gc.disable()
        prepare()
        settings = pickle.loads(read_all(reader))
        summary = generate(settings)
        if isinstance(summary, Then):
            summary, then = summary.value, summary.then
        message = pickle.dumps((True, summary, notes.getvalue(), then is not None))
    except BaseException:  # the parent generates again and reports it as one process would
        message, then = pickle.dumps((False, None, "", False)), None
    try:
        _send(writer, message)
        if then is not None:
            sys.stderr = notes = io.StringIO()
            try:
                then()
            finally:
                _send(writer, pickle.dumps(notes.getvalue()))
    finally:
        os._exit(0)


def start_generation(prepare: Callable[[], None], generate: Callable[[Any], Any]) -> Generation | None:
    """Fork a child that runs prepare() at once, then generate(settings) with the settings Generation.result
    sends; or None, to generate in this process."""
    return fork_generation(prepare, generate) if may_fork() else None


def fork_generation(prepare: Callable[[], None], generate: Callable[[Any], Any]) -> Generation | None:
    """start_generation without asking whether two processes are worth it."""
    to_child, from_parent = os.pipe()[::-1]  # (write end, read end)
    from_child, to_parent = os.pipe()
    try:
        pid = fork()
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
