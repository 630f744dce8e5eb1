"""`make bench`'s notify figures are measured on messages really sent: a small run of the same benchmark (SQLite and
PostgreSQL, one and several workers and connections, a local counting SMTP server) sends every subscriber its notice,
or it raises; the memory figure and the ledger's ceiling come from runs that really sent and recorded. The counts
are the smallest that still give every worker and connection of every case messages to send; PostgreSQL is the
session's throw-away server (tests/support/pg.py) rather than one more of the benchmark's own."""

from __future__ import annotations

from pathlib import Path

from policy_site.bench.notify import CASES, ceiling, memory, run, table
from policy_site.bench.pgserver import ThrowawayServer


def test_the_notify_benchmark_sends_to_every_subscriber(tmp_path: Path, postgres_server: ThrowawayServer) -> None:
    result = run(12, rounds=1, pg_server=postgres_server)
    assert result["subscribers"] == 12
    assert "postgresql" not in result or not str(result["postgresql"]).startswith("skipped"), result
    assert set(result["cases"]) == {label for label, *_ in CASES}
    result["ceiling"] = ceiling(12, workers=(1, 2), pg_server=postgres_server)
    assert set(result["ceiling"]["per_s"]) == {1, 2}
    used = memory(60, tmp_path, "sqlite", send=60)
    assert used["sent"] == 60 and 0 < used["peak_rss_mb"] < 200, used
    lines = table(result, [used])
    assert any("× smtplib" in line for line in lines) and "targets: " in lines[-1]
