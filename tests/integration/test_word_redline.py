"""The Word redline (site/word/): a long change (44 sections: edits, a move, a rename, added and removed sections, a
table cell edit, a list in a cell, a link change, hostile text) written as a .docx with real tracked changes, read
back with lxml: its insertions and deletions are exactly the word redline's words; LibreOffice converts it; the same
input gives the same bytes; `policy diff --format docx` and the site publish the same file, linked from the changes
page (and the compare page)."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from policy_site.bench.local import free_port
from policy_site.bench.realistic import write_repo
from policy_site.diff.redline import is_row, marker_kind
from policy_site.diff.sections import PolicyDiff, diff_policies, units
from policy_site.site.word.package import xml_text
from policy_site.site.word.redline import redline_docx
from policy_site.source.model import Paragraph, Policy
from tests.support.diff import policy_from_plain
from tests.support.project import ROOT, run_policy

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WHEN = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
VOCABULARY = ("data", "we", "keep", "your", "account", "records", "for", "billing", "and", "support", "purposes",
              "only", "as", "long", "law", "requires", "them", "partners", "process", "securely")


def words(n: int, seed: int) -> str:
    return " ".join(VOCABULARY[(seed * 7 + k * 3 + k * k) % len(VOCABULARY)] for k in range(n)).capitalize() + "."


def section(i: int) -> dict:
    return {"id": f"s{i:02d}", "title": f"Topic number {i}", "body": [words(18, i), words(14, i + 100)]}


def version_one() -> dict:
    sections = [section(i) for i in range(44)]
    sections[3]["body"].append({"table": {"caption": "Why we use data", "header": ["Purpose", "Basis"], "rows": [
        ["Billing", "Contract"],
        ["Marketing", {"body": ["Consent, which you give:", {"bullets": ["by email", "on the site"]}]}],
        ["Security", "Legitimate interest"]]}})
    sections[4]["body"].append("Read [our cookie page](https://example.org/cookies) for details.")
    sections[5]["body"].append({"section": {"id": "s05-inner", "title": "An inner topic", "body": [words(10, 5)]}})
    sections[6]["body"].append({"bullets": ["First item stays", "Second item goes", "Third item stays"]})
    sections[6]["body"].append({"numbered": ["Step one", "Step two"]})
    sections[7]["body"].append("Fees < 5 & taxes > 2, \"quoted\" and <b>not bold</b> &amp; so on.")
    return {"title": "Acme privacy policy", "version": "1.0", "effective": "2027-01-01",
            "summary": "First published version.", "organisation": {"name": "Acme & Sons <Legal>",
                                                                     "contact": "privacy@acme.example"},
            "introduction": ["Acme keeps this policy."], "sections": sections}


def version_two() -> dict:
    data = version_one()
    data.update(version="2.0", effective="2027-04-01", summary="Retention shortened; cookie page moved.")
    s = data["sections"]
    s[1]["body"][0] = s[1]["body"][0].replace("we keep", "we no longer keep") + " Retention ends after a year."
    s[2]["body"] = [s[2]["body"][1], "A new paragraph about transfers abroad."]  # one kept, one removed, one new
    table = s[3]["body"][2]["table"]
    table["rows"][0][1] = "Contract or consent"
    table["rows"][1][1] = {"body": ["Consent, which you give:", {"bullets": ["by email", "by phone", "on the site"]}]}
    table["rows"].append(["Analytics", "Consent"])
    s[4]["body"][2] = "Read [our cookie page](https://example.org/cookie-policy) for details."
    s[6]["body"][2] = {"bullets": ["First item stays", "Third item stays", "A new item"]}
    s[7]["body"][2] = "Fees < 6 & taxes > 2, \"quoted\" and <script>x</script> &amp; so on."
    s[9]["title"] = "Topic number nine, renamed"
    s[12]["body"][0] = words(18, 12).replace("data", "information", 1)
    moved = s.pop(8)
    removed = s.pop(9)  # s10
    assert removed["id"] == "s10"
    s.insert(28, moved)  # now after s29
    s.insert(20, {"id": "s-new", "title": "A brand new topic", "body": [words(12, 77)]})
    return data


@pytest.fixture(scope="module")
def change() -> PolicyDiff:
    return diff_policies(policy_from_plain(version_one()), policy_from_plain(version_two()))


@pytest.fixture(scope="module")
def document(change: PolicyDiff) -> bytes:
    return redline_docx(change, change.new.organisation.name, WHEN, "version 1.0", "version 2.0")


def body_of(data: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))


def tracked(element: etree._Element) -> list[tuple[str, str]]:
    """Every tracked word under element, in document order: ('insert' | 'delete' | 'moveFrom' | 'moveTo', word)."""
    out: list[tuple[str, str]] = []
    names = {W + "ins": "insert", W + "del": "delete", W + "moveFrom": "moveFrom", W + "moveTo": "moveTo"}
    for text in element.iter(W + "t", W + "delText"):
        kind = next((names[a.tag] for a in text.iterancestors() if a.tag in names), None)
        if kind is not None:
            out += [(kind, word) for word in (text.text or "").split()]
    return out


def parts(root: etree._Element) -> dict[str, list[etree._Element]]:
    """The body's paragraphs (those in tables too) split at headings, by the heading's bookmark ('' before any)."""
    out: dict[str, list[etree._Element]] = {"": []}
    current = ""
    for p in root.find(W + "body").iter(W + "p"):
        style = p.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(W + "val").startswith("Heading"):
            mark = p.find(W + "bookmarkStart")
            current = mark.get(W + "name") if mark is not None else f"heading-{len(out)}"
            out[current] = []
        out[current].append(p)
    return out


def expected(change: PolicyDiff) -> dict[str, list[tuple[str, str]]]:
    """Per section: the tracked words the redline says, in order: its heading's (added, removed, renamed), then
    its text's (a cell's list markers are no words)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for c in change.changed:
        found: list[tuple[str, str]] = []
        if "added" in c.kinds or "removed" in c.kinds:
            op = "insert" if "added" in c.kinds else "delete"
            found += [(op, w) for w in f"{c.number} {c.title}".split()]
        if "renamed" in c.kinds:
            found += [("delete", w) for w in (c.old_title or "").split()]
            found += [("insert", w) for w in (c.new_title or "").split()]
        for block in c.redline:
            for span in block.spans or tuple(s for cell in block.cells for s in cell):
                if span.op != "equal" and marker_kind(span.marks) is None:
                    found += [(span.op, w) for w in span.text.split()]
        out[c.id] = found
    return out


