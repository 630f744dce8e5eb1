"""What the site, feeds, notices and `policy diff` say about a change is the truth, on a real git history.

One story repository (built once): the seed as 1.0; an amendment that only adds a link; 1.1 that edits two
list items of a subsection, adds a link with parentheses in its URL, wraps existing words in a link and moves
a subsection to another parent; upcoming 1.2 and 1.3; and 1.4 whose text reads exactly as 1.3's.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from tests.support.project import SUBSCRIBED, Project, copy_project

TERMS = "sections/privacy-settlement-terms.yaml"
RECT = "sections/rectification-and-cancellation.yaml"
ACCESS = "sections/accessing-personal-information.yaml"
PROTECT = "sections/protecting-information.yaml"
PDF = "https://example.org/statement(07.22.20).pdf"


def _sub(data: dict, section_id: str) -> dict:
    return next(b["section"] for b in data["body"] if isinstance(b, dict) and b.get("section", {}).get("id")
                == section_id)


def _edit(p: Project, name: str, change) -> None:
    data = p.read(name)
    change(data)
    p.write(name, data)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = copy_project(tmp_path_factory.mktemp("truth") / "story").init_git()
    p.meta(effective="2020-01-01")
    p.commit("1.0")
    # an amendment (no new number) whose only edit is a link around existing words
    _edit(p, PROTECT, lambda d: d["body"].__setitem__(0, d["body"][0].replace(
        "security protection system", "[security protection system](#accessing-personal-information)", 1)))
    p.commit("Link the access section")

    def terms(d: dict) -> None:
        bullets = next(b["bullets"] for b in _sub(d, "cookies")["body"] if isinstance(b, dict))
        bullets[0] = bullets[0].replace("very difficult", "hard")
        bullets[4] = bullets[4].replace("purchase something", "buy something")
        sharing = _sub(d, "information-sharing")
        d["body"] = [b for b in d["body"] if not (isinstance(b, dict) and b.get("section") is sharing)]
        p.moved = sharing  # type: ignore[attr-defined]
    _edit(p, TERMS, terms)
    _edit(p, RECT, lambda d: d["body"].extend([{"section": p.moved}]))  # type: ignore[attr-defined]
    _edit(p, ACCESS, lambda d: d["body"].append(f"The signed statement is a [PDF]({PDF})."))
    _edit(p, RECT, lambda d: d["body"].__setitem__(2, d["body"][2].replace(
        "our privacy policies", "[our privacy policies](#privacy-settlement-terms)")))
    p.meta(version="1.1", effective="2020-06-01", summary="Cookies, a statement, a link, a move.")
    p.commit("1.1")
    _edit(p, ACCESS, lambda d: d["body"].append("Version 1.2 adds this sentence."))
    p.meta(version="1.2", effective="2099-01-01", summary="Coming in 2099.")
    p.commit("1.2")
    _edit(p, ACCESS, lambda d: d["body"].append("Version 1.3 adds another sentence."))
    p.meta(version="1.3", effective="2099-06-01", summary="Coming later in 2099.")
    p.commit("1.3")
    _edit(p, ACCESS, lambda d: d["body"].__setitem__(-1, "Version 1.3   adds another\nsentence."))
    p.meta(version="1.4", effective="2099-06-01", summary="Layout only.")
    p.commit("1.4")
    p.run("build", check=True)
    p.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", check=True)
    p.notified = p.run("notify", check=True).stdout  # type: ignore[attr-defined]
    return p


def page(p: Project, path: str) -> str:
    return (p.path / "site" / path / "index.html").read_text(encoding="utf-8")


def notice(p: Project, version: str) -> str:
    [path] = (p.path / ".cache/outbox" / version).glob("*.eml")
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_amendment_that_only_adds_a_link_is_shown(story: Project) -> None:
    v10 = page(story, "versions/1.0")
    amendments = v10[v10.index('id="amendments"'):]
    assert "No section changed" not in amendments
    assert "protecting-information" in amendments and "link added: #accessing-personal-information" in amendments


def test_a_new_link_around_existing_words_makes_the_section_modified(story: Project) -> None:
    changes = page(story, "changes/1.1")
    assert 'id="change-rectification-and-cancellation"' in changes
    assert "link added: #privacy-settlement-terms" in changes
    # the redline's section link leads to the section in the version's own page
    assert 'href="../../versions/1.1/#privacy-settlement-terms"' in changes
    text = story.run("diff", "1.0", "1.1", check=True).stdout
    assert "[-our privacy policies,-] {+our privacy policies,+} (link added: #privacy-settlement-terms)" in text
    assert f"{{+The signed statement is a PDF ({PDF}).+}}" in text


def test_a_url_with_parentheses_is_linked_whole(story: Project) -> None:
    home = page(story, "")
    assert f'href="{PDF}"' in home
    assert ".pdf)" not in home.replace(f'href="{PDF}"', "")
    assert story.run("check").returncode in (0, 1)  # never a traceback


@pytest.mark.parametrize("text, message", [
    ("A [PDF](https://example.org/a b.pdf) link.", "looks like a link but is not one"),
    ("An image ![logo](https://example.org/logo.png).", "images are not allowed"),
    ("A [script](javascript:alert(1)) link.", "link scheme 'javascript:' is not allowed"),
])
def test_text_that_cannot_be_rendered_faithfully_is_a_check_error(git_project: Project, text: str,
                                                                  message: str) -> None:
    _edit(git_project, ACCESS, lambda d: d["body"].append(text))
    result = git_project.run("check")
    assert result.returncode == 1 and message in result.stderr
    assert f"policy/{ACCESS}:" in result.stderr and "Traceback" not in result.stderr


def test_a_move_says_where_the_section_now_stands(story: Project) -> None:
    changes = page(story, "changes/1.1")
    assert ("Moved: now the only section under “4. Rectification, amendment and cancellation of personal "
            "database and information”.") in changes


def test_subsections_carry_their_parent_wherever_listed(story: Project) -> None:
    parent = "Some important terms related to our privacy settlement: › 4. Enable cookies:"
    diff = story.run("diff", "1.0", "1.1", check=True).stdout
    assert parent in diff
    feed = (story.path / "site/atom.xml").read_text(encoding="utf-8")
    assert parent in feed
    assert parent in notice(story, "1.1")
    comment = story.run("diff", "1.0", "1.1", "--format", "markdown", check=True).stdout
    assert "Some important terms related to our privacy settlement: › 4. Enable cookies:" in comment


def test_notices_count_truly_and_name_the_version_in_force(story: Project) -> None:
    notified = story.notified  # type: ignore[attr-defined]
    assert "version 1.0 superseded before notices started; not announced" in notified
    assert "version 1.1 announced to 1 subscriber" in notified  # the version in force, on the first run
    text_12, text_13 = notice(story, "1.2"), notice(story, "1.3")
    assert "Until then, version 1.1 stays in force." in text_12
    assert "Version 1.1 is in force today; version 1.2 will be in force until then." in text_13
    assert "What changed: 1 of 14 sections changed (1 modified); 13 unchanged." in text_13


def test_an_editorial_version_is_labelled_and_not_emailed(story: Project) -> None:
    assert "version 1.4 is editorial (its text reads as before); not announced" in story.notified  # type: ignore
    assert not (story.path / ".cache/outbox/1.4").exists()
    assert "Editorial version" in page(story, "changes/1.4")
    feed = (story.path / "site/atom.xml").read_text(encoding="utf-8")
    assert "an editorial version" in feed and 'term="editorial"' in feed


def test_check_warns_before_an_editorial_version_is_published(git_project: Project) -> None:
    _edit(git_project, ACCESS, lambda d: d["body"].__setitem__(0, d["body"][0].replace(" ", "  ", 3)))
    git_project.meta(version="1.1", summary="Reflowed.")
    result = git_project.run("check", check=True)
    assert "version 1.1 reads exactly like version 1.0" in result.stderr


def test_the_next_version_marks_what_was_already_published_as_an_amendment(tmp_path: Path) -> None:
    p = copy_project(tmp_path / "amended").init_git()
    p.commit("1.0")
    _edit(p, PROTECT, lambda d: d["body"].__setitem__(1, d["body"][1] + " Amended."))
    p.commit("Amend protecting-information")
    _edit(p, ACCESS, lambda d: d["body"].append("New in 1.1."))
    p.meta(version="1.1", summary="A new sentence.")
    p.commit("1.1")
    p.run("build", check=True)
    changes = page(p, "changes/1.1")
    assert "Amendments already published" in changes
    assert "already published on" in changes and "as an amendment of version 1.0" in changes
    section = changes[changes.index('id="change-protecting-information"'):]
    assert "already published on" in section[:2000]
    section = changes[changes.index('id="change-accessing-personal-information"'):]
    assert "already published on" not in section[:section.index("</section>")]


def test_a_parent_section_feed_includes_its_subsections(story: Project) -> None:
    feed = (story.path / "site/sections/privacy-settlement-terms/atom.xml").read_text(encoding="utf-8")
    assert "changes/1.1/" in feed and "Enable cookies:" in feed and "and its subsections" in feed


def test_feed_and_comment_redlines_read_well_without_css(story: Project) -> None:
    feed = (story.path / "site/feed.json").read_text(encoding="utf-8").replace("\\u003c", "<").replace("\\u003e", ">")
    comment = story.run("diff", "1.0", "1.1", "--format", "markdown", check=True).stdout
    for text in (feed, comment):
        assert "visually-hidden" not in text and "[deleted:" not in text and "[inserted:" not in text
        assert "del>" in text and "ins>" in text


def test_short_redlines_mark_what_they_skip(story: Project) -> None:
    feed = json.loads((story.path / "site/feed.json").read_text(encoding="utf-8"))
    entry = next(i for i in feed["items"] if i["id"].endswith("changes/1.1/"))
    cookies = entry["content_html"][entry["content_html"].index("Enable cookies:"):]
    cookies = cookies[:cookies.index("</blockquote>")]
    assert "redline-gap" in cookies and "…" in cookies  # items 1 and 5 changed: the three between are skipped


def test_version_flag(story: Project) -> None:
    version = story.run("--version", check=True).stdout
    assert version.startswith("policy ") and version.strip() != "policy"


def test_the_follow_page_names_each_subsection_with_its_parent(story: Project) -> None:
    follow = page(story, "follow")
    assert "Some important terms related to our privacy settlement: › 4. Enable cookies:" in follow
    assert "reply with the subject" in follow and "one-click" not in follow  # no unsubscribe_url configured


def test_the_pr_comment_never_pings_anyone(git_project: Project) -> None:
    _edit(git_project, ACCESS, lambda d: d["body"].append("Thanks to @octocat, see #12 and `code`."))
    git_project.meta(version="1.1", summary="Reviewed by @legal-team, fixes #34 <img src=x onerror=alert(1)>")
    comment = git_project.run("diff", "--format", "markdown", check=True).stdout
    assert "@legal-team" not in comment and "@\u200blegal-team" in comment
    assert "#34" not in comment and "@octocat" not in comment and "#12" not in comment
    assert "<img" not in comment
