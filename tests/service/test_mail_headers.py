"""No header injection on any Python: encoded words, CR, LF, NEL and U+2028 in names and addresses, through every way
a name comes in (the form, `subscribers add`, CSV import, a stored row, the migration to PostgreSQL), against a real
aiosmtpd server, and the header builder run on every CPython this machine has (3.11.7 folds encoded words into
raw CR LF: CVE-2024-6923)."""

from __future__ import annotations

import email
import email.header
import email.policy
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from policy_site.errors import UserError
from policy_site.notify import headers
from policy_site.notify.addresses import InvalidAddress, display, lookalike_warning, normalise_address, normalise_name
from tests.support.notify import EXPECTED_HEADERS, HOSTILE_NAMES, PHISH, Recorder, subscribe
from tests.support.project import ROOT, SUBSCRIBED, Project

NOTICE = EXPECTED_HEADERS - {"list-unsubscribe-post"}  # no https unsubscribe link in the seed project: mailto only
HOSTILE_LOCAL_PARTS = ["=?utf-8?q?x=0D=0ABcc:_y?=@example.org", "a=?b@example.org", "x?=@example.org"]


def raw_header(data: bytes) -> list[tuple[str, str]]:
    """(name, unfolded raw value) of every header line of a message, as the bytes say, decoding nothing."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    fields: list[tuple[str, str]] = []
    for line in head.split("\r\n"):
        assert "\r" not in line and "\n" not in line
        if line[:1] in (" ", "\t"):
            name, value = fields.pop()
            fields.append((name, value + line))
        else:
            name, _, value = line.partition(":")
            fields.append((name.lower(), value.strip()))
    return fields


def assert_exact(data: bytes, expected: set[str], to: str, name: str = "") -> None:
    """The raw header holds exactly the expected names, each once, and To is the address with at most a name."""
    fields = raw_header(data)
    assert sorted(n for n, _ in fields) == sorted(expected)
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert str(message["To"]) == (f"{name} <{to}>" if name else to)
    assert message["Reply-To"] is None and message["Bcc"] is None and message["Cc"] is None
    assert message.get_content_type() in ("multipart/alternative", "text/plain")


# --- where names come in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_refused_where_they_come_in(name: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_name(name)
    assert headers.safe_name(name) == ""  # and a stored one is dropped when read


@pytest.mark.parametrize("address", HOSTILE_LOCAL_PARTS)
def test_encoded_word_local_parts_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(address)


def test_cli_add_and_csv_import_refuse_them_and_store_nothing(project: Project, tmp_path: Path) -> None:
    env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.db")}
    for name in (PHISH, "Ann\u2028Bcc: x@evil.example", "Ann\u0085Bcc"):
        result = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--name", name, env=env)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "name" in result.stderr
    result = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "=?utf-8?q?x=0D=0A?=@example.org", env=env)
    assert result.returncode != 0 and "before the @" in result.stderr
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name\nann@example.org,Ann\nbob@example.org," + PHISH + "\n"
                        "cy@example.org,\"Cy\u2028Bcc: x@evil.example\"\n", encoding="utf-8")
    result = project.run("subscribers", "import", str(csv_file), env=env)
    assert result.returncode != 0 and "list.csv:3:" in result.stderr and "list.csv:4:" in result.stderr
    assert "'=?' is not allowed in a name" in result.stderr
    count = project.run("subscribers", "count", env=env)
    assert count.returncode == 0 and count.stdout.strip() == "0"  # all or nothing


# --- what goes out ------------------------------------------------------------------------------------------

def _plant(database: Path, rows: list[tuple[str, str]]) -> None:
    """Subscribers stored as an older version (or another program) would have: names never checked."""
    with sqlite3.connect(database) as conn:
        for address, name in rows:
            conn.execute("UPDATE subscribers SET name = ? WHERE email = ?", (name, address))


def test_stored_hostile_names_are_dropped_from_every_notice(git_project: Project, smtp: Recorder,
                                                            env: dict[str, str]) -> None:
    addresses = {f"s{i}@example.org": "Placeholder" for i in range(len(HOSTILE_NAMES))}
    addresses["zoe@example.org"] = "Zoë Ærøskøbing"
    addresses["eve@example.net"] = 'Eve "the tester", Jr.'
    subscribe(git_project, env, addresses)
    _plant(Path(env["POLICY_SUBSCRIBERS_DB"]), [(f"s{i}@example.org", n) for i, n in enumerate(HOSTILE_NAMES)])
    result = git_project.run("notify", env=env, check=True)
    assert f"{len(addresses)} sent, 0 failed" in result.stdout
    by_recipient = {m[1][0]: m[2] for m in smtp.messages}
    for i in range(len(HOSTILE_NAMES)):
        assert_exact(by_recipient[f"s{i}@example.org"], NOTICE, f"s{i}@example.org")
    assert_exact(by_recipient["zoe@example.org"], NOTICE, "zoe@example.org", "Zoë Ærøskøbing")
    assert_exact(by_recipient["eve@example.net"], NOTICE, "eve@example.net", '"Eve \\"the tester\\", Jr."')
    subject = dict(raw_header(by_recipient["zoe@example.org"]))["subject"]
    assert subject.startswith("=?utf-8?b?")  # written by this code, not folded by the email package


def test_migrated_hostile_names_are_dropped_too(git_project: Project, smtp: Recorder, pg_url: str,
                                               tmp_path: Path) -> None:
    sqlite_env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "subs.sqlite3"), "POLICY_NOTIFY_BACKOFF_SECONDS": "0",
                  "POLICY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    subscribe(git_project, sqlite_env, {"ann@example.org": "Ann", "bob@example.org": "Bob"})
    _plant(Path(sqlite_env["POLICY_SUBSCRIBERS_DB"]), [("ann@example.org", PHISH), ("bob@example.org", "B\u2028Cc: x")])
    migrated = git_project.run("subscribers", "migrate", "--to", pg_url, env=sqlite_env)
    assert migrated.returncode == 0, migrated.stderr
    pg_env = {**sqlite_env, "POLICY_DATABASE_URL": pg_url}
    git_project.run("notify", env=pg_env, check=True)
    assert sorted(m[1][0] for m in smtp.messages) == ["ann@example.org", "bob@example.org"]
    for _, (recipient,), data in smtp.messages:
        assert_exact(data, NOTICE, recipient)


def test_legal_notice_headers_are_written_here(git_project: Project) -> None:
    config = git_project.path / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_name: SynergyCabinet privacy policy",
                                                 'site_name: "=?utf-8?q?x=0D=0ABcc=3A_y@evil.example?="'))
    result = git_project.run("notice", "--format", "eml", "-o", str(git_project.path.parent / "legal.eml"))
    assert result.returncode == 0, result.stderr
    data = (git_project.path.parent / "legal.eml").read_bytes()
    assert sorted(n for n, _ in raw_header(data)) == sorted(
        {"from", "subject", "date", "message-id", "auto-submitted", "mime-version", "content-type"})


def test_the_header_guard_refuses_anything_unexpected() -> None:
    good = b"To: a@example.org\r\nSubject: hi\r\n there\r\n"
    assert headers.check_head(good, ["To", "Subject"]) == good
    for bad in (b"To: a@example.org\r\nBcc: x@evil.example\r\n", b"To: a\r\nTo: b\r\n", b"To: a\nBcc: b\r\n",
                b"To: a\r\n\r\nSubject: b\r\n", b" To: a\r\n", b"To: a\rBcc: b\r\n", b"To: a"):
        with pytest.raises(UserError):
            headers.check_head(bad, ["To", "Subject"])
    with pytest.raises(UserError):
        headers.address_line("To", "Ann", "a@example.org>\r\nBcc: x@evil.example")


def test_encoded_words_round_trip_and_stay_short() -> None:
    for name in ("Zoë Ærøskøbing", "山田太郎" * 20, "a" * 150 + "é", "Ann ?= Example", "O'Brien, Dr.", "x" * 200):
        line = headers.address_line("To", name, "a@example.org")
        assert all(len(part) <= 998 for part in line.split(b"\r\n"))
        assert all(len(w) <= 75 for w in line.decode().split() if w.startswith("=?"))
        parsed = email.message_from_bytes(line + b"\r\nbody", policy=email.policy.default)
        assert parsed["To"].addresses[0].addr_spec == "a@example.org"
        # RFC 2047 § 6.2: the space between adjacent encoded words is not text (the email package's phrase parser
        # keeps it; email.header's decoder, like mail programs, does not)
        raw = dict(raw_header(line + b"\r\n"))["to"].rsplit("<", 1)[0].strip()
        decoded = str(email.header.make_header(email.header.decode_header(raw)))
        assert decoded.strip('"').replace('\\"', '"') == name


# --- every interpreter -----------------------------------------------------------------------------------------

PROBE = r"""
import email, email.policy, json, sys
from policy_site.notify import headers
names = json.loads(sys.argv[1])
out = []
for name in names:
    line = headers.address_line("To", headers.safe_name(name), "a@example.org")
    line += headers.line("Subject", headers.text_pieces(name))
    headers.check_head(line, ["To", "Subject"])
    parsed = email.message_from_bytes(line + b"\r\nbody", policy=email.policy.default)
    out.append([sorted(k.lower() for k in parsed.keys()), str(parsed["To"])])
