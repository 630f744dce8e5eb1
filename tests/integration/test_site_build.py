"""Building the site: seed fidelity, the page at /, escaping of YAML text, errors that write nothing."""

from __future__ import annotations

import subprocess
import sys

from tests.support.project import FIDELITY, SEED, Project, copy_project, run_policy


def build(project: Project, *extra: str, env: dict | None = None) -> None:
    project.run("build", *extra, check=True, env=env)


def test_seed_fidelity_on_home_page(tmp_path) -> None:
    git_project = copy_project(tmp_path / "project", pdf=True).init_git()  # the PDFs on, as a project has them
    git_project.commit("Publish the privacy policy, version 1.0")
    build(git_project)
    page = (git_project.path / "site/versions/1.0/index.html").read_text(encoding="utf-8")
    assert '<a href="policy-1.0.pdf" type="application/pdf">This version as PDF</a>' in page
    assert (git_project.path / "site/versions/1.0/policy-1.0.pdf").read_bytes().startswith(b"%PDF-")
    result = subprocess.run([sys.executable, str(FIDELITY), str(SEED), str(git_project.path / "site/index.html")],
                            capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "133/133 sentences found", result.stdout
    assert result.returncode == 0


def test_home_page_shows_version_contents_and_anchors(git_project: Project) -> None:
    build(git_project)
    html = (git_project.path / "site/index.html").read_text(encoding="utf-8")
    assert "Version 1.0 · effective" in html
    assert 'class="policy-contents"' in html
    policy = git_project.read("policy.yaml")
    for section_id in policy["sections"]:
        assert f'id="{section_id}"' in html
        assert f'href="#{section_id}"' in html
    assert 'id="information-sharing"' in html  # nested subsection anchor
    assert "@media print" in (git_project.path / "site/assets/policy.css").read_text()


def test_script_in_yaml_is_shown_as_text(git_project: Project) -> None:
    section = git_project.read("sections/personal-information-protection.yaml")
    section["title"] = "Cookies <script>alert('title')</script> & *stars*"
    section["body"].insert(0, "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> [x](#cookies)")
    git_project.write("sections/personal-information-protection.yaml", section)
    git_project.meta(version="1.1", summary="Hostile <script>alert(3)</script> summary")
    git_project.commit("1.1")
    build(git_project)
    html = (git_project.path / "site/index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;title&#x27;)" in html or "&lt;script&gt;alert('title')" in html
    assert "*stars*" in html  # Markdown in a title stays literal
    changes = (git_project.path / "site/changes/1.1/index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in changes and "&lt;script&gt;alert(3)" in changes


def test_invalid_policy_stops_build_and_writes_nothing(git_project: Project) -> None:
    build(git_project)
    before = {p: p.read_bytes() for p in (git_project.path / "site").rglob("*") if p.is_file()}
    git_project.write_text("sections/protecting-information.yaml", "id: protecting-information\ntitle: [oops\n")
    result = git_project.run("build")
    assert result.returncode == 1
    assert "policy/sections/protecting-information.yaml:2:8: YAML syntax error: this '[' starts a list" in result.stderr  # where the [ is
    assert "1 problem found" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    after = {p: p.read_bytes() for p in (git_project.path / "site").rglob("*") if p.is_file()}
    assert after == before


def test_build_without_git_warns_and_builds_working_tree(project: Project) -> None:
    result = project.run("build", check=True)
    assert "without history" in result.stderr
    assert (project.path / "site/versions/1.0/index.html").is_file()


def test_missing_site_url_is_a_clear_error(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text("\n".join(l for l in config.read_text().splitlines() if not l.startswith("site_url")))
    result = git_project.run("build")
    assert result.returncode == 1
    assert "site_url is not set in mkdocs.yml" in result.stderr
    assert not (git_project.path / "site").exists()


def test_plain_mkdocs_build_uses_the_plugin(git_project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=git_project.path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Version 1.0" in (git_project.path / "site/index.html").read_text(encoding="utf-8")


def test_every_verb_has_help(tmp_path) -> None:
    for verb in ("check", "build", "serve", "versions", "diff"):
        result = run_policy(tmp_path, verb, "--help")
        assert result.returncode == 0 and "usage: policy" in result.stdout, verb


def test_build_never_publishes_a_draft(git_project: Project) -> None:
    section = git_project.read("sections/protecting-information.yaml")
    section["body"][0] = "An unpublished sentence in the working tree."
    git_project.write("sections/protecting-information.yaml", section)
    git_project.meta(version="1.1", summary="Not committed yet")
    build(git_project)
    site = git_project.path / "site"
    assert not (site / "changes/draft").exists() and not (site / "versions/1.1").exists()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "An unpublished sentence" not in text and "Draft — not published" not in text, page


def test_html_a_template_made_whole_goes_into_the_page_as_it_is() -> None:
    """site/markdown_raw.py: the archive's table and the compare form skip Python-Markdown's HTML parser and come
    out as that parser's raw block would (only the markers and a blank line go); without the extension, as before."""
    import markdown
    page = ("# All versions\n\n<!-- policy:raw -->\n<div class=\"t\">\n<table>\n\n<tr><td>*not emphasis* &amp; "
            "<a href=\"1.0/\">1.0</a></td></tr>\n</table>\n</div>\n<!-- /policy:raw -->\n\nAfter *it*.\n")
    plain = markdown.markdown(page)
    raw = markdown.markdown(page, extensions=["policy_site.site.markdown_raw"])
    assert raw == plain.replace("<!-- policy:raw -->\n", "").replace("\n<!-- /policy:raw -->\n", "")
    assert "*not emphasis*" in raw and "<em>it</em>" in raw
    assert markdown.markdown("No region here.", extensions=["policy_site.site.markdown_raw"]) == \
        "<p>No region here.</p>"
