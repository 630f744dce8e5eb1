"""The site stays publishable when plugins stop running: Zensical (Material's successor, which reads mkdocs.yml but
runs no plugins) builds the pages our plugin generated, with our theme override, from the project's own mkdocs.yml."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policy_site.bench.synthetic import make_repo
from tests.support.project import ROOT


def test_generated_pages_build_with_zensical_and_our_override(tmp_path: Path) -> None:
    pytest.importorskip("zensical", reason="make test installs Zensical (pyproject's test extras)")
    repo = make_repo(tmp_path / "repo", 3)
    subprocess.run([sys.executable, "-m", "policy_site", "build"], cwd=repo, check=True, capture_output=True)
    project = tmp_path / "zensical"
    shutil.copytree(repo / ".cache" / "pages", project / "docs")
    shutil.copytree(ROOT / "templates" / "theme", project / "overrides")
    config = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^docs_dir: .*$", "docs_dir: docs", config).replace("custom_dir: templates/theme",
                                                                              "custom_dir: overrides")
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    zensical = Path(sys.executable).parent / "zensical"
    result = subprocess.run([str(zensical), "build"], cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert 'type="application/atom+xml"' in home and 'href="./atom.xml"' in home  # our override rendered
    for version in ("1.0", "2.0", "3.0"):
        assert (project / "site" / "versions" / version / "index.html").is_file()
    assert (project / "site" / "changes" / "3.0" / "index.html").is_file()
