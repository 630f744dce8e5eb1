"""A library of documents on a real repository: the seed policy published alone (1.0, 1.1), then turned into a
library of three documents (privacy, terms, cookies) — every old URL still answering —, versions published per
document, a cross-document link, a German translation with a stale and a missing section, combined feeds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import feedparser
import pytest

from tests.support.library import make_library
from tests.support.project import SUBSCRIBED, Project, copy_project


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_library(tmp_path_factory.mktemp("library") / "lib")


def site(p: Project, path: str) -> str:
    return (p.path / "site" / path).read_text(encoding="utf-8")


def test_check_passes_and_warns_about_the_translation(lib: Project) -> None:
    result = lib.checked  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr
    assert "3 documents" in result.stdout
    assert "section 'protecting-information' is stale" in result.stderr
    assert "section 'rectification-and-cancellation' is missing" in result.stderr
    assert "section 'accessing-personal-information' is untranslated" in result.stderr  # the scaffold's words
    strict = lib.run("check", "--strict-translations")
    assert strict.returncode == 1 and "4 translation problems" in strict.stderr


def test_the_library_page_lists_every_document(lib: Project) -> None:
    home = site(lib, "index.html")
    for title, version in (("SynergyCabinet: Privacy and company Policy for Customer", "1.2"),
                           ("Terms of service", "1.1"), ("Cookie policy", "1.0")):
        assert title in home and f">{version}</a>" in home
    assert 'href="privacy/"' in home and 'href="terms/"' in home


def test_each_document_publishes_on_its_own(lib: Project) -> None:
    versions = json.loads(site(lib, "versions.json"))
    assert [d["id"] for d in versions["documents"]] == ["privacy", "terms", "cookies"]
    assert {(v["document"], v["version"]) for v in versions["versions"]} == {
        ("privacy", "1.0"), ("privacy", "1.1"), ("privacy", "1.2"), ("terms", "1.0"), ("terms", "1.1"),
        ("cookies", "1.0")}
    terms = json.loads(site(lib, "terms/versions.json"))
    assert [v["version"] for v in terms["versions"]] == ["1.1", "1.0"]
    assert terms["versions"][0]["url"].endswith("/terms/versions/1.1/")
    assert "Terms 1.1 adds this." in site(lib, "terms/changes/1.1/index.html")
    listed = lib.run("versions", "--document", "terms", check=True).stdout
    assert "1.1" in listed and "1.2" not in listed
    ask = lib.run("versions")
    assert ask.returncode == 1 and "name one with --document (privacy, terms, cookies)" in ask.stderr


def test_a_link_to_another_document_is_checked_and_resolved(lib: Project, tmp_path: Path) -> None:
    assert 'href="../privacy/#protecting-information"' in site(lib, "terms/index.html") or \
        '/privacy/#protecting-information"' in site(lib, "terms/index.html")
    broken = copy_project(tmp_path / "broken")
    shutil.rmtree(broken.policy)
    shutil.copytree(lib.policy, broken.policy)
    liability = broken.policy / "terms/sections/liability.yaml"
    liability.write_text(liability.read_text().replace("doc:privacy#protecting-information", "doc:privacy#nowhere"))
    result = broken.run("check")
    assert result.returncode == 1 and "document 'privacy' has no section or anchor with that id" in result.stderr


def test_every_old_url_of_the_single_document_still_answers(lib: Project) -> None:
    old = lib.old_site  # type: ignore[attr-defined]
    new = {path.relative_to(lib.path / "site").as_posix() for path in (lib.path / "site").rglob("*") if path.is_file()}
    assert old - new == set(), "old files that no longer exist"
    moved = site(lib, "versions/1.0/index.html")
    assert 'http-equiv="refresh" content="0; url=../../privacy/versions/1.0/"' in moved
    assert 'url=../../privacy/changes/1.1/' in site(lib, "changes/1.1/index.html")
    assert json.loads(site(lib, "versions/1.1/policy.json"))["version"] == "1.1"
    compare = site(lib, "compare/index.html")
    assert "location.search" in compare  # ?from=…&to=… survives the redirect


def test_the_combined_feed_is_valid_and_keeps_old_ids(lib: Project) -> None:
    feed = feedparser.parse(site(lib, "atom.xml").encode())
    assert not feed.bozo, feed.bozo_exception
    ids = [e.id for e in feed.entries]
    assert len(ids) == 6 and len(set(ids)) == 6
    old_ids = {e.id for e in lib.old_feed.entries}  # type: ignore[attr-defined]
    assert old_ids <= set(ids), "the privacy versions announced before keep their entry ids"
    assert any(i.endswith("/terms/changes/1.1/") for i in ids)
    links = {e.link for e in feed.entries}
    assert any(link.endswith("/privacy/changes/1.1/") for link in links)
    rss = feedparser.parse(site(lib, "rss.xml").encode())
    assert not rss.bozo and len(rss.entries) == 6


def test_translated_pages_show_stale_and_missing_sections_in_the_original(lib: Project) -> None:
    page = site(lib, "de/privacy/index.html")
    assert "Datenschutzerklärung" in page and "German translation" in page
    assert "Übersetzt: Personal information protection" in page  # current: translated
    assert "Übersetzt: How does" not in page and "Translation out of date" in page  # stale: the original
    assert "Not translated yet" in page and 'lang="en"' in page and 'lang="de"' in page
    status = json.loads(site(lib, "de/privacy/translation.json"))
    by_id = {s["id"]: (s["status"], s["source_version"]) for s in status["sections"]}
    assert by_id["personal-information-protection"] == ("current", "1.1")
    assert by_id["protecting-information"] == ("stale", "1.1")
    assert by_id["rectification-and-cancellation"] == ("missing", None)
    assert status["original_version"] == "1.2" and status["controlling_language"] == "en"
    assert 'hreflang="de"' in site(lib, "index.html")  # Material's language switcher
    printed = lib.run("translate", "--status", check=True).stdout
    assert "protecting-information" in printed and "stale" in printed and "missing" in printed


def test_notify_announces_every_document(lib: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3")}
    lib.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", env=env, check=True)
    result = lib.run("notify", env=env, check=True).stdout
    assert "version 1.2 announced" in result  # privacy keeps its bare numbers
    assert "version terms/1.1 announced" in result and "version cookies/1.0 announced" in result