print(json.dumps([sys.version.split()[0], out]))
"""


def _interpreters() -> list[str]:
    found = {sys.executable}
    for root in (Path.home() / ".pyenv" / "versions", Path("/usr/bin")):
        for candidate in sorted(root.glob("3.1[1-9]*/bin/python3")) + sorted(root.glob("python3.1[1-9]")):
            found.add(str(candidate))
    return sorted(found)


@pytest.mark.parametrize("python", _interpreters())
def test_no_interpreter_can_be_made_to_inject(python: str) -> None:
    """The header builder, alone (it needs nothing but the standard library), on every CPython ≥ 3.11 found here:
    the interpreter `make site` picked, 3.11.7 (which has the bug) and any other."""
    result = subprocess.run([python, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); " + PROBE,
                             str(ROOT / "scripts"), json.dumps(HOSTILE_NAMES)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    version, out = json.loads(result.stdout)
    for keys, to in out:
        assert keys == ["subject", "to"], version
        assert to == "a@example.org", version


def test_the_email_package_alone_would_inject_on_an_unpatched_python() -> None:
    """Why the builder exists: on 3.11.7 the email package's own folding turns PHISH into header lines."""
    old = Path.home() / ".pyenv" / "versions" / "3.11.7" / "bin" / "python3"
    if not old.exists():
        pytest.skip("no CPython 3.11.7 on this machine")
    code = ("import email.policy, sys; from email.message import EmailMessage; from email.headerregistry import "
            "Address; m = EmailMessage(policy=email.policy.SMTP); m['To'] = Address(sys.argv[1] + ' ' + 'x' * 60, "
            "addr_spec='a@example.org'); sys.stdout.write(m.as_string())")
    result = subprocess.run([str(old), "-I", "-c", code, PHISH], capture_output=True, text=True, timeout=60)
    assert "\nReply-To: refunds@evil.example" in result.stdout.replace("\r\n", "\n")


# --- look-alike domains ---------------------------------------------------------------------------------------

def test_lookalike_domains_are_shown_in_unicode_with_a_warning() -> None:
    stored = normalise_address("ann@exаmple.com")  # a Cyrillic а
    assert stored == "ann@xn--exmple-4nf.com"
    assert display(stored) == "ann@exаmple.com"
    warning = lookalike_warning(stored)
    assert warning and "Cyrillic and Latin" in warning and "xn--exmple-4nf.com" in warning
    assert lookalike_warning(normalise_address("ann@münchen.de")) is None
    assert display(normalise_address("ann@münchen.de")) == "ann@münchen.de"
    assert lookalike_warning(normalise_address("yamada@例え.jp")) is None  # Han and Hiragana with Latin: allowed
    assert lookalike_warning(normalise_address("ann@пример.рф")) is None
    assert lookalike_warning("ann@example.org") is None
