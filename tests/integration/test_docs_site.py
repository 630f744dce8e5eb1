"""`make docs`: this project's own documentation (README + docs/) builds with MkDocs + Material in strict mode, with
no warning — every link between the pages lands."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.project import ROOT


def test_the_documentation_builds_without_a_warning(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(ROOT / "mkdocs.docs.yml"),
                             "--site-dir", str(tmp_path / "docs-site")], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    home = (tmp_path / "docs-site" / "index.html").read_text(encoding="utf-8")
    assert "make site" in home and 'href="editors/"' in home  # the README is the home page, its links resolved
    assert (tmp_path / "docs-site" / "editors" / "index.html").is_file()
