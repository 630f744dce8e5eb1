"""`make bench`: a legal-documents repository imported into one library (`policy import --git --manifest`).

The repository of the acceptance test (legal_repository.py: three documents of 30+ revisions over renamed paths,
two lagging translations, attribute lists, anchors, lists in table cells) is imported whole into a new library;
then one more revision is made in the source, imported again (only it is added), and the library rebuilt warm.
Reported beside the one-version build of the same run: the import, the cold build, the re-import and the warm
rebuild after one more revision (target, as for every warm rebuild: ≤ 2× a one-version build).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .legal_repository import DAY, MANIFEST, build
from .sites import Run, timed

ORGANISATION = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
                "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]


def measure_import(work: Path, one_version_build: Callable[[], Run]) -> dict:
    """The import, the cold build, the re-import of one more revision and the warm rebuild, in seconds."""
    repository = build(work / "legal-source")
    files = work / "documents.yaml"
    files.write_text(MANIFEST, encoding="utf-8")
    library = work / "legal-library"
    command = [sys.executable, "-m", "policy_site", "import", "--git", str(repository.source.path), "--manifest",
               str(files), "--into", str(library), *ORGANISATION]
    first = timed(command, work)
    cold = timed([sys.executable, "-m", "policy_site", "build"], library)
    repository.revise("terms", repository.last + 5 * DAY)
    again = timed(command, work)
    warm = timed([sys.executable, "-m", "policy_site", "build"], library)
    one = one_version_build()
    revisions = sorted(doc.count for doc in repository.docs.values())
    return {"documents": len(repository.docs), "revisions_each": f"{revisions[0]}–{revisions[-1]}",
            "translations": len(repository.translated), "import_s": round(first.wall, 3),
            "cold_build_s": round(cold.wall, 3), "reimport_s": round(again.wall, 3),
            "warm_build_s": round(warm.wall, 3), "warm_build_cpu_s": round(warm.cpu, 3),
            "one_version_build_s": round(one.wall, 3), "e_over_1v": round(warm.wall / one.wall, 2),
            "e_over_1v_cpu": round(warm.cpu / one.cpu, 2)}


def line(row: dict) -> str:
    return (f"library import ({row['documents']} documents × {row['revisions_each']} revisions, "
            f"{row['translations']} translations): import "
            f"{row['import_s']:.2f}s, cold build {row['cold_build_s']:.2f}s, one more revision imported "
            f"{row['reimport_s']:.2f}s, warm rebuild {row['warm_build_s']:.2f}s = {row['e_over_1v']:.2f}× a "
            f"one-version build ({row['e_over_1v_cpu']:.2f}× in CPU; target ≤ 2)")
