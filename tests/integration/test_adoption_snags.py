"""The smaller snags a new adopter met: each fixed and kept fixed. Real git repositories, real Word files
(python-docx), a real subscription service over HTTP."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import docx
import yaml

from tests.support.importing import new_project
from tests.support.project import SUBSCRIBED, Project, run_policy
from tests.support.service import set_subscriptions_url


def test_a_list_item_with_a_colon_gets_the_quoting_hint(git_project: Project) -> None:
    section = git_project.read("sections/protecting-information.yaml")
    section["body"].append({"bullets": [{"Note": "we never sell your data"}, "Another item."]})
    git_project.write("sections/protecting-information.yaml", section)
    result = git_project.run("check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "'Note: …' reads as a field named 'Note'" in result.stderr and "double quotes" in result.stderr
    assert "sections/protecting-information.yaml:" in result.stderr


def test_a_hand_written_section_among_imported_unnumbered_ones_is_warned_about(git_project: Project) -> None:
    for path in sorted((git_project.policy / "sections").glob("*.yaml"))[1:]:
        data = git_project.read(f"sections/{path.name}")
        git_project.write(f"sections/{path.name}", {"id": data["id"], "title": data["title"], "numbered": False,
                                                    **{k: v for k, v in data.items() if k not in ("id", "title")}})
    git_project.meta(version="1.1", summary="Sections unnumbered")
    result = git_project.run("check")
    first = sorted((git_project.policy / "sections").glob("*.yaml"))[0].stem
    assert result.returncode == 0
    assert f"{first} is numbered (the default) while the others are not: add `numbered: false`" in result.stderr


def test_word_list_levels_are_kept_and_formatting_styles_are_not_losses(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Privacy notice", style="Title")
    document.add_paragraph("Effective date: March 1, 2026")
    document.add_heading("What we collect", 1)
    document.add_paragraph("Identifiers", style="List Bullet")
    document.add_paragraph("Unique identifiers", style="List Bullet 2")
    document.add_paragraph("Device identifiers", style="List Bullet 2")
    document.add_paragraph("Contact details", style="List Bullet")
    linked = document.add_paragraph("Questions: see ")
    run = linked.add_run("our help pages")
    run.style = document.styles.add_style("Hyperlink", 2)  # a character style mammoth does not know
    source = tmp_path / "notice.docx"
    document.save(source)
    project = new_project(tmp_path)
    result = run_policy(project, "import", str(source), "--force", check=True)
    assert "Hyperlink" not in result.stdout and "Everything in the document was represented faithfully" in \
        result.stdout, result.stdout
    section = yaml.safe_load((project / "policy/sections/what-we-collect.yaml").read_text(encoding="utf-8"))
    bullets = next(b["bullets"] for b in section["body"] if isinstance(b, dict) and "bullets" in b)
    assert bullets[0] == {"body": ["Identifiers", {"bullets": ["Unique identifiers", "Device identifiers"]}]}
    assert bullets[1] == "Contact details"


def test_a_form_sent_from_a_local_preview_is_told_where_forms_are_accepted(service) -> None:
    visitor = service.visitor("198.51.100.77", origin="http://127.0.0.1:8000")
    answer = visitor.post("subscribe", {"email": service.address("preview"), "changes": "material"})
    assert answer.status_code == 403
    assert "http://127.0.0.1:8000" in answer.text and "site_url" in answer.text
    assert "https://privacy.synergycabinet.example/" in answer.text


def test_a_notice_offers_only_the_choices_there_are(git_project: Project, tmp_path: Path) -> None:
    set_subscriptions_url(git_project, "https://subscribe.example.test/")
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db"), "POLICY_UNSUBSCRIBE_SECRET": "a-secret-for-the-snags"}
    git_project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "reader@example.org", env=env, check=True)
    git_project.run("notify", env=env, check=True)
    sent = sorted((git_project.path / ".cache/outbox").rglob("*.eml"))
    assert sent
    message = message_from_bytes(sent[0].read_bytes(), policy=email_policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "To choose which kinds of change you receive:" in text, text
    assert "(kinds of change)" in html and "documents" not in text.split("To choose")[1].split("\n")[0]
