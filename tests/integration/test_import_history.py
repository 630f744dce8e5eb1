"""`policy import --git`: the history of a Markdown policy in another repository (a rename, a rewrite, a retitled
heading, a table edit, whitespace-only and front-matter-only commits, redirect_from) becomes a new project whose
versions are checked one by one; the import time of a 65-revision history is measured."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import yaml

from tests.support.importing import Source, build_without_pdfs, record
from tests.support.project import run_policy

ORGANISATION = ["--organisation", "Northwind Outfitters", "--contact", "privacy@northwind.example",
                "--site-url", "https://privacy.northwind.example/", "--package", "policy-site==0.1.0"]
DAY = 86_400
START = 1_614_556_800  # 2021-03-01T00:00:00Z


FRONT = "---\ntitle: Privacy\nredirect_from:\n  - /privacy.html\n---\n"
COOKIES = ("| Cookie | Purpose | Expires |\n|---|---|---|\n| `nw_session` | Keeps you signed in | End of session |\n"
           "| `_ga` | Google Analytics | 2 years |\n")
COLLECT = ("We collect your name, your postal address, your email address and your order history when you buy "
           "from us, and technical data about your device when you use our website.")


def document(effective: str, sharing: str, collect_title: str = "What we collect", extra: str = "",
             cookies: str = COOKIES, front: str = FRONT) -> str:
    return (f"{front}# Northwind privacy policy\n\nEffective date: {effective}\n\nThis policy explains how Northwind "
            f"handles personal data.\n\n## Who we are\n\nNorthwind Outfitters Ltd\\\n12 Quayside Road\\\nBristol\n\n"
            f"## {collect_title}\n\n{COLLECT}{extra}\n\n### Cookies\n\nTable 1: Cookies we use\n\n{cookies}\n"
            f"## Sharing\n\n{sharing}\n\n## Your rights\n\nYou may ask for a copy of your data at any time.\n")


SHARING_1 = "We share your data with our delivery companies and our payment provider, and with nobody else."
SHARING_2 = ("Advertising partners receive a pseudonymous identifier when you accept marketing cookies; the police "
             "receive what a court order names.")


def _history(source: Source) -> dict[str, str]:
    """The scripted history; the commit ids by name."""
    shas = {}
    shas["first"] = source.commit({"docs/privacy.md": document("March 1, 2021", SHARING_1)},
                                  "Publish the privacy policy", "Alice", START)
    shas["spaces"] = source.commit({"docs/privacy.md": document("March 1, 2021", SHARING_1).replace(
        "\n\n## Sharing", "\n\n\n\n## Sharing").replace("when you buy", "when  you buy")},
        "Tidy blank lines", "Bob", START + 100 * DAY)
    shas["rewrite"] = source.commit({"docs/privacy.md": document("September 1, 2021", SHARING_2)},
                                    "Rewrite the sharing section\n\nAdvertising partners now get an identifier.",
                                    "Alice", START + 180 * DAY)
    source.git("mv", "docs/privacy.md", "privacy-policy.md")
    shas["rename"] = source.commit({}, "Move the policy to the top folder", "Carol", START + 320 * DAY)
    shas["retitle"] = source.commit({"privacy-policy.md": document(
        "September 1, 2021", SHARING_2, "Information we collect", " We keep it no longer than we need it.")},
        "Retitle 'What we collect'", "Bob", START + 340 * DAY)
    more = COOKIES + "| `fr` | Facebook adverts | 3 months |\n"
    shas["table"] = source.commit({"privacy-policy.md": document(
        "March 1, 2022", SHARING_2, "Information we collect", " We keep it no longer than we need it.", more)},
        "Add the Facebook cookie", "Alice", START + 365 * DAY)
    shas["blank"] = source.commit({"privacy-policy.md": document(
        "March 1, 2022", SHARING_2, "Information we collect", " We keep it no longer than we need it.", more)
        + "\n\n<!-- reviewed by legal -->\n"}, "Review note", "Bob", START + 370 * DAY)
    shas["front"] = source.commit({"privacy-policy.md": document(
        "March 1, 2022", SHARING_2, "Information we collect", " We keep it no longer than we need it.", more,
        front=FRONT.replace("  - /privacy.html\n", "  - /privacy.html\n  - /legal/privacy-notice/\n"))
        + "\n\n<!-- reviewed by legal -->\n"}, "Old address of the page", "Carol", START + 380 * DAY)
    shas["backdated"] = source.commit({"privacy-policy.md": document(
        "January 1, 2020", SHARING_2 + " We never sell it.", "Information we collect",
        " We keep it no longer than we need it.", more,
        front=FRONT.replace("  - /privacy.html\n", "  - /privacy.html\n  - /legal/privacy-notice/\n"))},
        "We never sell data", "Alice", START + 700 * DAY)
    return shas


def test_history_is_replayed_version_by_version(tmp_path: Path) -> None:
    source = Source(tmp_path / "source")
    shas = _history(source)
    result = run_policy(tmp_path, "import", "--git", str(source.path), "--path", "privacy-policy.md", "--into",
                        "project", *ORGANISATION, check=True)
    report = result.stdout
    project = tmp_path / "project"
    assert "revisions read: 9; commits written: 5; skipped: 4" in report, report
    for name in ("spaces", "rename", "blank", "front"):
        assert f"{shas[name][:10]} " in report and "only whitespace, comments, attribute lists or front matter changed" in report
    assert "docs/privacy.md → privacy-policy.md in " + shas["rename"][:10] in report
    assert "/legal/privacy-notice/ → /" in report

    versions = json.loads(run_policy(project, "versions", "--json", check=True).stdout)
    assert [v["version"] for v in reversed(versions)] == ["2021.1", "2021.2", "2022.1", "2022.2", "2023.1"]
    assert [v["effective"] for v in reversed(versions)] == ["2021-03-01", "2021-09-01", "2021-09-01", "2022-03-01",
                                                            "2022-03-01"]  # the backdated line never goes back
    assert "effective 2020-01-01 is before the previous version's 2022-03-01" in report

    log = project.joinpath(".git").exists() and subprocess.run(
        ["git", "log", "--reverse", "--format=%H%x1f%an%x1f%ae%x1f%ad%x1f%cn%x1f%cd%x1f%B%x1e", "--date=raw"],
        cwd=project, capture_output=True, text=True, check=True).stdout
    records = [r.strip("\n").split("\x1f") for r in log.split("\x1e") if r.strip()]
    kept = ["first", "rewrite", "retitle", "table", "backdated"]
    assert len(records) == len(kept)
    for record_, name in zip(records, kept):
        original = source.git("log", "-1", "--format=%an%x1f%ae%x1f%ad%x1f%cn%x1f%cd%x1f%B", "--date=raw",
                              shas[name]).split("\x1f")
        assert record_[1:6] == original[:5]  # author, email, author date, committer, committer date
        assert record_[6].startswith(original[5].strip())
        assert f"Imported from {source.path} {shas[name]}" in record_[6]

    mkdocs = yaml.safe_load((project / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", ""))
    policy_options = next(p["policy"] for p in mkdocs["plugins"] if isinstance(p, dict) and "policy" in p)
    assert policy_options["redirects"] == {"/privacy.html": "/", "/legal/privacy-notice/": "/"}

    renamed = json.loads(run_policy(project, "diff", "2021.2", "2022.1", "--format", "json", check=True).stdout)
    kinds = {s["id"]: s["kinds"] for s in renamed["sections"]}
    assert "renamed" in kinds["what-we-collect"], kinds  # same id, new title
    assert renamed["counts"]["added"] == 0 and renamed["counts"]["removed"] == 0
    rewritten = json.loads(run_policy(project, "diff", "2021.1", "2021.2", "--format", "json", check=True).stdout)
    assert {s["id"]: s["kinds"] for s in rewritten["sections"]}["sharing"] == ["modified"]
    table = run_policy(project, "diff", "2022.1", "2022.2", check=True).stdout
    assert "| {+fr+} | {+Facebook adverts+} | {+3 months+} |" in table, table
    table_json = json.loads(run_policy(project, "diff", "2022.1", "2022.2", "--format", "json", check=True).stdout)
    [cookies] = table_json["sections"]
    rows = [(block["status"], block["pieces"][0][1]) for block in cookies["redline"] if block["kind"] == "tr"]
    assert rows == [("equal", "nw_session Keeps you signed in End of session"), ("equal", "_ga Google Analytics 2 years"),
                    ("insert", "fr Facebook adverts 3 months")]  # the row added, the others unchanged

    run_policy(project, "check", check=True)
    build_without_pdfs(project)
    assert (project / "site" / "versions" / "2021.1" / "index.html").exists()
    for legacy in ("privacy.html", "legal/privacy-notice/index.html"):  # redirect_from: the old URLs answer
        page = (project / "site" / legacy).read_text(encoding="utf-8")
        assert 'http-equiv="refresh"' in page and "https://" in page


def test_older_paths_continue_the_history(tmp_path: Path) -> None:
    """A rename git cannot see (the text changed too much with it) is bridged by an older --path."""
    source = Source(tmp_path / "source")
    source.commit({"old/policy.md": "# Policy\n\nEffective date: 2021-03-01\n\n## Data\n\nWe keep little data.\n"},
                  "First", "Alice", START)
    source.git("rm", "-q", "old/policy.md")
    source.commit({"privacy.md": "# Privacy policy\n\n## Data we hold\n\nA completely different text about "
                                 "information and how long it stays with us.\n"}, "Rewritten", "Bob", START + DAY)
    result = run_policy(tmp_path, "import", "--git", str(source.path), "--path", "privacy.md", "--path",
                        "old/policy.md", "--versions", "sequence", "--into", "project", *ORGANISATION, check=True)
    assert "old/policy.md → privacy.md (given with --path" in result.stdout
    versions = json.loads(run_policy(tmp_path / "project", "versions", "--json", check=True).stdout)
    assert [v["version"] for v in reversed(versions)] == ["1.0", "2.0"]
    assert [v["effective"] for v in reversed(versions)] == ["2021-03-01", "2021-03-02"]  # commit date when none


def test_import_time_of_a_long_history(tmp_path: Path) -> None:
    source = Source(tmp_path / "source")
    sections = [f"## Section {n}\n\n" + " ".join(f"word{n}x{k}" for k in range(60)) + "\n" for n in range(12)]
    count = 65
    for n in range(count):
        if n % 9 == 8:
            text = (tmp_path / "source" / "policy.md").read_text() + "\n"  # whitespace only
        else:
            sections[n % 12] = f"## Section {n % 12}\n\nRevision {n}: " + " ".join(
                f"w{n}x{k}" for k in range(60)) + "\n"
            text = f"# Policy\n\nEffective date: {2020 + n // 20}-01-0{1 + n % 9}\n\n" + "\n".join(sections)
        source.commit({"policy.md": text}, f"Revision {n}", "Alice", START + n * 7 * DAY)
    started = time.monotonic()
    result = run_policy(tmp_path, "import", "--git", str(source.path), "--path", "policy.md", "--into", "project",
                        *ORGANISATION, check=True)
    elapsed = time.monotonic() - started
    written = int(result.stdout.split("commits written: ")[1].split(";")[0])
    assert written == count - count // 9
    run_policy(tmp_path / "project", "check", check=True)
    record("history", {"revisions": count, "commits_written": written, "import_seconds": round(elapsed, 2),
                       "command": "policy import --git SOURCE --path policy.md --into project (subprocess, "
                                  "interpreter start included)"})
    print(f"import of {count} revisions ({written} commits): {elapsed:.2f} s")