def test_the_tracked_words_are_the_redlines(change: PolicyDiff, document: bytes) -> None:
    kinds = Counter(k for c in change.changed for k in c.kinds)
    assert change.sections_after >= 40 and all(kinds[k] for k in ("added", "removed", "modified", "renamed", "moved"))
    root = body_of(document)
    want = expected(change)
    split = parts(root)
    for c in change.changed:
        if "moved" in c.kinds:
            continue
        got = [(op, w) for op, w in tracked(_wrap(split["s_" + c.id.replace("-", "_")])) if op in ("insert", "delete")]
        assert got == want[c.id], c.id
    # the whole document: every insertion and deletion, and nothing else (the cover and the notes are not tracked)
    everything = Counter((op, w) for op, w in tracked(root) if op in ("insert", "delete"))
    assert everything == Counter(x for found in want.values() for x in found)
    # a paragraph wholly added or removed has its mark tracked too; deleted text is in w:delText
    assert root.findall(f".//{W}pPr/{W}rPr/{W}ins") and root.findall(f".//{W}pPr/{W}rPr/{W}del")
    assert not [t for d in root.iter(W + "del") for t in d.iter(W + "t")]


def _wrap(paragraphs: list[etree._Element]) -> etree._Element:
    box = etree.Element("box")
    for p in paragraphs:
        box.append(etree.fromstring(etree.tostring(p)))
    return box


def test_a_move_is_a_word_move_and_carries_its_subsections(change: PolicyDiff, document: bytes) -> None:
    move = next(c for c in change.changed if c.id == "s08")
    assert move.kinds == ("moved",) and move.old_number != move.new_number
    root = body_of(document)
    starts = {e.get(W + "name") for e in root.iter(W + "moveFromRangeStart")}
    assert starts and starts == {e.get(W + "name") for e in root.iter(W + "moveToRangeStart")}
    split = parts(root)
    moved = tracked(_wrap(split["s_s08"]))
    assert moved and {op for op, _ in moved} == {"moveTo"}
    assert "".join(t.text for t in split["s_s08"][0].iter(W + "t")).startswith(f"{move.new_number} Topic")
    old_place = [k for k, ps in split.items() if k.startswith("heading-") and tracked(_wrap(ps[:1]))
                 and tracked(_wrap(ps[:1]))[0] == ("moveFrom", move.old_number)]
    assert len(old_place) == 1
    assert {op for op, _ in tracked(_wrap(split[old_place[0]]))} == {"moveFrom"}


