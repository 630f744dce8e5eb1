"""A library story on a real repository, shared by tests/integration/test_library.py and tests/browser/test_browser_library.py.

The seed policy published alone (1.0, 1.1), then turned into a library of three documents (privacy, terms,
cookies), versions published per document, a cross-document link, and a German translation of privacy with a
stale and a missing section.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
import yaml

from tests.support.project import Project, copy_project

ORG = {"name": "SynergyCabinet", "contact": "privacy@synergycabinet.example"}


def document(p: Project, doc: str, title: str, version: str, sections: dict[str, list]) -> None:
    folder = p.policy / doc
    (folder / "sections").mkdir(parents=True, exist_ok=True)
    meta = {"title": title, "version": version, "effective": "2026-11-01", "summary": f"{title} {version}.",
            "organisation": ORG, "sections": list(sections)}
    (folder / "policy.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    for sid, body in sections.items():
        data = {"id": sid, "title": sid.replace("-", " ").capitalize(), "body": body}
        (folder / "sections" / f"{sid}.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def library_file(p: Project, documents: list[str]) -> None:
    data = {"title": "SynergyCabinet policies", "documents": documents, "formerly_single": "privacy"}
    (p.policy / "library.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def small_library(path: Path) -> Project:
    """A library of two documents, committed as version 1.0 of each: privacy (the seed, with a German translation)
    and terms. Quick: nothing is built."""
    p = copy_project(path).init_git()
    (p.policy / "privacy").mkdir()
    shutil.move(str(p.policy / "policy.yaml"), str(p.policy / "privacy" / "policy.yaml"))
    shutil.move(str(p.policy / "sections"), str(p.policy / "privacy" / "sections"))
    document(p, "terms", "Terms of service", "1.0", {"liability": ["We are liable as the law says."]})
    (p.policy / "library.yaml").write_text(yaml.safe_dump({"title": "SynergyCabinet policies",
                                                           "documents": ["privacy", "terms"]}, sort_keys=False))
    p.run("translate", "privacy", "de", check=True)
    p.commit("Publish the privacy policy and the terms, version 1.0")
    return p


def make_library(path: Path) -> Project:
    """The story of the module docstring, built; `old_site`, `old_feed` and `checked` kept on the project."""
    p = copy_project(path).init_git()
    p.meta(effective="2020-01-01")
    p.commit("Privacy 1.0")
    p.meta(version="1.1", effective="2020-06-01", summary="Privacy 1.1.")
    section = p.read("sections/protecting-information.yaml")
    section["body"].append("A paragraph added in 1.1.")
    p.write("sections/protecting-information.yaml", section)
    p.commit("Privacy 1.1")
    p.run("build", check=True)
    p.old_site = {path.relative_to(p.path / "site").as_posix()  # type: ignore[attr-defined]
                  for path in (p.path / "site").rglob("*") if path.is_file()}
    p.old_feed = feedparser.parse((p.path / "site/atom.xml").read_bytes())  # type: ignore[attr-defined]
    # the conversion: privacy moves into policy/privacy/, two documents join it
    (p.policy / "privacy").mkdir()
    p.git("mv", "policy/policy.yaml", "policy/privacy/policy.yaml")
    p.git("mv", "policy/sections", "policy/privacy/sections")
    document(p, "terms", "Terms of service", "1.0", {"liability": [
        "We are liable as the law says; see [how we protect your data](doc:privacy#protecting-information)."]})
    document(p, "cookies", "Cookie policy", "1.0", {"cookies-we-use": [
        {"table": {"header": ["Cookie", "Purpose"], "rows": [["session", "Signs you in"]]}}]})
    library_file(p, ["privacy", "terms", "cookies"])
    p.commit("A library of three documents")
    # terms publishes 1.1 on its own
    document(p, "terms", "Terms of service", "1.1", {"liability": [
        "We are liable as the law says; see [how we protect your data](doc:privacy#protecting-information).",
        "Terms 1.1 adds this."]})
    p.commit("Terms 1.1")
    # a German translation of privacy: translated at 1.1, one section missing; then privacy 1.2 changes another
    assert p.run("translate", "privacy", "de", check=True).returncode == 0
    de = p.policy / "privacy/translations/de"
    meta = yaml.safe_load((de / "policy.yaml").read_text())
    meta["title"] = "Datenschutzerklärung"
    (de / "policy.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    for name in ("personal-information-protection", "protecting-information"):
        data = yaml.safe_load((de / "sections" / f"{name}.yaml").read_text())
        data["title"] = f"Übersetzt: {data['title']}"
        (de / "sections" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    (de / "sections/rectification-and-cancellation.yaml").unlink()
    p.commit("German translation")
    section = yaml.safe_load((p.policy / "privacy/sections/protecting-information.yaml").read_text())
    section["body"].append("A paragraph added in 1.2.")
    (p.policy / "privacy/sections/protecting-information.yaml").write_text(yaml.safe_dump(section, sort_keys=False))
    meta = yaml.safe_load((p.policy / "privacy/policy.yaml").read_text())
    meta.update(version="1.2", effective="2020-09-01", summary="Privacy 1.2.")
    (p.policy / "privacy/policy.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    p.commit("Privacy 1.2")
    p.checked = p.run("check")  # type: ignore[attr-defined]
    p.run("build", check=True)
    return p


