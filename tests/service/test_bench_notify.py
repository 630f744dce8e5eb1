"""`make bench`'s notify figures are measured on messages really sent: a small run of the same benchmark (SQLite and
PostgreSQL, a local SMTP server) sends every subscriber its notice, or it raises."""

from __future__ import annotations

from policy_site.bench.notify import run


def test_the_notify_benchmark_sends_to_every_subscriber() -> None:
    result = run(40, rounds=1)
    assert result["subscribers"] == 40
    assert "postgresql" not in result or not str(result["postgresql"]).startswith("skipped"), result