def test_table_cells_links_and_lists(change: PolicyDiff, document: bytes) -> None:
    root = body_of(document)
    table_part = _wrap(parts(root)["s_s03"])
    rows = list(body_of(document).iter(W + "tbl"))
    assert len(rows) >= 2  # the cover's and the text's
    text_table = next(t for t in root.iter(W + "tbl") if "Marketing" in "".join(x.text or "" for x in t.iter(W + "t")))
    cells = {"".join(x.text or "" for x in tc.iter(W + "t", W + "delText")): tc for tc in text_table.iter(W + "tc")}
    contract = next(tc for text, tc in cells.items() if text.startswith("Contract"))
    assert [w for op, w in tracked(contract)] == ["or", "consent"]
    consent = next(tc for text, tc in cells.items() if "by email" in text)
    items = consent.findall(f"{W}p")
    assert len(items) == 4 and all(p.find(f"{W}pPr/{W}numPr") is not None for p in items[1:])
    assert items[2].find(f"{W}pPr/{W}rPr/{W}ins") is not None  # the item added in the cell, paragraph mark and all
    assert [w for _, w in tracked(items[2])] == ["by", "phone"]
    added_row = [tr for tr in text_table.iter(W + "tr") if tr.find(f"{W}trPr/{W}ins") is not None]
    assert len(added_row) == 1 and "Analytics" in "".join(t.text for t in added_row[0].iter(W + "t"))
    assert table_part is not None
    link_part = parts(root)["s_s04"]
    text = "".join(t.text or "" for p in link_part for t in p.iter(W + "t"))
    assert "[link: https://example.org/cookies → https://example.org/cookie-policy]" in text
    rels = zipfile.ZipFile(io.BytesIO(document)).read("word/_rels/document.xml.rels").decode()
    assert 'Target="https://example.org/cookies"' in rels and 'Target="https://example.org/cookie-policy"' in rels
    # the cover: a table of the changed sections, kind, summary and effective date, before the text
    cover = next(iter(root.iter(W + "tbl")))
    rows_text = ["|".join("".join(t.text or "" for t in tc.iter(W + "t")) for tc in tr.iter(W + "tc"))
                 for tr in cover.iter(W + "tr")]
    assert rows_text[0] == "Section|Change|Summary|Effective" and len(rows_text) == len(change.changed) + 1
    move = next(c for c in change.changed if c.id == "s08")
    assert f"{move.label}|moved|{move.move}|1 April 2027" in rows_text
    assert all(r.endswith("1 April 2027") for r in rows_text[1:])


def test_author_date_and_the_same_bytes(change: PolicyDiff, document: bytes) -> None:
    root = body_of(document)
    revisions = [e for e in root.iter(W + "ins", W + "del", W + "moveFrom", W + "moveTo")]
    assert {e.get(W + "author") for e in revisions} == {"Acme & Sons <Legal>"}
    assert {e.get(W + "date") for e in revisions} == {"2027-03-01T09:30:00Z"}
    ids = [e.get(W + "id") for e in root.iter(W + "ins", W + "del", W + "moveFrom", W + "moveTo",
                                              W + "moveFromRangeStart", W + "moveToRangeStart")]
    assert len(ids) == len(set(ids))
    assert redline_docx(change, change.new.organisation.name, WHEN, "version 1.0", "version 2.0") == document
    package = zipfile.ZipFile(io.BytesIO(document))
    names = package.namelist()
    assert names == sorted(names) and {i.date_time for i in package.infolist()} == {(2027, 3, 1, 9, 30, 0)}
    core = package.read("docProps/core.xml").decode()
    assert "2027-03-01T09:30:00Z" in core and "Acme &amp; Sons &lt;Legal&gt;" in core
    xml = package.read("word/document.xml").decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in xml and "&amp; taxes &gt; 2" in xml and "&lt;b&gt;not" in xml


def test_characters_xml_forbids_become_replacement_characters(change: PolicyDiff) -> None:
    assert xml_text("a\x00b\x01c\x1fd\tok\ufffe") == "a\ufffdb\ufffdc\ufffdd\tok\ufffd"
    first = change.new.sections[0]
    hostile = dataclasses.replace(first, title="Bell\x07 & <title>", body=(Paragraph("Nul\x00 and \x1b[31m escape & <tags>"),))
    new = dataclasses.replace(change.new, sections=(hostile, *change.new.sections[1:]))
    data = redline_docx(diff_policies(change.old, new), "Org\x01", WHEN, "version 1.0", "version 2.0")
    text = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "Nul\ufffd and \ufffd[31m escape &amp; &lt;tags&gt;" in text and 'w:author="Org\ufffd"' in text


def test_libreoffice_converts_it(document: bytes, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:  # skipped with the reason, but in CI (CI set) or with POLICY_REQUIRE_LIBREOFFICE=1
        required = os.environ.get("CI", "").strip().lower() not in ("", "0", "false") \
            or os.environ.get("POLICY_REQUIRE_LIBREOFFICE") == "1"
        message = "LibreOffice (soffice) is not installed: `make libreoffice` installs it (make test does)"
        if required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    (tmp_path / "redline.docx").write_bytes(document)
    result = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "redline.docx")],
                            capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "redline.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two versions as a git repository with this project's mkdocs.yml and templates, built once."""
    extra = {"mkdocs.yml": (ROOT / "mkdocs.yml").read_bytes()}
    extra.update({p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / "templates").rglob("*")
                  if p.is_file()})
    repo = write_repo(tmp_path_factory.mktemp("word") / "repo", [version_one(), version_two()], extra)
    run_policy(repo, "build", check=True, env={"SOURCE_DATE_EPOCH": "1900000000"})
    return repo


