"""Generated files reused between builds (site/gencache.py): after one new version only the files that show it are
rendered again, the folder is byte-identical to a cold generation, and a changed file, a damaged record or a
cache folder that cannot be written costs time, never the build."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from policy_site.bench.synthetic import add_version, make_repo
from policy_site.errors import UserError
from policy_site.settings import Settings
from policy_site.site.feeds import FeedBuilder
from policy_site.site.gencache import RECORD, GeneratedFiles
from policy_site.site.generate import GeneratedSite, generate_site
from policy_site.site.mkdocs.plugin import load_settings
from policy_site.site.page_inputs import VersionPage
from policy_site.site.page_types import PAGE_TYPES, nav_pages
from tests.support.project import ROOT
from tests.support.site import assert_same_site, build

pytestmark = pytest.mark.long

EPOCH = "1700000000"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def settings_of(repo: Path, other: Path | None = None) -> Settings:
    """The repository's settings; with `other`, generating into other/pages with its cache in other/cache."""
    settings = load_settings(repo / "mkdocs.yml")
    if other is not None:
        settings = settings.with_options(pages_dir=str(other / "pages"), cache_dir=str(other / "cache"))
    return settings


def generate(repo: Path, other: Path | None = None) -> GeneratedSite:
    generated = generate_site(settings_of(repo, other))
    assert generated.files is not None
    return generated


def assert_same_as_cold(repo: Path, tmp_path: Path) -> None:
    """The generated folder equals one generated from nothing (another folder, no cache)."""
    cold = tmp_path / f"cold-{len(list(tmp_path.glob('cold-*')))}"
    generate(repo, cold)
    warm, fresh = tree(settings_of(repo).pages_dir), tree(cold / "pages")
    assert warm.keys() == fresh.keys()
    assert [name for name in warm if warm[name] != fresh[name]] == []


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    made = make_repo(tmp_path / "repo", 12)
    first = generate(made)
    assert first.files is not None and first.files.reused == 0
    return made


