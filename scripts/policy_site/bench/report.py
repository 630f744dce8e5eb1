"""`make bench`'s table of the build figures and the targets met or not (the figures: sites.py)."""

from __future__ import annotations

HEADER = (f"{'versions':>8} {'pages':>6} {'a git':>7} {'b cold':>7} {'b/a':>5} {'b warm':>7} {'bw/a':>5} "
          f"{'c mkdocs':>9} {'d ours':>7} {'d/c':>5} {'cpu':>5} {'d0/c':>5} {'e warm':>7} {'e/1v':>5} {'cpu':>5} "
          f"{'reload':>7} "
          f"{'RSS MB':>7} {'cache MB':>9} {'load s':>7} {'html MB':>8}")


def line(row: dict) -> str:
    return (f"{row['label']:>8} {row['pages']:>6} {row['a_git_log_s']:>7.3f} {row['b_history_diff_s']:>7.3f} "
            f"{row['b_over_a']:>5.2f} {row['b_warm_s']:>7.3f} {row['b_warm_over_a']:>5.2f} "
            f"{row['c_plain_mkdocs_s']:>9.2f} {row['d_our_build_s']:>7.2f} {row['d_over_c']:>5.2f} "
            f"{row['d_over_c_cpu']:>5.2f} {row['d0_over_c']:>5.2f} {row['e_warm_rebuild_s']:>7.2f} "
            f"{row['e_over_one_version']:>5.2f} "
            f"{row['e_over_one_version_cpu']:>5.2f} "
            f"{row.get('reload_median_s', 0):>7.2f} {row['peak_rss_mb']:>7.1f} {row['cache_mb']:>9.2f} "
            f"{row['cache_load_s']:>7.3f} {row['page_cache_mb']:>8.1f}")


def verdicts(rows: list[dict]) -> list[str]:
    """The targets, met or not, per size (the build ratios also in CPU seconds, steadier on a busy machine)."""
    def said(ok: bool) -> str:
        return "met" if ok else "NOT met"

    out = []
    for row in rows:
        checks = [f"d ≤ 1.3×c {said(row['d_over_c'] <= 1.3)} (CPU: {said(row['d_over_c_cpu'] <= 1.3)}; "
                  f"nothing cached: {said(row['d0_over_c'] <= 1.3)})",
                  f"e ≤ 2×1v {said(row['e_over_one_version'] <= 2)} (CPU: {said(row['e_over_one_version_cpu'] <= 2)})"]
        if "reload_median_s" in row:
            checks.append(f"reload ≤ 1 s {said(row['reload_median_s'] <= 1.0)}")
        checks.append(f"RSS ≤ 300 MB {said(row['peak_rss_mb'] <= 300)}")
        out.append(f"{row['label']:>8}: " + ", ".join(checks))
    return out