def test_the_site_and_the_command_publish_the_same_file(built: Path) -> None:
    published = built / "site/changes/2.0/redline-1.0-to-2.0.docx"
    assert published.is_file()
    assert not list((built / "site/changes/1.0").glob("*.docx"))  # the first version: nothing to compare with
    out = built / "from-the-command.docx"
    result = run_policy(built, "diff", "1.0", "2.0", "--format", "docx", "-o", str(out), check=True)
    assert "wrote" in result.stderr and out.read_bytes() == published.read_bytes()
    refused = run_policy(built, "diff", "1.0", "2.0", "--format", "docx")  # no -o: bytes are not for a terminal
    assert refused.returncode == 1 and "give it with -o FILE" in refused.stderr and "Traceback" not in refused.stderr
    revisions = body_of(out.read_bytes()).iter(W + "ins")
    commit = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=built, capture_output=True, text=True).stdout
    stamp = datetime.fromtimestamp(int(commit), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {e.get(W + "date") for e in revisions} == {stamp}  # the commit that published 2.0
    for page in ("changes/2.0/index.html", "changes/index.html"):
        html = (built / "site" / page).read_text(encoding="utf-8")
        link = re.search(r'class="policy-download">For review in Word: <a href="([^"]+)">', html)
        assert link, page
        assert (built / "site" / page).parent.joinpath(link.group(1)).resolve() == published.resolve()
    assert "policy-download" not in (built / "site/changes/1.0/index.html").read_text(encoding="utf-8")
    compare = (built / "site/compare/index.html").read_text(encoding="utf-8")
    assert 'id="compare-word"' in compare and "policy diff FROM TO --format docx -o redline.docx" in compare
    # a warm build keeps the generated file as it is (its key: the version's state), and publishes the same bytes
    generated = built / ".cache/pages/changes/2.0/redline-1.0-to-2.0.docx"
    before, data = generated.stat().st_mtime_ns, published.read_bytes()
    run_policy(built, "build", check=True, env={"SOURCE_DATE_EPOCH": "1900000000"})
    assert generated.stat().st_mtime_ns == before and published.read_bytes() == data



def policy_words(policy: Policy) -> list[str]:
    """The words of a version's text in reading order, as a reader reads them: the introduction, then each
    section's title and text (table captions, header and cells; list markers are no words)."""
    out = [w for text in policy.introduction for w in text.split()]
    for placed in policy.walk():
        out += placed.section.title.split()
        for kind, content in units(placed.section):
            found = [w for cell in content for w in cell] if is_row(kind) else list(content)
            out += "".join(("" if glue else " ") + text for text, marks, glue in found
                           if marker_kind(marks) is None).split()
    return out


def test_accepting_every_change_gives_the_new_text_and_rejecting_them_the_old(built: Path, tmp_path: Path) -> None:
    """LibreOffice as a reviewer: "Accept All" leaves version 2.0's words, "Reject All" version 1.0's."""
    required = os.environ.get("CI", "").strip().lower() not in ("", "0", "false") \
        or os.environ.get("POLICY_REQUIRE_LIBREOFFICE") == "1"
    uno = subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode == 0 \
        if Path("/usr/bin/python3").exists() else False
    if shutil.which("soffice") is None or not uno:
        message = "LibreOffice with python3-uno is not installed: `make libreoffice` installs them (make test does)"
        if required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    docx = built / "site/changes/2.0/redline-1.0-to-2.0.docx"
    drop = re.compile(r"^(\d+\.|[•◦▪])$")  # list labels and section numbers (renumbering is not tracked)
    for action, data in (("accept", version_two()), ("reject", version_one())):
        out = tmp_path / f"{action}.txt"
        result = subprocess.run(["/usr/bin/python3", str(ROOT / "tests/support/libreoffice_review.py"), str(docx), action,
                                 str(out), str(free_port()), str(tmp_path / f"profile-{action}")],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        before, after = map(int, result.stdout.split())
        assert before > 10 and after == 0
        text = re.sub(r" \[(link|emphasis|bold|formatting|now|no longer)[^\]]*\]", "", out.read_text("utf-8-sig"))
        words = text.split()
        start = next(n for n in range(60, len(words)) if words[n:n + 4] == ["Acme", "privacy", "policy", "Version"])
        got = [w for w in words[start + 3 + 7:] if not drop.match(w)]  # after "Version 2.0 · effective 1 April 2027"
        want = [w for w in policy_words(policy_from_plain(data)) if not drop.match(w)]
        assert got == want, action
