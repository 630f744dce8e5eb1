"""`policy import --git REPO --manifest FILE` with a document's translations: a source repository of two documents,
a German translation of one (nine revisions, one of them whitespace only, moved once, lagging: its last revision
is older than the original's last two changes) and a French one (explicit heading ids, one heading of its own).
Every translated revision becomes one commit in policy/<id>/translations/<lang>/, dated to the version of the
original in force (committed) at its date; the site then calls the lagging sections stale. Importing again adds
only new revisions; `policy translate --dated` dates a translation brought in by hand."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.support.importing import Source, build_without_pdfs
from tests.support.project import run_policy

ORGANISATION = ["--organisation", "Northwind Outfitters", "--contact", "legal@northwind.example",
                "--site-url", "https://legal.northwind.example/", "--package", "policy-site==0.1.0"]
DAY = 86_400
START = 1_583_020_800  # 2020-03-01T00:00:00Z
IDS = [f"privacy-clause-{k}" for k in range(6)]
MANIFEST = """\
title: Northwind legal documents
documents:
  - id: privacy
    paths: [privacy.md]
    translations:
      de: [de/privacy.md, older/de.md]   # the older path: moved, and rewritten at the move
      fr: fr/privacy.md
  - id: terms
    paths: terms.md
"""

# (day, what changes): the original's sections revised, the German translation following, late and then no more
PRIVACY = [(0, None), (30, 1), (100, 3), (200, 5), (400, 2), (1050, 0), (1100, 4)]
# versions:  2020.1    2020.2   2020.3    2020.4    2021.1    2023.1     2023.2
GERMAN = [(5, "all"), (35, 1), (60, 0), (110, 3), (150, "move"), (210, 5), (410, 2), (500, "space"), (1000, 4)]
IN_FORCE = ["2020.1", "2020.2", "2020.2", "2020.3", "2020.3", "2020.4", "2021.1", "2021.1"]  # per imported revision
# each section: the version in force when its German text last changed (2 at the move, 4 at the end)
SECTIONS = {0: "2020.2", 1: "2020.2", 2: "2021.1", 3: "2020.3", 4: "2021.1", 5: "2020.4"}
TERMS = [10, 120, 420, 1060]


def _english(revisions: dict[int, int]) -> str:
    sections = "\n".join(f"## Privacy clause {k}\n\nRevision {n} of clause {k}: the data we keep and why.\n"
                         for k, n in sorted(revisions.items()))
    return f"# Northwind privacy policy\n\nHow Northwind deals with privacy.\n\n{sections}"


def _german(revisions: dict[int, int], spaced: bool = False) -> str:
    sections = ("\n\n" if spaced else "\n").join(
        f"## Datenschutz Abschnitt {k}\n\nFassung {n} von Abschnitt {k}: welche Daten wir speichern und warum.\n"
        for k, n in sorted(revisions.items()))
    return f"# Datenschutzerklärung von Northwind\n\nWie Northwind mit Daten umgeht.\n\n{sections}"


def _french(n: int) -> str:
    sections = "".join(f"## Clause {k} {{#privacy-clause-{k}}}\n\nVersion {n} de la clause {k} : les données.\n\n"
                       for k in reversed(range(6)))  # explicit ids, in another order than the original's
    return (f"# Politique de confidentialité de Northwind\n\nComment Northwind traite les données.\n\n{sections}"
            "## Notes du traducteur\n\nCette traduction est fournie pour information.\n")


def _source(tmp_path: Path) -> Source:
    source = Source(tmp_path / "source")
    events: list[tuple[int, str, object]] = [(d, "privacy", k) for d, k in PRIVACY]
    events += [(d, "de", k) for d, k in GERMAN] + [(d, "terms", n) for n, d in enumerate(TERMS)]
    events += [(50, "fr", 1), (1120, "fr", 2)]
    english = {k: 0 for k in range(6)}
    german = {k: 0 for k in range(6)}
    path = "older/de.md"
    for day, what, change in sorted(events, key=lambda e: e[0]):
        when = START + day * DAY
        if what == "privacy":
            if isinstance(change, int):
                english[change] = day
            source.commit({"privacy.md": _english(english)}, f"privacy: day {day}", "Alice", when)
        elif what == "terms":
            text = f"# Terms of service\n\n## Contract\n\nTerms revision {change}.\n\n## Refunds\n\nWithin 30 days.\n"
            source.commit({"terms.md": text}, f"terms: day {day}", "Bob", when)
        elif what == "fr":
            source.commit({"fr/privacy.md": _french(int(str(change)))}, f"fr: day {day}", "Dana", when)
        else:
            if isinstance(change, int):
                german[change] = day
            if change == "move":
                source.git("rm", "-q", path)
                path = "de/privacy.md"
                german[2] = day
            source.commit({path: _german(german, spaced=change == "space")}, f"de: day {day}", "Carl", when)
    return source


def _git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True).stdout.strip()


def _import(cwd: Path, source: Source) -> subprocess.CompletedProcess:
    return run_policy(cwd, "import", "--git", str(source.path), "--manifest", "manifest.yaml", "--into", "library",
                      *ORGANISATION)


def _yaml(project: Path, commit: str, path: str) -> dict:
    return yaml.safe_load(_git(project, "show", f"{commit}:{path}"))


def test_translations_come_with_their_histories(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (tmp_path / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    result = _import(tmp_path, source)
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    print(report)
    assert "privacy in de: 9 revisions read, 8 translated revisions" in report
    assert "only whitespace" in report
    assert "heading 'Notes du traducteur' matches no section of the original" in report
    library = tmp_path / "library"
    assert [v["version"] for v in json.loads(run_policy(library, "versions", "--json", "--document", "privacy",
                                                        check=True).stdout)][::-1] == [
        "2020.1", "2020.2", "2020.3", "2020.4", "2021.1", "2023.1", "2023.2"]

    # one commit per translated revision, in date order with the rest, with the original's author and dates
    german = "policy/privacy/translations/de"
    log = _git(library, "log", "--first-parent", "--reverse", "--format=%H %at %an %s")
    commits = [line.split(" ", 3) for line in log.split("\n")]
    times = [int(c[1]) for c in commits]
    assert times == sorted(times)
    ours = [c for c in commits if c[3].startswith("de: ")]
    assert [int(c[3].split()[-1]) for c in ours] == [d for d, k in GERMAN if k != "space"]
    assert all(c[2] == "Carl" for c in ours)
    assert f"Imported from {source.path} " in _git(library, "log", "-1", "--format=%B", ours[-1][0])
    for (sha, *_), version in zip(ours, IN_FORCE):
        assert _yaml(library, sha, f"{german}/policy.yaml")["source_version"] == version
        changed = _git(library, "show", "--name-only", "--format=", sha).split("\n")
        assert all(p.startswith(german + "/") for p in changed), changed
    last = ours[-1][0]
    for k, version in SECTIONS.items():
        data = _yaml(library, last, f"{german}/sections/{IDS[k]}.yaml")
        assert data["source_version"] == version, (k, data)
        assert data["title"] == f"Datenschutz Abschnitt {k}"
    first = _yaml(library, ours[0][0], f"{german}/policy.yaml")
    assert first["title"] == "Datenschutzerklärung von Northwind"
    assert first["introduction"] == ["Wie Northwind mit Daten umgeht."]
    french = sorted(p.name for p in (library / "policy/privacy/translations/fr/sections").iterdir())
    assert french == sorted(f"{i}.yaml" for i in IDS)  # explicit ids, whatever the order; the translator's note out
    clause = yaml.safe_load((library / f"policy/privacy/translations/fr/sections/{IDS[2]}.yaml").read_text())
    assert clause["title"] == "Clause 2" and clause["source_version"] == "2023.2"

    # the site: the lagging German sections are stale, the French current
    checked = run_policy(library, "check", check=True)
    stale = sorted(line for line in checked.stderr.splitlines() if "is stale" in line)
    assert stale == [f"warning: translation privacy de: section '{IDS[k]}' is stale (it translates version "
                     f"{SECTIONS[k]}; the original changed since): update it and its source_version"
                     for k in (0, 4)], checked.stderr
    build_without_pdfs(library)
    listed = json.loads((library / "site/de/privacy/translation.json").read_text(encoding="utf-8"))
    assert listed["source_version"] == "2021.1" and listed["original_version"] == "2023.2"
    assert {s["id"]: (s["status"], s["source_version"]) for s in listed["sections"]} == {
        IDS[k]: ("stale" if k in (0, 4) else "current", v) for k, v in SECTIONS.items()}
    assert (library / "site/de/privacy/index.html").is_file()
    listed = json.loads((library / "site/fr/privacy/translation.json").read_text(encoding="utf-8"))
    assert {s["status"] for s in listed["sections"]} == {"current"}

    # again: nothing new; then one new German revision catching up: only it is added
    head = _git(library, "rev-parse", "HEAD")
    again = _import(tmp_path, source)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stdout + again.stderr
    assert _git(library, "rev-parse", "HEAD") == head and _git(library, "status", "--porcelain") == ""
    caught_up = {k: 1100 + k for k in range(6)}
    source.commit({"de/privacy.md": _german(caught_up)}, "de: caught up", "Carl", START + 1200 * DAY)
    more = _import(tmp_path, source)
    assert more.returncode == 0 and "commits written: 1 " in more.stdout, more.stdout + more.stderr
    assert _git(library, "log", "-1", "--format=%s") == "de: caught up"
    assert yaml.safe_load((library / f"{german}/sections/{IDS[0]}.yaml").read_text())["source_version"] == "2023.2"
    build_without_pdfs(library)
    listed = json.loads((library / "site/de/privacy/translation.json").read_text(encoding="utf-8"))
    assert {s["status"] for s in listed["sections"]} == {"current"}


def test_translate_dated_fills_in_source_version(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (tmp_path / "manifest.yaml").write_text(MANIFEST.split("    translations:")[0] + "  - id: terms\n"
                                            "    paths: terms.md\n", encoding="utf-8")
    assert _import(tmp_path, source).returncode == 0
    library = tmp_path / "library"
    folder = library / "policy/terms/translations/de"
    (folder / "sections").mkdir(parents=True)
    (folder / "policy.yaml").write_text("title: Nutzungsbedingungen  # by hand\n", encoding="utf-8")
    for section, text in (("contract", "Vertrag"), ("refunds", "Erstattungen")):
        (folder / "sections" / f"{section}.yaml").write_text(
            f"id: {section}\ntitle: {text}\nbody:\n  - \"{text}: übersetzt.\"\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in folder.rglob("*.yaml")}

    refused = run_policy(library, "translate", "terms", "de")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--source-version V or --dated YYYY-MM-DD" in refused.stderr
    refused = run_policy(library, "translate", "terms", "de", "--dated", "2019-01-01")
    assert refused.returncode == 1 and "no version of the original was published yet" in refused.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*.yaml")} == before

    # terms versions: 2020.1 (day 10), 2020.2 (day 120), 2021.1 (day 420), 2023.1 (day 1060); 2021-06-01 is day 457
    done = run_policy(library, "translate", "terms", "de", "--dated", "2021-06-01", check=True)
    assert "source_version 2021.1" in done.stdout and "3 files" in done.stdout, done.stdout
    assert (folder / "policy.yaml").read_text().startswith("title: Nutzungsbedingungen  # by hand\n")
    for path in folder.rglob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["source_version"] == "2021.1", path
    status = run_policy(library, "translate", "--status", check=True).stdout
    assert "stale" in status and "contract" in status  # terms changed in 2023
    again = run_policy(library, "translate", "terms", "de", "--source-version", "2023.1", check=True)
    assert "nothing was written" in again.stdout


def test_translations_in_a_bad_manifest_are_refused(tmp_path: Path) -> None:
    source = Source(tmp_path / "source")
    source.commit({"privacy.md": _english({0: 0}), "de.md": _german({0: 0})}, "both", "Alice", START)
    cases = {"translations: {Deutsch: de.md}": "not a language code",
             "translations: [de.md]": "must map each language",
             "translations: {de: privacy.md}": "a path belongs to one document or translation",
             "translations: {de: []}": "give the translation's path"}
    for line, expected in cases.items():
        (tmp_path / "manifest.yaml").write_text(f"documents:\n  - id: privacy\n    paths: privacy.md\n    {line}\n",
                                                encoding="utf-8")
        result = _import(tmp_path, source)
        assert result.returncode == 1 and expected in result.stderr, (line, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "library").exists()
    result = run_policy(tmp_path, "import", "--git", str(source.path), "--document", "privacy=privacy.md",
                        "--translation", "privacy/de=de.md", "--into", "library", *ORGANISATION, check=True)
    assert "privacy in de: 1 revisions read, 1 translated revisions" in result.stdout, result.stdout
    assert (tmp_path / "library/policy/privacy/translations/de/sections/privacy-clause-0.yaml").is_file()
