"""`policy demo DIR`: a git repository holding the seed policy and a scripted history of every change kind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from ..errors import UserError
from ..history import git as gitcmd
from ..notify.ledger import ledger_time

SCHEMA = {"policy.yaml": "schema/policy.schema.json"}


class DemoRepo:
    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.policy = path / "policy"
        self.now = start

    def git(self, *args: str) -> None:
        stamp = f"@{int(self.now.timestamp())} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_GLOBAL": "/dev/null",
               "GIT_AUTHOR_NAME": "Legal Team", "GIT_AUTHOR_EMAIL": "legal@synergycabinet.example",
               "GIT_COMMITTER_NAME": "Legal Team", "GIT_COMMITTER_EMAIL": "legal@synergycabinet.example"}
        gitcmd.run(self.path, *args, env=env)

    def read(self, name: str) -> dict:
        return yaml.safe_load((self.policy / name).read_text(encoding="utf-8"))

    def write(self, name: str, data: dict) -> None:
        schema = SCHEMA.get(name, "../schema/section.schema.json")
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
        (self.policy / name).write_text(f"# yaml-language-server: $schema={schema}\n{text}", encoding="utf-8")

    def edit(self, name: str, change: Callable[[dict], None]) -> None:
        data = self.read(name)
        change(data)
        self.write(name, data)

    def commit(self, message: str, days_later: int, **meta: object) -> None:
        self.now += timedelta(days=days_later)
        if meta:
            self.edit("policy.yaml", lambda d: d.update({k: str(v) if isinstance(v, date) else v
                                                          for k, v in meta.items()}))
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)


def _subsection(data: dict, section_id: str) -> dict:
    for block in data["body"]:
        if isinstance(block, dict) and "section" in block:
            if block["section"]["id"] == section_id:
                return block["section"]
    raise KeyError(section_id)


def _bullets(section: dict) -> list[str]:
    return next(b["bullets"] for b in section["body"] if isinstance(b, dict) and "bullets" in b)


def create_demo(target: Path, project_root: Path) -> list[str]:
    """Write the demo repository; returns the versions it publishes, oldest first."""
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} exists and is not empty; choose a new folder for the demo")
    if not (project_root / "policy" / "sections" / "protecting-information.yaml").is_file():
        raise UserError(f"policy demo scripts a history on the SynergyCabinet seed policy of a policy-site checkout; "
                        f"{project_root} holds no such policy (run `make demo` in a checkout; for your own policy: "
                        f"policy init, then policy build)")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("mkdocs.yml", ".gitignore"):
        if (project_root / name).is_file():
            shutil.copy(project_root / name, target / name)
    for folder in ("policy", "templates"):
        if (project_root / folder).is_dir():
            shutil.copytree(project_root / folder, target / folder)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    repo = DemoRepo(target, today - timedelta(days=330))
    repo.git("init", "-q", "-b", "main")
    first = repo.now.date()
    repo.commit("Publish the privacy policy", 0, version="1.0", effective=first + timedelta(days=5),
                summary="First published version of the SynergyCabinet privacy policy.")

    # 1.1: a paragraph edited; a nested subsection renamed
    repo.edit("sections/protecting-information.yaml", lambda d: d["body"].__setitem__(3,
              "We provide all kinds of data protection management, and we review it every year with an "
              "independent auditor."))
    repo.edit("sections/privacy-settlement-terms.yaml",
              lambda d: _subsection(d, "children-protection").__setitem__("title", "Protecting children:"))
    repo.commit("Policy 1.1: yearly audit; clearer children's section title", 60, version="1.1",
                effective=first + timedelta(days=75),
                summary="Data protection is now audited every year; the children's section has a clearer title.")

    # an amendment: text changed without a new version number
    repo.edit("sections/protecting-information.yaml", lambda d: d["body"].__setitem__(3,
              "We provide all kinds of data protection management, and we review it every year with an "
              "independent auditor appointed by the board."))
    repo.commit("Name who appoints the auditor", 4)

    # 2.0: a section added, a section moved, a bullet removed from a nested subsection
    repo.write("sections/data-retention.yaml", {
        "id": "data-retention", "title": "How long we keep your data",
        "body": ["We keep account data while your registration is active and for two years after your last "
                 "login. Billing records are kept for ten years because the law requires it.",
                 {"bullets": ["Support conversations: one year.", "Website server records: 90 days."]}]})

    def reorder(d: dict) -> None:
        d["sections"].remove("protecting-information")
        d["sections"].insert(0, "protecting-information")
        d["sections"].insert(4, "data-retention")
    repo.write("sections/cookies-we-use.yaml", {
        "id": "cookies-we-use", "title": "Cookies we use",
        "summary": "Two cookies keep the site working; one counts visits, and only if you agree.",
        "body": ["These are all the cookies our website sets:",
                 {"table": {"caption": "Cookies on synergycabinet.example", "row_headers": True,
                            "header": ["Cookie", "Why we set it", "How long it stays"],
                            "rows": [["session", "Keeps you signed in while you use the customer portal.",
                                      "Until you close the browser"],
                                     ["lang", "Remembers the language you chose.", "1 year"],
                                     ["_stats", "Counts visits, **only if you agree** to statistics cookies.",
                                      "13 months"]]}},
                 "You can refuse or delete cookies in your browser:",
                 {"bullets": [{"body": ["In most browsers, open the settings and search for *cookies*.",
                                        "Then choose what to do:",
                                        {"numbered": ["block all cookies, or", "block only third-party cookies, or",
                                                      "delete the cookies already stored."]}]},
                              "Blocking the session cookie signs you out of the customer portal."]}]})

    def with_cookies(d: dict) -> None:
        reorder(d)
        d["sections"].insert(5, "cookies-we-use")
    repo.edit("policy.yaml", with_cookies)
    repo.edit("sections/privacy-settlement-terms.yaml", lambda d: _bullets(_subsection(d, "cookies")).__delitem__(5))
    repo.commit("Policy 2.0: data retention, protection first, no advertising cookies", 90, version="2.0",
                effective=first + timedelta(days=180),
                summary="New section on how long we keep data; protection comes first; advertising cookies "
                        "are gone.")

    # 2.1: a subsection removed; a top-level section added with a numbered list
    repo.edit("sections/privacy-settlement-terms.yaml", lambda d: d["body"].remove(
        next(b for b in d["body"] if isinstance(b, dict) and b.get("section", {}).get("id") == "policy-changes")))
    repo.write("sections/changes-to-this-policy.yaml", {
        "id": "changes-to-this-policy", "title": "Changes to this policy",
        "body": ["We publish every version of this policy with what changed. When a new version is published:",
                 {"numbered": ["it appears on this site with its effective date;",
                               "subscribers receive an email and the change feeds are updated;",
                               "the previous version stays readable at its permanent address."]},
                 "Questions about a change? Write to our privacy team:",
                 "SynergyCabinet Privacy Team\\\nPO Box 1234\\\nLondon EC1A 1AA\\\nUnited Kingdom"]})
    repo.edit("policy.yaml", lambda d: d["sections"].append("changes-to-this-policy"))
    repo.commit("Policy 2.1: how changes are announced", 90, version="2.1", effective=first + timedelta(days=275),
                summary="A new section explains how changes are announced.")

    # 3.0: upcoming — who data is shared with changes
    def sharing(d: dict) -> None:
        bullets = _bullets(_subsection(d, "information-sharing"))
        bullets[1] = "For providing better and quick service, we can send your information via email."
        bullets.append("We share payment details only with our payment processor, and only to take payments.")
    repo.edit("sections/privacy-settlement-terms.yaml", sharing)

    def cookies(d: dict) -> None:
        rows = d["body"][1]["table"]["rows"]
        rows[2][2] = "6 months"
        rows.append(["consent", "Remembers your cookie choices.", "6 months"])
        d["body"][3]["bullets"][0]["body"][2]["numbered"][1] = "block third-party cookies only, or"
    repo.edit("sections/cookies-we-use.yaml", cookies)
    repo.commit("Policy 3.0: information sharing narrowed", 80, version="3.0",
                effective=today.date() + timedelta(days=30),
                summary="Information sharing is narrowed: no more calls about account transactions; payment "
                        "processor named.")
    return ["1.0", "1.1", "2.0", "2.1", "3.0"]


DEMO_SUBSCRIBERS = (("ada@example.org", "Ada Lovelace"), ("zoe@example.org", "Zoë Ærøskøbing"),
                    ("taro@example.jp", "山田太郎"))


def fill_outbox(target: Path) -> str:
    """Subscribe three demo readers and run `policy notify` into the demo's outbox (never real SMTP)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                      env.get("PYTHONPATH")]))

    def policy(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "policy_site", *args], cwd=target, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise UserError(f"demo: policy {' '.join(args)} failed:\n{result.stderr.strip()}")
        return result.stdout

    # readers who subscribed before the demo's history begins (330 days ago): every version is news to them
    since = ledger_time(datetime.now(UTC) - timedelta(days=400))
    for email, name in DEMO_SUBSCRIBERS:
        policy("subscribers", "add", email, "--name", name, "--subscribed", since)
    return policy("notify")
