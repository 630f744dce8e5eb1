"""The richer YAML format end to end on a real repository: tables, nested lists, items of several blocks, line
breaks, "In short" summaries, sections with only subsections, no introduction — through check, the site,
feeds, the notice email, policy.json and `policy diff`. Also `policy init` and redirects."""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from tests.support.project import SUBSCRIBED, Project, copy_project

COOKIES = {
    "id": "cookies-we-use", "title": "Cookies we use",
    "summary": "Two cookies keep the site working; one counts visits, only if you agree.",
    "body": [
        {"table": {"caption": "Cookies we set", "row_headers": True, "header": ["Cookie", "Purpose", "Expires"],
                   "rows": [["session", "Keeps you *signed in*", "End of visit"],
                            ["lang", "Remembers your language", "1 year"],
                            ["_stats", "Counts visits", ""]]}},
        {"bullets": ["Block them in your browser.",
                     {"body": ["Or delete them:", {"numbered": ["open the settings,", {"body": [
                         "search for cookies,", {"bullets": ["choose *delete*."]}]}]}]}]},
        "Our office:\\\nSynergyCabinet Ltd.\\\n1 Main Street\\\nLondon",
        {"section": {"id": "only-children", "title": "Only subsections", "body": [
            {"section": {"id": "child-one", "title": "Child one", "body": ["One."]}}]}},
    ]}


def add_cookies(p: Project, cookies: dict = COOKIES) -> None:
    p.write("sections/cookies-we-use.yaml", cookies)
    meta = p.read("policy.yaml")
    if "cookies-we-use" not in meta["sections"]:
        meta["sections"].append("cookies-we-use")
    p.write("policy.yaml", meta)


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = copy_project(tmp_path_factory.mktemp("format") / "rich").init_git()
    p.commit("1.0")
    add_cookies(p)
    meta = p.read("policy.yaml")
    del meta["introduction"]
    p.write("policy.yaml", meta)
    p.meta(version="1.1", summary="Cookies, in a table.")
    p.commit("1.1")
    changed = json.loads(json.dumps(COOKIES))
    changed["body"][0]["table"]["rows"][1][2] = "6 months"
    changed["body"][0]["table"]["rows"].append(["consent", "Remembers your choice", "6 months"])
    changed["body"][1]["bullets"][1]["body"][1]["numbered"][0] = "open the browser's settings,"
    changed["summary"] = "Two cookies keep the site working; one counts visits, and only if you say yes."
    add_cookies(p, changed)
    p.meta(version="1.2", summary="A consent cookie.")
    p.commit("1.2")
    assert p.run("check").returncode == 0
    p.run("build", check=True)
    p.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", check=True)
    p.run("notify", check=True)
    return p


def page(p: Project, path: str) -> str:
    return (p.path / "site" / path / "index.html").read_text(encoding="utf-8")


def test_tables_lists_and_addresses_on_the_page(rich: Project) -> None:
    home = page(rich, "")
    assert '<div class="policy-table" role="region" tabindex="0" aria-label="Cookies we set">' in home
    assert "<caption>Cookies we set</caption>" in home
    assert '<th scope="col">Purpose</th>' in home and '<th scope="row">session</th>' in home
    assert "<td>Keeps you <em>signed in</em></td>" in home and "<td></td>" in home
    assert re.search(r"<ol>\s*<li>open the browser's settings,</li>\s*<li>\s*<p>search for cookies,</p>\s*<ul>", home)
    assert "Our office:<br>SynergyCabinet Ltd.<br>1 Main Street<br>London" in home
    assert "In short" in home and "only if you say yes" in home
    assert 'id="only-children"' in home and 'id="child-one"' in home


def test_the_redline_goes_row_by_row_and_item_by_item(rich: Project) -> None:
    changes = page(rich, "changes/1.2")
    section = changes[changes.index('id="change-cookies-we-use"'):]
    assert '<tr class="redline-insert"><th scope="row"><ins>' in section and "consent" in section
    assert '<tr class="redline-modified">' in section and "6 months" in section
    assert re.search(r'<li class="redline-modified">\s*open the <ins>.*browser&#39;s.*</ins> settings', section, re.S)
    assert "In short: " in section
    text = rich.run("diff", "1.1", "1.2", check=True).stdout
    assert "| lang | Remembers your language | [-1 year-] {+6 months+} |" in text
    assert "| {+consent+} | {+Remembers your choice+} | {+6 months+} |" in text


