"""A campaign at scale: 100,000 subscribers on PostgreSQL through a real aiosmtpd server (the counting one of the
benchmark, bench/smtpsink.py), two `policy notify` workers, one killed with SIGKILL mid-run, then a resumed run.
Every subscriber gets exactly one notice but for at most one per killed worker (the message it had in flight; the
killed one sends over one connection, the others over three: --connections),
and no notify process grows past the memory bound of a million-subscriber campaign (ISSUE 25: 200 MB peak RSS).
Not timed: how fast it runs is `make bench`'s business."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from policy_site.bench.local import free_port
from policy_site.bench.smtpsink import CountingSink
from policy_site.notify.store import SubscriberStore
from tests.support.pg import query
from tests.support.project import ROOT, SUBSCRIBED, Project

COUNT = 100_000
PEAK_RSS_MB = 200  # the bound stated for 1,000,000 subscribers; the campaign here is a tenth of that
LEASE = 3.0

pytestmark = [pytest.mark.scale, pytest.mark.long]


class Notify:
    """One `policy notify` process; its output in files (never a full pipe), its resource usage from wait4."""

    def __init__(self, project: Project, env: dict[str, str], folder: Path, name: str, connections: int = 1) -> None:
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "policy_site", "notify", "--connections",
                                             str(connections)], cwd=project.path,
                                            env={**os.environ, "PYTHONPATH": str(ROOT / "scripts"), **env},
                                            stdout=out, stderr=err, text=True)
        self.peak_mb = 0.0
        self.watch = threading.Thread(target=self._sample, daemon=True)
        self.watch.start()

    def _sample(self) -> None:
        """The peak RSS of the process's own memory (VmHWM), read until it exits. Not ru_maxrss: Linux carries the
        forking process's peak (pytest's, hundreds of MB under xdist) into a child's across exec."""
        status = f"/proc/{self.process.pid}/status"
        while self.process.returncode is None:
            try:
                with open(status) as handle:
                    line = next(x for x in handle if x.startswith("VmHWM:"))
            except (OSError, StopIteration):  # gone, or a zombie whose memory is freed
                return
            self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
            time.sleep(0.05)

    def wait(self) -> int:
        """Reap the process: its exit status (negative: the signal); its peak RSS is what _sample last read."""
        self.process.wait()
        self.watch.join()
        return self.process.returncode


def test_100000_subscribers_one_worker_killed_each_gets_one_notice(git_project: Project, pg_url: str,
                                                                    tmp_path: Path) -> None:
    store = SubscriberStore(pg_url)
    store.import_rows((f"reader{i:06d}@example.org", "", SUBSCRIBED) for i in range(COUNT))
    store.close()
    sink = CountingSink(free_port(), tmp_path).start()
    try:
        env = {"POLICY_DATABASE_URL": pg_url, "POLICY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
               "POLICY_SUBSCRIBERS_DB": str(tmp_path / "not-used.sqlite3"), "POLICY_NOTIFY_BACKOFF_SECONDS": "0",
               "POLICY_NOTIFY_LEASE_SECONDS": str(LEASE)}
        # the victim sends over one connection (a kill re-sends at most one message per connection); the others
        # over three, which is what makes 100,000 messages a few minutes rather than many
        victim, other = Notify(git_project, env, tmp_path, "victim"), Notify(git_project, env, tmp_path, "other", 3)
        mine = f"%:{victim.process.pid}:%"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and victim.process.poll() is None:  # mid-run: a tenth sent, claims held
            sent, held = query(pg_url, "SELECT COUNT(*) FILTER (WHERE status = 'sent'), COUNT(*) FILTER (WHERE "
                                       "status = 'sending' AND claimed_by LIKE %s) FROM deliveries", (mine,))[0]
            if sent >= COUNT // 10 and held:
                break
            time.sleep(0.5)
        victim.process.send_signal(signal.SIGKILL)
        assert victim.wait() == -signal.SIGKILL
        killed_at = time.monotonic()
        assert other.wait() == 0, other.err.read_text()
        time.sleep(max(0.0, LEASE + 0.2 - (time.monotonic() - killed_at)))  # the dead worker's lease runs out
        resumed = Notify(git_project, env, tmp_path, "resumed", 3)
        assert resumed.wait() == 0, resumed.err.read_text()
    finally:
        counts = sink.stop()

    assert counts["recipients"] == COUNT  # every subscriber got the notice …
    assert len(counts["repeated"]) <= 1 and all(n == 2 for n in counts["repeated"].values())  # … once, but for one
    assert counts["messages"] == COUNT + len(counts["repeated"])
    assert query(pg_url, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [("sent", COUNT)]
    assert query(pg_url, "SELECT recipients FROM announcements") == [(COUNT,)]  # announced once, by one worker
    for worker in (victim, other, resumed):
        assert worker.peak_mb < PEAK_RSS_MB, (worker.out.name, worker.peak_mb)
    progress = other.err.read_text()
    assert f"/{COUNT} (sent " in progress and "/s, ETA " in progress  # progress with an ETA on stderr …
    assert "@" not in progress  # … and never an address
    print(f"\n{COUNT} subscribers, one of two workers killed: {counts['messages']} messages, "
          f"{len(counts['repeated'])} duplicate(s); peak RSS {victim.peak_mb:.0f}/{other.peak_mb:.0f}/"
          f"{resumed.peak_mb:.0f} MB (killed/other/resumed)")
