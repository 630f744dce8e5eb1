"""The PDF of every version and of its changes (site/pdf.py), read back with pypdf: the seed's every sentence in
the text, the policy files and manifest attached (they parse back to the content hash versions.json states),
PDF/A-3b identification, linked from the pages, the same bytes in a warm build and in a cold one (the durable
cache removed too), hostile text shown as text, and none of it (no dead link) with the option `pdf: false`.

One project built once for the module: the seed as 1.0, a 1.1 with hostile text, a German translation of one
section, then a warm build of a 2.0 and a cold build of it."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from policy_site.bench.synthetic import add_version
from policy_site.source.loader import load_policy
from policy_site.source.model import content_hash
from tests.support.project import FIDELITY, SEED, Project, copy_project
from tests.support.site import assert_same_site, build, tree

EPOCH = 1_800_000_000
HOSTILE = "<script>alert(1)</script> </style><img src=x onerror=alert(2)> {{ 7*7 }} ]]> %PDF /JavaScript"
SITE = "https://privacy.synergycabinet.example/"


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3], m[2] * n[0] + m[3] * n[2],
            m[2] * n[1] + m[3] * n[3], m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5]]


def body_text(pdf: pypdf.PdfReader) -> str:
    """The text of every page without its running header and footer (what lies in the page's margins) and
    without the lists' bullets (drawn apart from their items' text)."""
    parts: list[str] = []
    for page in pdf.pages:
        height = float(page.mediabox.height)

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float,
                  height: float = height) -> None:
            if 60 < _mult(tm, cm)[5] < height - 45 and text.strip() != "•":
                parts.append(text)
        page.extract_text(visitor_text=visit)
        parts.append("\n")
    return "".join(parts)


def read(path: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(path.read_bytes()))


def _translate_into_german(p: Project) -> None:
    """A German translation with one section translated (hostile text in it), committed."""
    p.run("translate", "de", check=True)
    german = p.read("translations/de/sections/accessing-personal-information.yaml")
    german.update(title="Schutz personenbezogener Daten",
                  body=[f"Wir schützen Ihre Daten. {HOSTILE}", "Zweiter Absatz.", "Dritter Absatz."])
    p.write("translations/de/sections/accessing-personal-information.yaml", german)
    p.commit("German translation")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pdf")
    p = copy_project(root / "repo", pdf=True).init_git()
    p.commit("Publish the privacy policy, version 1.0")
    section = p.read("sections/protecting-information.yaml")
    section["body"].append(HOSTILE)
    p.write("sections/protecting-information.yaml", section)
    p.meta(version="1.1", summary=f"Hostile summary {HOSTILE}")
    p.commit("1.1")
    _translate_into_german(p)
    build(p.path, EPOCH)
    shutil.copytree(p.path / "site", root / "first")
    generated = p.path / ".cache/pages/versions/1.0/policy-1.0.pdf"
    made = generated.stat().st_mtime_ns
    add_version(p.path)  # 2.0, warm
    build(p.path, EPOCH)
    assert generated.stat().st_mtime_ns == made  # 1.0's PDF was kept, not made again
    shutil.copytree(p.path / "site", root / "warm")
    shutil.rmtree(p.path / ".cache")  # the durable PDF cache as well: every PDF made again
    shutil.rmtree(p.path / "site")
    build(p.path, EPOCH)
    return {"repo": p.path, "site": p.path / "site", "first": root / "first", "warm": root / "warm"}


def versions(site: Path) -> dict[str, dict]:
    return {v["version"]: v for v in json.loads((site / "versions.json").read_text(encoding="utf-8"))["versions"]}


def local(site: Path, url: str) -> Path:
    assert url.startswith(SITE), url
    return site / url.removeprefix(SITE)


def test_every_version_and_change_has_a_pdf_listed_with_its_hash(built: dict[str, Path]) -> None:
    site = built["site"]
    listed = versions(site)
    assert sorted(listed) == ["1.0", "1.1", "2.0"]
    for number, record in listed.items():
        pdf = local(site, record["pdf_url"])
        assert pdf.name == f"policy-{number}.pdf" and pdf.parent == local(site, record["url"])
        assert hashlib.sha256(pdf.read_bytes()).hexdigest() == record["pdf_sha256"]
        if number == "1.0":  # the first version has no redline
            assert "changes_pdf_url" not in record and "changes_pdf_sha256" not in record
            continue
        changes = local(site, record["changes_pdf_url"])
        assert changes.parent == local(site, record["changes_url"])
        assert hashlib.sha256(changes.read_bytes()).hexdigest() == record["changes_pdf_sha256"]
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*.pdf")) == [
        "changes/1.1/policy-1.1-changes.pdf", "changes/2.0/policy-2.0-changes.pdf", "de/policy-2.0-de.pdf",
        "versions/1.0/policy-1.0.pdf", "versions/1.1/policy-1.1.pdf", "versions/2.0/policy-2.0.pdf"]


def test_a_translation_has_a_pdf_of_its_page(built: dict[str, Path]) -> None:
    site = built["site"]
    listed = json.loads((site / "de/translation.json").read_text(encoding="utf-8"))
    pdf = local(site, listed["pdf_url"])
    assert pdf == site / "de/policy-2.0-de.pdf"
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == listed["pdf_sha256"]
    assert '<a href="policy-2.0-de.pdf" type="application/pdf">This translation as PDF</a>' in (
        site / "de/index.html").read_text(encoding="utf-8")
    reader = read(pdf)
    text = re.sub(r"\s+", " ", body_text(reader))
    assert "Schutz personenbezogener Daten" in text and "Wir schützen Ihre Daten." in text
    assert "<script>alert(1)</script>" in text
    assert "The German translation of version 1.1" in text and "The English text is the one that controls" in text
    manifest = json.loads(reader.attachments["manifest.json"][0])
    assert manifest["version"] == "2.0" and manifest["content_hash"] == versions(site)["2.0"]["content_hash"]


def test_pages_link_their_pdfs(built: dict[str, Path]) -> None:
    site = built["site"]
    page = (site / "versions/1.1/index.html").read_text(encoding="utf-8")
    assert '<a href="policy-1.1.pdf" type="application/pdf">This version as PDF</a>' in page
    home = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="versions/2.0/policy-2.0.pdf" type="application/pdf">This version as PDF</a>' in home
    changes = (site / "changes/1.1/index.html").read_text(encoding="utf-8")
    assert "These changes as PDF" in changes and "Version 1.1 as PDF" in changes
    first = (site / "changes/1.0/index.html").read_text(encoding="utf-8")
    assert "These changes as PDF" not in first and "Version 1.0 as PDF" in first
    for file in site.rglob("*.html"):  # every link to a PDF leads to one
        for href in re.findall(r'href="([^"#?]+\.pdf)"', file.read_text(encoding="utf-8")):
            assert (file.parent / href).resolve().is_file(), (file, href)


def test_the_seed_versions_pdf_holds_every_sentence(built: dict[str, Path], tmp_path: Path) -> None:
    text = body_text(read(built["site"] / "versions/1.0/policy-1.0.pdf"))
    page = tmp_path / "pdf-text.html"
    page.write_text(f"<!DOCTYPE html><html><body><p>{html.escape(text)}</p></body></html>", encoding="utf-8")
    result = subprocess.run([sys.executable, str(FIDELITY), str(SEED), str(page)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_header_and_footer_name_the_version(built: dict[str, Path]) -> None:
    record = versions(built["site"])["1.1"]
    pdf = read(built["site"] / "versions/1.1/policy-1.1.pdf")
    for page in pdf.pages:
        text = re.sub(r"\s+", " ", page.extract_text())
        assert "Version 1.1" in text and f"commit {record['commit'][:10]}" in text
        assert record["content_hash"] in text.replace(" ", "")
    assert f"effective {record['effective']}" in re.sub(r"\s+", " ", pdf.pages[0].extract_text())


def test_attachments_are_the_policy_files_that_make_the_stated_hash(built: dict[str, Path], tmp_path: Path) -> None:
    site = built["site"]
    for number, record in versions(site).items():
        pdf = read(local(site, record["pdf_url"]))
        files = {name: data[0] for name, data in pdf.attachments.items()}
        manifest = json.loads(files.pop("manifest.json"))
        assert manifest["version"] == number and manifest["content_hash"] == record["content_hash"]
        assert manifest["commit"] == record["commit"] and manifest["published"] == record["published"]
        assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
            name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        folder = tmp_path / number
        for name, data in files.items():
            assert name.startswith("policy/") and ".." not in name
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        assert content_hash(load_policy(folder / "policy")) == record["content_hash"]


def test_pdfs_identify_as_pdf_a_3b(built: dict[str, Path]) -> None:
    for path in sorted(built["site"].rglob("*.pdf")):
        pdf = read(path)
        root = pdf.trailer["/Root"]
        xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp, path
        intent = root["/OutputIntents"][0].get_object()
        assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
        if "changes/" not in path.as_posix():  # attachments declared as associated files (PDF/A-3)
            associated = [f.get_object() for f in root["/AF"]]
            assert {f["/AFRelationship"] for f in associated} == {"/Source", "/Data"}
            assert {f["/F"] for f in associated} == set(pdf.attachments)
        assert pdf.metadata is not None and pdf.metadata["/Creator"] == "policy-site"


def test_same_bytes_when_kept_and_when_made_again(built: dict[str, Path]) -> None:
    first, site = tree(built["first"]), tree(built["site"])
    pdfs = [name for name in first if name.endswith(".pdf") and not name.startswith("de/")]
    assert len(pdfs) == 3
    for name in pdfs:
        assert first[name] == site[name], name  # made again after the caches were removed
    assert_same_site(built["warm"], built["site"])  # the warm build of 2.0 == its cold build, PDFs included
    dates = {read(built["site"] / n).metadata["/CreationDate"] for n in pdfs}  # type: ignore[index]
    assert dates == {"D:20261121000000Z", "D:20261122000000Z"}  # the publications, not SOURCE_DATE_EPOCH


def test_hostile_text_is_text(built: dict[str, Path]) -> None:
    site = built["site"]
    for path in (site / "versions/1.1/policy-1.1.pdf", site / "changes/1.1/policy-1.1-changes.pdf"):
        data = path.read_bytes()
        text = re.sub(r"\s+", " ", body_text(read(path)))
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text, path
        assert "{{ 7*7 }}" in text
        for name in (b"/JS ", b"/JS(", b"/Launch", b"/OpenAction", b"/URI (file:"):
            assert name not in data, (path, name)
    yaml_text = read(site / "versions/1.1/policy-1.1.pdf").attachments["policy/sections/protecting-information.yaml"]
    assert "alert(1)" in yaml_text[0].decode("utf-8")


def test_option_off_makes_no_pdf_and_says_none(tmp_path: Path) -> None:
    p: Project = copy_project(tmp_path / "repo").init_git()  # pdf: false (tests/support/project.py)
    assert "pdf: false" in (p.path / "mkdocs.yml").read_text(encoding="utf-8")
    p.commit("1.0")
    p.meta(version="1.1", summary="Second")
    p.commit("1.1")
    _translate_into_german(p)
    build(p.path, EPOCH)
    site = p.path / "site"
    assert not list(site.rglob("*.pdf"))
    for file in site.rglob("*.html"):
        assert "as PDF" not in file.read_text(encoding="utf-8"), file
    for record in versions(site).values():
        assert not [key for key in record if "pdf" in key]


def test_the_durable_cache_stays_bounded_least_recently_used_out_first(tmp_path: Path) -> None:
    """Each template edit or WeasyPrint upgrade makes every PDF anew under new inputs; the durable cache keeps at
    most KEPT_PER_PDF × the site's PDFs (at least KEPT_AT_LEAST), the least recently made or used removed first,
    and the half-written entry of a build killed long ago, not one being written now."""
    import os

    from policy_site.site.pdf import DURABLE, KEPT_AT_LEAST, STALE_TEMPORARY_S

    p = copy_project(tmp_path / "repo", pdf=True).init_git()
    p.commit("Publish the privacy policy, version 1.0")
    build(p.path, EPOCH)
    durable = p.path / ".cache/history" / DURABLE
    (real,) = durable.glob("*.pdf")  # the one PDF of the site (a first version has no changes PDF)
    long_ago = 1_600_000_000
    for n in range(KEPT_AT_LEAST + 30):  # entries of inputs that are gone, older than the real one
        old = durable / f"{n:064x}.pdf"
        old.write_bytes(b"%PDF-old")
        os.utime(old, (long_ago + n, long_ago + n))
    killed, writing = durable / "a.123.tmp", durable / "b.456.tmp"
    killed.write_bytes(b"half")
    os.utime(killed, (long_ago, long_ago))
    writing.write_bytes(b"half")
    assert STALE_TEMPORARY_S > 60
    build(p.path, EPOCH)  # warm: nothing made, the cache pruned
    kept = sorted(durable.glob("*.pdf"))
    assert len(kept) == KEPT_AT_LEAST and real in kept
    assert durable / f"{KEPT_AT_LEAST + 29:064x}.pdf" in kept and durable / f"{0:064x}.pdf" not in kept
    assert not killed.exists() and writing.exists()