def test_json_feeds_and_email_carry_the_new_shapes(rich: Project) -> None:
    policy = json.loads((rich.path / "site/versions/1.2/policy.json").read_text(encoding="utf-8"))
    section = next(s for s in policy["policy"]["sections"] if s["id"] == "cookies-we-use")
    assert section["summary"].startswith("Two cookies") and section["body"][0]["table"]["row_headers"] is True
    assert "Keeps you *signed in*" in policy["text"]
    data = json.loads(rich.run("diff", "1.1", "1.2", "--format", "json", check=True).stdout)
    rows = [b for s in data["sections"] for b in s["redline"] if "cells" in b]
    assert any(b["status"] == "insert" and b["cells"][0][0][1] == "consent" for b in rows)
    feed = json.loads((rich.path / "site/feed.json").read_text(encoding="utf-8"))
    entry = next(i for i in feed["items"] if i["id"].endswith("changes/1.2/"))
    assert "<table" in entry["content_html"] and "<del>1 year</del> <ins>6 months</ins>" in entry["content_html"]
    [eml] = (rich.path / ".cache/outbox/1.2").glob("*.eml")
    text = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert "Cookies we use (text changed)" in text


# --- a table cell of paragraphs and lists, through every consumer -----------------------------------------

DATA = {
    "id": "data-we-keep", "title": "Data we keep",
    "body": [{"table": {"caption": "What we keep",
                        "header": ["Kind", {"body": ["Details", {"bullets": ["what", "how long"]}]}],
                        "rows": [["Account", {"body": ["We keep:", {"bullets": ["your name", "your email address"]}],
                                              "anchor": "account-data"}],
                                 ["Orders", "What you bought"]]}}]}


def _data_version(p: Project, version: str, data: dict, change: str = "material") -> None:
    p.write("sections/data-we-keep.yaml", data)
    meta = p.read("policy.yaml")
    if "data-we-keep" not in meta["sections"]:
        meta["sections"].append("data-we-keep")
    meta.update(version=version, summary=f"Version {version}.", change=change)
    p.write("policy.yaml", meta)
    p.commit(version)


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """1.1 adds a table with list cells (a header cell too), 1.2 adds an item to one, 1.3 only adds anchors."""
    p = copy_project(tmp_path_factory.mktemp("format") / "cells").init_git()
    p.commit("1.0")
    _data_version(p, "1.1", DATA)
    added = json.loads(json.dumps(DATA))
    added["body"][0]["table"]["rows"][0][1]["body"][1]["bullets"].append("your phone number")
    _data_version(p, "1.2", added)
    p.run("build", check=True)
    p.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", check=True)
    p.run("notify", check=True)  # announces 1.2
    anchored = json.loads(json.dumps(added))
    anchored["body"][0]["table"]["rows"][1][1] = {"text": "What you bought", "anchor": "orders"}
    anchored["body"][0]["anchor"] = "data-table"
    anchored["anchors"] = ["old-data"]
    _data_version(p, "1.3", anchored, "editorial")
    assert p.run("check").returncode == 0, p.run("check").stderr
    p.run("build", check=True)
    return p


ADDED_ITEM = '<li class="redline-insert"><ins>your phone number</ins></li>'


def test_a_list_cell_is_a_list_on_the_version_page_and_in_policy_json(cells: Project) -> None:
    version = page(cells, "versions/1.1")
    assert re.search(r'<td id="account-data">\s*<p>We keep:</p>\s*<ul>\s*<li>your name</li>\s*'
                     r'<li>your email address</li>\s*</ul>\s*</td>', version), version
    assert re.search(r'<th scope="col">\s*<p>Details</p>\s*<ul>\s*<li>what</li>', version)
    policy = json.loads((cells.path / "site/versions/1.1/policy.json").read_text(encoding="utf-8"))
    assert {"your name", "your email address", "how long", "We keep:"} <= set(policy["text"])
    table = next(s for s in policy["policy"]["sections"] if s["id"] == "data-we-keep")["body"][0]["table"]
    assert table["rows"][0][1]["anchor"] == "account-data" and table["rows"][1][1] == "What you bought"