@pytest.fixture(scope="module")
def built_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-version repository after one cold `policy build`, for this module; tests copy it."""
    made = make_repo(tmp_path_factory.mktemp("gencache-built") / "repo", 3)
    build(made, int(EPOCH))
    return made


def test_a_new_version_regenerates_only_the_files_that_show_it(repo: Path, tmp_path: Path) -> None:
    again = generate(repo).files
    assert again is not None and again.rendered == 0 and again.made == [], again.made
    add_version(repo)
    generated = generate(repo)
    files = generated.files
    assert files is not None
    model = generated.model
    new, before = model.entries[-1], model.entries[-2]
    assert (new.version, before.version) == ("13.0", "12.0")
    builder = FeedBuilder(model)
    sections = builder.touched(new) | builder.touched(before)  # the section feeds that list either
    expected = {t.at(v) + "index.md" for t in PAGE_TYPES if t.per_version for v in ("12.0", "13.0")}
    expected |= {"versions/12.0/policy.json", "versions/13.0/policy.json"}  # (make_repo: no PDF, no Word file)
    # and every page in the navigation (the current version, the archive, the latest changes, the follow and
    # compare pages), and the main feeds
    expected |= nav_pages(model) | {"atom.xml", "rss.xml", "feed.json"}
    expected |= {f"sections/{s}/atom.xml" for s in sections}
    assert set(files.made) == expected, sorted(set(files.made) ^ expected)
    # every older version's pages and policy.json, and the other section feeds, were left as they were
    assert files.reused >= 3 * 11 + len(model.section_ids) - len(sections)
    assert_same_as_cold(repo, tmp_path)


def test_a_file_changed_in_the_generated_folder_is_rendered_again(repo: Path, tmp_path: Path) -> None:
    page = settings_of(repo).pages_dir / "versions/3.0/index.md"
    page.write_text(page.read_text() + "tampered\n")
    files = generate(repo).files
    assert files is not None and files.made == ["versions/3.0/index.md"]
    assert "tampered" not in page.read_text()
    assert_same_as_cold(repo, tmp_path)


@pytest.mark.parametrize("damage", [b"\x80not json{", b'{"format": "policy-site generated files 1"}', b"[]",
                                    b'{"format": "policy-site generated files 0", "files": {}}'])
def test_a_damaged_or_foreign_record_renders_everything(repo: Path, tmp_path: Path, damage: bytes) -> None:
    record = settings_of(repo).cache_dir / RECORD
    record.write_bytes(damage)
    (record.parent / "feed-entries.json").write_bytes(damage)
    files = generate(repo).files
    assert files is not None and files.reused == 0 and files.rendered > 0
    assert json.loads(record.read_bytes())["files"], "the record was written again"
    assert_same_as_cold(repo, tmp_path)


def test_a_record_for_the_same_path_with_another_key_is_not_trusted(repo: Path, tmp_path: Path) -> None:
    record = settings_of(repo).cache_dir / RECORD
    data = json.loads(record.read_bytes())
    data["files"] = {path: ["0" * 64, *rest] for path, (_, *rest) in data["files"].items()}
    record.write_text(json.dumps(data))
    files = generate(repo).files
    assert files is not None and set(files.made) == set(data["files"]), "a file under another key was trusted"
    assert_same_as_cold(repo, tmp_path)


def test_a_cache_folder_that_cannot_be_written_costs_time_not_the_build(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be\n")
    settings = settings_of(repo).with_options(cache_dir=str(blocked / "cache"))
    generated = generate_site(settings)
    assert generated.files is not None and generated.files.reused == 0
    assert re.search(r"the record of generated files was not saved \(.*blocked/cache", capsys.readouterr().err)
    assert_same_as_cold(repo, tmp_path)


def test_a_template_reaching_beyond_its_input_fails_with_one_line(repo: Path) -> None:
    """A page's template receives its input only (site/inputs.py): a project's own template that shows something
    else (here the newest version, on every version's page) is an error naming the file, the line and the name —
    never a page left stale by a key that did not hold what it showed."""
    template = repo / "templates/pages/version.md.j2"
    template.write_text(template.read_text() + "\nNewest: {{ site.latest.version }}\n")
    with pytest.raises(UserError) as raised:
        generate(repo)
    message = str(raised.value)
    assert "\n" not in message and "latest" in message, message
    assert message.startswith(f"{template}:"), message


def test_a_page_is_keyed_by_its_input_and_its_own_templates(repo: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A field of one page's input changed renders that page alone; what no input holds renders nothing; a
    project's own template is keyed by its own bytes (its pages alone are rendered again), and afterwards a new
    version renders what it renders with the built-in templates."""
    built = VersionPage.of

    def build_one_as_minor(cls, inputs, path, entry):  # type: ignore[no-untyped-def]
        page = built(inputs, path, entry)
        return replace(page, entry=replace(page.entry, kind="minor")) if path == "versions/3.0/" else page

    with monkeypatch.context() as patched:
        patched.setattr(VersionPage, "of", classmethod(build_one_as_minor))
        # (a builder changed under the same code fingerprint: the document's files are each looked at)
        patched.setattr(GeneratedFiles, "fingerprint", lambda *args: None)
        files = generate(repo).files
        assert files is not None and files.made == ["versions/3.0/index.md"], files.made
    files = generate(repo).files
    assert files is not None and files.made == ["versions/3.0/index.md"], files.made
    # the build's time (a day later: no status changes) is in no page's input
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400))
    files = generate(repo).files
    assert files is not None and files.made == [], files.made
    template = repo / "templates/pages/version.md.j2"
    template.write_text(template.read_text() + "\nOur own words on {{ entry.version }}.\n")
    files = generate(repo).files
    assert files is not None and set(files.made) == {f"versions/{n}.0/index.md" for n in range(1, 13)}, files.made
    add_version(repo)
    files = generate(repo).files
    assert files is not None and "versions/1.0/index.md" not in files.made
    assert "Our own words on 13.0." in (settings_of(repo).pages_dir / "versions/13.0/index.md").read_text()
    assert_same_as_cold(repo, tmp_path)


@pytest.mark.parametrize(("name", "old", "mark"), [
    ("theme/main.html", "{% block extrahead %}", '<meta name="x-edited" content="yes">'),
    ("assets/policy.css", ".policy-meta", "/* edited */"),
    ("pages/version.md.j2", "This version is archived", " (edited)"),
])
def test_a_build_after_a_theme_asset_or_page_template_edit_equals_a_cold_build(built_repo: Path, tmp_path: Path,
                                                                               name: str, old: str, mark: str) -> None:
    """The folders MkDocs renders or copies (the theme override, the assets), and a page template (which reaches the
    page cache only through the Markdown it renders): `policy build` after an edit of the project's own copy equals
    a cold build, byte for byte, and shows the edit."""
    repo = tmp_path / "repo"
    shutil.copytree(built_repo, repo, symlinks=True)  # built cold once
    path = repo / "templates" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, f"{mark} {old}" if name.startswith("assets") else f"{old}{mark}", 1),
                    encoding="utf-8")
    build(repo, int(EPOCH))
    shutil.copytree(repo / "site", tmp_path / "warm")
    shutil.rmtree(repo / ".cache")
    build(repo, int(EPOCH))
    assert_same_site(tmp_path / "warm", repo / "site")
    shown = {"theme": ["index.html"], "assets": ["assets/policy.css"]}.get(name.split("/")[0])
    files = [tmp_path / "warm" / f for f in shown] if shown else list((tmp_path / "warm" / "versions").rglob("*.html"))
    assert any(mark in f.read_text(encoding="utf-8") for f in files)


