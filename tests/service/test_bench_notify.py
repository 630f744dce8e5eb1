"""`make bench`'s notify figures are measured on messages really sent: a small run of the same benchmark (SQLite and
PostgreSQL, one and several workers and connections, a local counting SMTP server) sends every subscriber its notice,
or it raises; the memory figure and the ledger's ceiling come from runs that really sent and recorded."""

from __future__ import annotations

from pathlib import Path

from policy_site.bench.notify import CASES, ceiling, memory, run, table


def test_the_notify_benchmark_sends_to_every_subscriber(tmp_path: Path) -> None:
    result = run(40, rounds=1)
    assert result["subscribers"] == 40
    assert "postgresql" not in result or not str(result["postgresql"]).startswith("skipped"), result
    assert set(result["cases"]) == {label for label, *_ in CASES}
    result["ceiling"] = ceiling(60, workers=(1, 2))
    assert set(result["ceiling"]["per_s"]) == {1, 2}
    used = memory(300, tmp_path, "sqlite", send=300)
    assert used["sent"] == 300 and 0 < used["peak_rss_mb"] < 200, used
    lines = table(result, [used])
    assert any("× smtplib" in line for line in lines) and "targets: " in lines[-1]