def test_an_added_item_in_a_cell_on_the_changes_page_and_in_the_feed(cells: Project) -> None:
    changes = page(cells, "changes/1.2")
    assert re.search(r'<tr class="redline-modified"><td>Account</td><td><p>We keep:</p><ul><li>your name</li><li>your email address</li>'
                     r'<li class="redline-insert"><ins><span class="visually-hidden">\[inserted: </span>your phone '
                     r'number<span class="visually-hidden">\]</span></ins></li></ul></td>', changes), changes
    assert "•" not in changes[changes.index('id="change-data-we-keep"'):]
    feed = json.loads((cells.path / "site/feed.json").read_text(encoding="utf-8"))
    entry = next(i for i in feed["items"] if i["id"].endswith("changes/1.2/"))
    # an excerpt: the words well before the change are cut ('…'), the list is still a list
    assert f"<td><p>…</p><ul><li>your email address</li>{ADDED_ITEM}</ul></td>" in entry["content_html"], \
        entry["content_html"]
    first = next(i for i in feed["items"] if i["id"].endswith("changes/1.1/"))
    assert "<ul><li class=\"redline-insert\"><ins>what</ins></li>" in first["content_html"]


def test_the_notice_names_the_changed_section(cells: Project) -> None:
    [eml] = (cells.path / ".cache/outbox/1.2").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    markup = message.get_body(("html",)).get_content()
    assert "Data we keep (text changed)" in text, text
    assert "Data we keep" in markup and "(text changed)" in markup
    assert not any("{'body'" in part or "•" in part for part in (text, markup))


def test_policy_diff_shows_the_added_item_in_every_format(cells: Project) -> None:
    import cmarkgfm
    text = cells.run("diff", "1.1", "1.2", check=True).stdout
    assert "| Account | We keep: • your name • your email address {+• your phone number+} |" in text, text
    data = json.loads(cells.run("diff", "1.1", "1.2", "--format", "json", check=True).stdout)
    [row] = [b for s in data["sections"] for b in s["redline"] if b["status"] == "modified"]
    assert row["pieces"][-1] == ["insert", "• your phone number"]  # the pieces keep the markers as text
    assert ["insert", "•", ["li:ul"], False] in row["cells"][1]
    html = cells.run("diff", "1.1", "1.2", "--format", "html", check=True).stdout
    assert "<li>your email address</li>" + ADDED_ITEM.replace("<ins>", '<ins><span class="visually-hidden">'
                                                              "[inserted: </span>") in html.replace(
        'number<span class="visually-hidden">]</span>', "number"), html
    comment = cells.run("diff", "1.1", "1.2", "--format", "markdown", check=True).stdout
    rendered = cmarkgfm.github_flavored_markdown_to_html(comment, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    cell = re.search(r"<td><p>We keep:</p><ul>(.*?)</ul></td>", rendered)
    assert cell and cell.group(1).endswith(ADDED_ITEM), rendered
    assert rendered.count("<table") == rendered.count("</table>") == 2  # the summary table and the redline's


def test_an_anchor_only_change_reads_as_before(cells: Project) -> None:
    data = json.loads(cells.run("diff", "1.2", "1.3", "--format", "json", check=True).stdout)
    assert data["sections"] == [] and data["visible"] is False, data
    assert "editorial version: the text reads exactly as before" in cells.run("diff", "1.2", "1.3", check=True).stdout
    versions = json.loads((cells.path / "site/versions.json").read_text(encoding="utf-8"))
    record = next(v for v in versions["versions"] if v["version"] == "1.3")
    assert record["change"] == "editorial" and record["changed_sections"] == []
    version = page(cells, "versions/1.3")
    assert '<td id="orders">What you bought</td>' in version and 'id="data-table"' in version
    assert 'id="old-data"' in version


@pytest.mark.parametrize("body, message", [
    ([{"table": {"header": ["a", "b"], "rows": [["1", "2"], ["3"]]}}], "row 2 of the table has 1 cell; the header has 2"),
    ([{"table": {"rows": "x"}}], "table rows must be a list"),
    ([{"table": {"rows": [["1"]], "colour": "red"}}], "unknown field 'colour' in table"),
    ([{"bullets": [{"body": [{"section": {"id": "x", "title": "X", "body": ["y"]}}]}]}],
     "a subsection cannot stand inside a list item"),
    ([{"bullets": [{"colour": "x"}]}], "unknown field 'colour' in a bullets item of several blocks or with an anchor"),
    ([{"bullets": [{"text": "x", "body": ["y"]}]}], "a bullets item needs either text: … (one paragraph) or body"),
    ([{"text": "x", "anchor": "has space"}], "anchor 'has space' must be one word"),
    ([{"text": "x", "anchor": "one"}, {"bullets": ["y"], "anchor": "one"}], "anchor 'one' is already an anchor in"),
    ([{"text": "x", "anchor": "cookies-we-use"}], "anchor 'cookies-we-use' is already a section id"),
    ([{"table": {"rows": [[{"body": [{"table": {"rows": [["x"]]}}]}]]}}], "a table cell holds paragraphs and lists"),
    (["A line<br>break."], "to break the line, end it with a backslash"),
])
def test_new_mistakes_have_file_line_and_column(git_project: Project, body: list, message: str) -> None:
    add_cookies(git_project, {"id": "cookies-we-use", "title": "Cookies", "body": body})
    result = git_project.run("check")
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert re.search(r"policy/sections/cookies-we-use\.yaml:\d+:\d+: ", result.stderr)


def test_init_makes_a_project_that_builds_at_once(tmp_path: Path) -> None:
    from tests.support.project import run_policy
    target = tmp_path / "acme"
    result = run_policy(tmp_path, "init", str(target), "--organisation", "Acme Ltd", "--contact",
                        "privacy@acme.example", "--site-url", "https://privacy.acme.example", "--package", "policy-site==0.1.0")
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()
                  and ".git/" not in p.as_posix()) == [
        ".github/workflows/policy.yml", ".gitignore", "mkdocs.yml", "policy/policy.yaml",
        "policy/schema/policy.schema.json", "policy/schema/section.schema.json",
        "policy/sections/what-we-collect.yaml", "policy/sections/who-we-are.yaml",
        "policy/sections/your-rights.yaml"]
    assert not (target / "templates").exists() and (target / ".git").is_dir()
    assert run_policy(target, "check").returncode == 0
    built = run_policy(target, "build")
    assert built.returncode == 0, built.stderr
    home = (target / "site/index.html").read_text(encoding="utf-8")
    assert "Acme Ltd" in home and "assets/policy.css" in home and 'type="application/atom+xml"' in home
    # a project's own template overrides only that file
    (target / "templates/pages").mkdir(parents=True)
    (target / "templates/pages/follow.md.j2").write_text("---\ntitle: Follow\n---\n\n# Follow us: our own page\n")
    assert run_policy(target, "build").returncode == 0
    assert "our own page" in (target / "site/follow/index.html").read_text(encoding="utf-8")
    assert "Acme Ltd" in (target / "site/index.html").read_text(encoding="utf-8")
    again = run_policy(tmp_path, "init", str(target), "--organisation", "X", "--contact", "x@x.example",
                       "--site-url", "https://x.example/", "--package", "policy-site==0.1.0")
    assert again.returncode == 1 and "not empty" in again.stderr and "Traceback" not in again.stderr