def test_section_feeds_list_the_versions_that_touched_the_section(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """FeedBuilder.touched (each version's ids at once) is the rule it replaces: a change of the version or of an
    amendment in _family(new, old, section) — on the demo's renames, moves, nested and removed sections. (The
    model alone, as generate_site reads it first: its files, PDFs among them, are not what this is about.)"""
    from policy_site.cli.demo import create_demo
    from policy_site.site.feeds import _family
    from policy_site.site.generate import load_models
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    demo = tmp_path / "demo"
    create_demo(demo, ROOT)
    _, (model,) = load_models(settings_of(demo))
    builder = FeedBuilder(model)
    assert any(p.parent for e in model.entries for p in e.policy.walk()), "the demo has subsections"
    for entry in model.entries:
        touched = builder.touched(entry)
        for section_id in model.section_ids:
            family = _family(entry.policy, entry.previous.policy if entry.previous else None, section_id) or set()
            expected = any(c.id in family for c in entry.diff.changed) or any(
                c.id in (_family(a.after, a.before, section_id) or set()) for a, d in entry.amendments
                for c in d.changed)
            assert (section_id in touched) == expected, (entry.version, section_id)


def test_a_library_renders_only_the_document_that_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages and feeds that show a whole document (its current page, archive, follow and compare pages, main
    feeds) are reused while that document is unchanged: one document's new version renders its files only."""
    from policy_site.bench.library import add_library_version, make_library_repo
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    library = make_library_repo(tmp_path / "library", documents=3, versions=4)
    generate(library)
    add_library_version(library)
    files = generate(library).files
    assert files is not None and files.made, "nothing was rendered"
    assert {path.split("/")[0] for path in files.made} == {"doc-01"}, files.made
    assert {"doc-01/index.md", "doc-01/versions/index.md", "doc-01/atom.xml"} <= set(files.made)
    assert_same_as_cold(library, tmp_path)


def test_a_version_coming_into_force_renders_the_pages_that_show_it(repo: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Statuses follow the build's date: when an upcoming version comes into force, the whole-document pages are
    rendered again, and equal a cold build's."""
    meta = repo / "policy/policy.yaml"
    add_version(repo)
    text = meta.read_text()
    meta.write_text(re.sub(r"effective: '?[0-9-]+'?", "effective: '2024-06-01'", text))  # after EPOCH (2023-11-14)
    subprocess.run(["git", "commit", "-q", "--amend", "-a", "--no-edit"], cwd=repo, check=True)
    before = generate(repo)
    assert before.model.entries[-1].status == "upcoming"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1720000000")  # 2024-07-03
    after = generate(repo)
    assert after.model.entries[-1].status == "current"
    assert after.files is not None and "index.md" in after.files.made and "versions/index.md" in after.files.made
    assert_same_as_cold(repo, tmp_path)


def test_a_document_left_as_it_was_is_kept_whole_and_a_touched_file_is_written_again(tmp_path: Path) -> None:
    """In a library, a document whose fingerprint (everything its files are made of) is the last build's keeps
    all its files without computing their keys; one of its files changed on disk is written again."""
    from tests.support.library import small_library
    p = small_library(tmp_path / "lib")
    settings = load_settings(p.path / "mkdocs.yml")
    first = generate_site(settings)
    page = settings.pages_dir / "terms/versions/1.0/index.md"
    text = page.read_bytes()
    again = generate_site(settings).files
    assert again is not None and again.made == [] and set(again.new_documents) == {"privacy/", "terms/",
                                                                                       "de/privacy/"}
    assert again.reused == first.files.reused + first.files.rendered - len(first.files.new_entries)  # type: ignore
    page.write_bytes(text + b"\nplanted\n")
    touched = generate_site(settings).files
    assert touched is not None and touched.made == ["terms/versions/1.0/index.md"] and page.read_bytes() == text


# one file of each template folder the generated files are rendered with, and a visible text in it to change
TEMPLATE_EDITS = [
    ("pages/version.md.j2", "This version is archived", "This version is in the archive"),
    ("pages/_macros.md.j2", "Contents of this version", "What this version holds"),
    ("feeds/entry.html.j2", "Kind of change:", "The kind of change:"),
    ("subscriptions/_choices.html.j2", "Which changes", "Which changes to hear of"),  # imported by the follow page
]


@pytest.mark.parametrize("where", ["project", "built-in"])
@pytest.mark.parametrize(("name", "old", "new"), TEMPLATE_EDITS, ids=[e[0] for e in TEMPLATE_EDITS])
def test_an_edit_of_any_template_a_page_renders_with_equals_a_cold_build(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, name: str, old: str,
        new: str) -> None:
    """The key of a generated file covers every template its renderer uses, wherever it lives: an edit of a
    macro in subscriptions/ (which the follow page imports) is seen as surely as one of a page template, in the
    project's own templates/ or in the built-in ones."""
    config = repo / "mkdocs.yml"  # a subscriptions service: the follow page embeds the subscription form
    config.write_text(config.read_text().replace("      email_from:", "      subscriptions_url: "
                                                 "https://subscribe.example.org/\n      email_from:", 1))
    if where == "built-in":  # the project holds no templates; the built-in ones are a copy this test may edit
        import shutil

        from policy_site import settings as settings_module
        for own in (repo / "templates").iterdir():
            if own.name != "theme":  # mkdocs.yml's custom_dir
                shutil.rmtree(own)
        builtin = tmp_path / "builtin-templates"
        shutil.copytree(ROOT / "templates", builtin)
        monkeypatch.setattr(settings_module, "builtin_templates", lambda: builtin)
        folder = builtin
    else:
        folder = repo / "templates"
    generate(repo)
    pages = settings_of(repo).pages_dir
    template = folder / name
    text = template.read_text(encoding="utf-8")
    assert old in text
    template.write_text(text.replace(old, new), encoding="utf-8")
    files = generate(repo).files
    assert files is not None and files.made, "the edit rendered nothing again"
    assert any(new in p.read_text(encoding="utf-8") for p in pages.rglob("*") if p.suffix in (".md", ".xml", ".json")
               and p.is_file()), "the edit shows nowhere"
    assert_same_as_cold(repo, tmp_path)


def _commit(repo: Path, message: str) -> None:
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    subprocess.run(["git", "commit", "-qam", message], cwd=repo, check=True, env={**os.environ, **env})


def _first_section(repo: Path, folder: str = "policy") -> Path:
    meta = yaml.safe_load((repo / folder / "policy.yaml").read_text())
    return repo / folder / "sections" / f"{meta['sections'][0]}.yaml"


def _amend(repo: Path) -> None:
    """The version in force edited without a new number: an amendment."""
    path = _first_section(repo)
    section = yaml.safe_load(path.read_text())
    section["body"][0] = section["body"][0] + " Amended."
    path.write_text(yaml.safe_dump(section, sort_keys=False))
    _commit(repo, "Amend without a new number")


def _anchors_only(repo: Path) -> None:
    """A new version whose only change is an anchor on a paragraph (editorial: reads as before)."""
    path, meta_path = _first_section(repo), repo / "policy/policy.yaml"
    section = yaml.safe_load(path.read_text())
    section["body"][0] = {"text": section["body"][0], "anchor": "first-paragraph"}
    path.write_text(yaml.safe_dump(section, sort_keys=False))
    meta = yaml.safe_load(meta_path.read_text())
    meta["version"], meta["summary"] = f"{int(meta['version'].split('.')[0])}.1", "An anchor."
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False))
    _commit(repo, "An anchor only")


