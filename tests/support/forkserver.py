"""The `policy` command line for the tests, each command in a fresh process forked from one that imported it already.

Run as a script by tests/support/project.run_policy (not collected: no test_ prefix). It imports the CLI and what its verbs
import, then serves requests on stdin, one JSON line each ({"argv", "cwd", "env", "out", "err"}): it forks, and the
child — a new process, with nothing left of earlier commands — changes to cwd, takes env as its whole environment,
writes its stdout and stderr into the files named, runs `policy_site.cli.main(argv)` and exits as
`python -m policy_site` does (atexit handlers run, buffers flushed). The server answers each request with the
child's exit status on stdout. A request with "kill_after" (seconds) runs the child in a process group of its own
and SIGKILLs that whole group when the child has not ended by then (and any helper it left behind either way): the
status is then -9. So a command costs a fork, not a Python start-up and ~1 s of imports; what it does
and prints is what `python -m policy_site` does and prints (tests/integration/test_readme.py and the adoption
tests still start real processes from the shell and from the wheel).
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import sys

# what the verbs import on their first use; one that cannot be imported is left to the command to report
PRELOAD = [
    "policy_site.cli.main", "policy_site.cli.verbs", "policy_site.cli.site_verbs", "policy_site.cli.mail_verbs",
    "policy_site.cli.history_verbs", "policy_site.cli.check_verb", "policy_site.cli.import_verb",
    "policy_site.site.generate", "policy_site.site.mkdocs.plugin", "policy_site.site.mkdocs.commands",
    "policy_site.diff.formats", "policy_site.notify.run", "policy_site.importing",
    "mkdocs.commands.build", "mkdocs.config", "material", "markdown", "pymdownx", "git", "jinja2", "feedgen.feed",
    "lxml.etree", "babel.dates", "markdown_it", "yaml", "orjson", "bs4", "html5lib", "mammoth",
]
# the subscribers' store on PostgreSQL (every command with POLICY_DATABASE_URL), what reading mkdocs.yml's plugins imports
PRELOAD += ["psycopg", "policy_site.notify.postgres", "policy_site.notify.store", "mkdocs.config.defaults",
            "mkdocs.contrib.search", "material.plugins.search.plugin", "markdown.extensions.attr_list",
            "markdown.extensions.codehilite", "markdown.extensions.fenced_code", "markdown.extensions.tables", "colorama"]


def _child(request: dict) -> int:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, name, flags in ((0, os.devnull, os.O_RDONLY), (1, request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(name, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["policy", *request["argv"]]
    from policy_site.cli import main
    return main(request["argv"])


def _wait(pid: int, kill_after: float | None) -> int:
    """The child's exit status; with kill_after, the child's process group SIGKILLed once that many seconds passed."""
    if kill_after is not None:
        try:
            os.setpgid(pid, pid)  # (the child does it too: whichever runs first)
        except OSError:
            pass
        with os.fdopen(os.pidfd_open(pid), "rb", buffering=0) as ended:
            if not select.select([ended], [], [], kill_after)[0]:
                os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if kill_after is not None:
        try:
            os.killpg(pid, signal.SIGKILL)  # a forked helper left behind by the group
        except ProcessLookupError:
            pass
    return os.waitstatus_to_exitcode(status)


def serve() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the command itself reports it
            pass
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # nothing but answers on the pipe the tests read
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            answers.close()
            if request.get("kill_after") is not None:
                os.setpgid(0, 0)
            sys.exit(_child(request))  # unwinds out of this loop: the interpreter ends as `python -m` would
        answers.write(f"{_wait(pid, request.get('kill_after'))}\n")


if __name__ == "__main__":
    serve()