def test_the_workflow_of_new_projects_is_this_repositorys(tmp_path: Path) -> None:
    from tests.support.project import ROOT
    template = (ROOT / "templates/init/workflow.yml").read_text(encoding="utf-8")
    assert template == (ROOT / ".github/workflows/policy.yml").read_text(encoding="utf-8")
    for name in ("policy.schema.json", "section.schema.json"):
        assert (ROOT / "templates/schema" / name).read_bytes() == (ROOT / "policy/schema" / name).read_bytes()


def test_redirects_answer_old_urls_and_never_hide_a_page(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    original = config.read_text()
    config.write_text(original.replace("      list_id:", '      redirects:\n        "/privacy": "/"\n'
                                       '        "/privacy-statement/": "/versions/"\n'
                                       '        "/legal/old.html": "/#cookies"\n      list_id:'))
    assert git_project.run("check").returncode == 0
    git_project.run("build", check=True)
    moved = (git_project.path / "site/privacy/index.html").read_text()
    assert '<meta http-equiv="refresh" content="0; url=../">' in moved and 'content="noindex"' in moved
    assert 'url=../versions/' in (git_project.path / "site/privacy-statement/index.html").read_text()
    assert 'url=../#cookies' in (git_project.path / "site/legal/old.html").read_text()
    config.write_text(original.replace("      list_id:", '      redirects:\n        "/versions/": "/"\n      list_id:'))
    check = git_project.run("check")
    assert check.returncode == 1 and "is a page of this site" in check.stderr
    config.write_text(original.replace("      list_id:", '      redirects:\n        "/old": "/nowhere/"\n      list_id:'))
    build = git_project.run("build")
    assert build.returncode == 1 and "not a page of this site" in build.stderr and "Traceback" not in build.stderr