def _settings(repo: Path) -> None:
    config = repo / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_name: SynergyCabinet privacy policy",
                                                 "site_name: SynergyCabinet privacy statement", 1))


SCENARIOS = {"a new version": add_version, "an amendment": _amend, "an anchor-only version": _anchors_only,
             "a settings change": _settings}


@pytest.mark.parametrize("change", list(SCENARIOS))
def test_warm_after_each_kind_of_change_equals_cold(repo: Path, tmp_path: Path, change: str) -> None:
    """One oracle for the kinds of change a site sees (the template edits, a version coming into force and a
    library's document have their own tests above): a warm generation after the change is a cold one's bytes."""
    SCENARIOS[change](repo)
    files = generate(repo).files
    assert files is not None and files.made, "the change rendered nothing again"
    assert_same_as_cold(repo, tmp_path)


def test_warm_after_a_translation_edit_equals_cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library with a German translation: editing one translated section renders that translation's pages
    again, and the generated folder equals a cold one."""
    from policy_site.bench.library import TRANSLATED_AT, make_library_repo
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    library = make_library_repo(tmp_path / "library", documents=2, versions=TRANSLATED_AT + 1)
    generate(library)
    translated = sorted((library / "policy").glob("*/translations/de/sections/*.yaml"))[0]
    section = yaml.safe_load(translated.read_text())
    section["title"] = "Geänderter Titel"
    translated.write_text(yaml.safe_dump(section, sort_keys=False, allow_unicode=True))
    _commit(library, "Translation edited")
    generate(library)
    pages = settings_of(library).pages_dir
    assert any("Geänderter Titel" in p.read_text(encoding="utf-8") for p in pages.rglob("*.md"))
    assert_same_as_cold(library, tmp_path)
