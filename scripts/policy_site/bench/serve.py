"""Edit-to-reload under `policy serve`: save one section file, time until the served home page shows the edit.

The clock starts when the file is written and stops when an HTTP GET of / returns the new text (polled every
20 ms): the watcher's polling, MkDocs' quiet period, the rebuild and serving the page are all included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from .local import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[3]


def edit_section(repo: Path, n: int, document: str = "policy") -> str:
    """Rewrite the first paragraph of the n-th section of policy/ (a synthetic repository; `document`: the
    document's folder, policy/doc-01 in a library); the new text."""
    order = yaml.safe_load((repo / document / "policy.yaml").read_text())["sections"]
    path = repo / document / "sections" / f"{order[n % len(order)]}.yaml"
    section = yaml.safe_load(path.read_text())
    text = f"Saved for the live preview, edit number {n}."
    section["body"][0] = text
    path.write_text(yaml.safe_dump(section, sort_keys=False))
    return text


def edit_to_reload(repo: Path, edits: int = 3, edit: Callable[[Path, int], str] = edit_section,
                   ready: str = "policy-meta", start_timeout: float = 900, page: str = "") -> list[float]:
    """Serve repo, then make `edits` edits one after the other; seconds from each save to the page (`page`: its
    path, the home page by default) showing it. The working tree is restored afterwards (git checkout)."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "policy_site", "serve", "--dev-addr", f"127.0.0.1:{port}"],
                              cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
    url = f"http://127.0.0.1:{port}/{page}"
    times: list[float] = []
    try:
        if wait_for(url, ready, start_timeout) is None:
            raise RuntimeError(f"policy serve did not start in {start_timeout:.0f} s")
        time.sleep(1.0)  # the watcher's first snapshot
        for n in range(edits):
            elapsed = wait_for(url, edit(repo, n), 60)
            if elapsed is None:
                raise RuntimeError(f"edit {n} never showed on {url}")
            times.append(elapsed)
            time.sleep(0.5)
    finally:
        stop(server, timeout=30)
        subprocess.run(["git", "checkout", "-q", "--", "policy"], cwd=repo, check=False)
    return times
