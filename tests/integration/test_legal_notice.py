"""`policy notice`: a version's legal notice for account holders — no list headers, no unsubscribe, no To."""

from __future__ import annotations

import email
import email.policy
import stat

from tests.support.project import Project


def test_legal_notice_is_a_whole_message_without_list_headers(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("      feed_limit: 50\n", "      feed_limit: 50\n"
                                                 "      unsubscribe_url: https://privacy.example.org/unsubscribe\n"))
    env = {"POLICY_UNSUBSCRIBE_SECRET": "s" * 32}
    raw = git_project.run("notice", env=env, check=True).stdout
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert msg["From"] == "SynergyCabinet privacy <privacy@synergycabinet.example>"
    assert msg["Subject"].startswith("SynergyCabinet: Privacy and company Policy for Customer 1.0 — ")
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
    for header in ("To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence", "List-Archive"):
        assert msg[header] is None, header
    text = msg.get_body(("plain",)).get_content()
    markup = msg.get_body(("html",)).get_content()
    for body in (text, markup):
        assert "because you hold an account with SynergyCabinet" in body
        assert "subscribed" not in body and "https://privacy.example.org/unsubscribe" not in body
        assert "https://privacy.synergycabinet.example/changes/1.0/" in body


def test_legal_notice_parts_to_a_private_file_and_a_wrong_version(git_project: Project) -> None:
    text = git_project.run("notice", "1.0.0", "--format", "text", check=True).stdout
    assert text.startswith("SynergyCabinet has published version 1.0") and text.endswith("\n")
    out = git_project.path / "notice.html"
    done = git_project.run("notice", "--format", "html", "-o", str(out), check=True)
    assert "legal notice of version 1.0 (html)" in done.stderr
    assert out.read_text().lstrip().lower().startswith("<!doctype html")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    wrong = git_project.run("notice", "9.9")
    assert wrong.returncode == 1 and wrong.stderr.strip().count("\n") == 0
    assert "no published version 9.9 (published: 1.0)" in wrong.stderr and "Traceback" not in wrong.stderr
