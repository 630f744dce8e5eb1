"""`policy import FILE`: a realistic policy in Markdown, as a saved web page and as a Word file, imported into a
fresh `policy init` project and built; the share of the source's words on the built page is measured and
written to test-output/figures/import-fidelity.json."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.importing import (
    FIXTURES,
    build_without_pdfs,
    built_words,
    docx_from_markdown,
    docx_words,
    fidelity,
    html_words,
    markdown_words,
    new_project,
    record,
    words,
)
from tests.support.project import run_policy

MARKDOWN = FIXTURES / "privacy-policy.md"
HTML = FIXTURES / "privacy-policy.html"


def _import_and_build(tmp_path: Path, source: Path) -> tuple[Path, str]:
    project = new_project(tmp_path)
    result = run_policy(project, "import", str(source), check=True)
    assert "Traceback" not in result.stderr
    run_policy(project, "check", check=True)
    build_without_pdfs(project)
    return project, result.stdout


def _section(project: Path, section_id: str) -> dict:
    return yaml.safe_load((project / "policy" / "sections" / f"{section_id}.yaml").read_text(encoding="utf-8"))


def _find(data: object, key: str) -> list:
    """Every value under key, anywhere in the data."""
    found = []
    if isinstance(data, dict):
        for k, v in data.items():
            found += ([v] if k == key else []) + _find(v, key)
    elif isinstance(data, list):
        for v in data:
            found += _find(v, key)
    return found


def _measure(name: str, source_words, project: Path, report: str) -> float:
    share, missing = fidelity(source_words, built_words(project))
    record(name, {"source_words": sum(source_words.values()), "found_on_built_page": round(share * 100, 2),
                  "missing": missing, "report": report.splitlines()})
    print(f"{name}: {share:.2%} of {sum(source_words.values())} source words on the built page; missing {missing}")
    reported = words(report)
    assert all(reported[w] for w in missing), (missing, report)  # what is not on the page is in the report
    return share


def test_markdown_policy_imports_faithfully(tmp_path: Path) -> None:
    project, report = _import_and_build(tmp_path, MARKDOWN)
    source = markdown_words(MARKDOWN.read_text(encoding="utf-8"))
    assert sum(source.values()) >= 2000
    assert _measure("markdown", source, project, report) >= 0.995
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert (project / "policy" / "policy.yaml").read_text().startswith("# yaml-language-server: $schema=schema/")
    assert meta["title"] == "Northwind Outfitters Privacy Policy"
    assert str(meta["effective"]) == "2020-07-22" and meta["version"] == "1.0"
    assert meta["summary"] == "First published version"
    assert meta["organisation"] == {"name": "Northwind Outfitters", "contact": "privacy@northwind.example"}
    assert not any("Effective date" in p for p in meta["introduction"])
    assert "[terms of sale](/legal/terms/)" in meta["introduction"][1]  # relative link → site path (permalink)
    assert "[cookie settings](#cookies-and-similar-technologies)" in meta["introduction"][1]
    who = _section(project, "who-we-are")
    assert "Northwind Outfitters Ltd\\\nUnit 4, Harbour Trading Estate\\\n" in who["body"][1]
    assert "|-\n" in (project / "policy/sections/who-we-are.yaml").read_text()  # literal block for the address
    collect = _section(project, "the-personal-data-we-collect")
    depth3 = [s["id"] for s in _find(collect, "section") if isinstance(s, dict)]
    assert "location-data" in depth3 and "data-you-give-us" in depth3  # three levels of headings
    lists = _find(collect, "bullets")
    assert any(isinstance(i, dict) and _find(i, "bullets") for bl in lists for i in bl)  # nested lists
    assert any(isinstance(i, dict) and len(i["body"]) == 2 and all(isinstance(b, str) for b in i["body"])
               for nl in _find(collect, "numbered") if isinstance(nl, list) for i in nl)  # two paragraphs
    table = _find(_section(project, "cookies-and-similar-technologies"), "table")[0]
    assert table["caption"] == "Table 1: Cookies we use on www.northwind.example"
    assert table["header"] == ["Cookie", "Purpose", "Type", "Expires"]
    assert ["_ga", "Distinguishes visitors for *Google Analytics*", "Analytics", "2 years"] in table["rows"]
    rights = [n for n in _find(_section(project, "your-rights"), "numbered") if isinstance(n, list)]
    assert rights[0][0].startswith("**ask for a copy**")
    assert "Everything in the document was represented faithfully." in report
    assert "#how-we-use-your-personal-data" in report or "how-we-use-your-personal-data" in str(collect)


def test_saved_web_page_imports_its_main_content(tmp_path: Path) -> None:
    project, report = _import_and_build(tmp_path, HTML)
    html = HTML.read_text(encoding="utf-8")
    source = html_words(html, "main")
    assert sum(source.values()) >= 2000
    assert _measure("html", source, project, report) >= 0.995
    built = built_words(project)
    for chrome in ("gtag", "datalayer", "kids", "accessibility", "skip", "reserved", "reject"):
        assert chrome not in built, chrome  # navigation, header, footer, scripts and the cookie banner left out
    assert "Content: the page's <main> at line" in report
    assert "#who_we_are → #who-we-are" in report  # CMS anchors made valid, the old ones listed
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert "[terms of sale](/legal/terms/)" in meta["introduction"][1]  # relative to the canonical address
    keep = _find(_section(project, "how-long-we-keep-your-personal-data"), "table")[0]
    assert keep["row_headers"] is True and keep["rows"][0][0] == "Account details"
    cookies = _find(_section(project, "cookies-and-similar-technologies"), "table")[0]
    assert cookies["caption"].startswith("Table 1: Cookies")
    assert "[Cookies and similar technologies](#cookies-and-similar-technologies)" in \
        str(_section(project, "the-personal-data-we-collect"))


def test_word_document_imports(tmp_path: Path) -> None:
    """A .docx made with python-docx: Title and Heading styles, bold and italic runs, line breaks, nested
    bulleted and numbered lists, tables with a header row and a Caption paragraph. Word files built this way
    carry no hyperlinks (python-docx writes link texts as plain runs), so links are not measured here."""
    source_file = tmp_path / "privacy-policy.docx"
    docx_from_markdown(MARKDOWN.read_text(encoding="utf-8"), source_file)
    project, report = _import_and_build(tmp_path, source_file)
    source = docx_words(source_file)
    assert sum(source.values()) >= 2000
    # Every word of the document's paragraphs and cells but the effective-date line ("Effective date: July 22,
    # 2020", 5 words of which "July" is the only one the page does not repeat) is expected on the page.
    assert _measure("docx", source, project, report) >= 0.995
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert meta["title"] == "Northwind Outfitters Privacy Policy" and str(meta["effective"]) == "2020-07-22"
    collect = _section(project, "the-personal-data-we-collect")
    assert any(isinstance(i, dict) and _find(i, "bullets") for bl in _find(collect, "bullets") for i in bl)
    cookies = _find(_section(project, "cookies-and-similar-technologies"), "table")[0]
    assert cookies["caption"].startswith("Table 1") and cookies["header"][0] == "Cookie"
    assert "**not**" in str(collect) and "*controller*" in str(_section(project, "who-we-are"))
    assert any("Bristol BS1 4XY\\\nUnited Kingdom" in b for b in _section(project, "who-we-are")["body"])


@pytest.mark.parametrize("name, text, expected", [
    ("notes.md", "# P\n\nLast updated: 22 July 2020\n\n## A\n\n![Team photo](team.jpg)\n\n> Quoted words\n\n"
                 "Text[^1].\n\n[^1]: A footnote.\n\n<dl><dt>Term</dt><dd>Meaning</dd></dl>\n",
     ["notes.md:3: 'Last updated: 22 July 2020' → effective 2020-07-22", "notes.md:7: image 'Team photo' dropped",
      "notes.md:9: block quote kept", "notes.md:11: footnote marker '[^1]'", "notes.md:15: definition list kept",
      "notes.md:15: raw HTML block converted"]),
    ("page.html", "<title>T</title><main><h1>P</h1><p>Effective as of 2020-07-22</p><h2>A</h2>"
                  "<p>x <img src=a.png alt=Map></p><nav>On this page: A</nav><dl><dt>T</dt><dd>D</dd></dl></main>",
     ["page.html:1: image 'Map' dropped", "page.html:1: navigation dropped: 'On this page: A'",
      "effective 2020-07-22"]),
])
def test_report_names_what_is_not_kept(tmp_path: Path, name: str, text: str, expected: list[str]) -> None:
    project = new_project(tmp_path)
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_policy(project, "import", str(tmp_path / name), check=True)
    for line in expected:
        assert line in result.stdout, (line, result.stdout)
    run_policy(project, "check", check=True)


def test_no_date_is_today_with_a_note(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    (tmp_path / "p.md").write_text("# Policy\n\nIntro.\n\n## Data\n\nWe keep little.\n", encoding="utf-8")
    result = run_policy(project, "import", str(tmp_path / "p.md"), check=True)
    assert "no 'Effective date: …' line or date in the front matter; effective set to" in result.stdout
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert meta["introduction"] == ["Intro."]


ODD_MARKDOWN = """# Odd\u200b policy

Intro with a joiner between spaces \u200d and a bidi \u202eoverride\u202c, zero\u200dwidth and tabs\there.

##\x20

## Empty one

## Links

A [script](javascript:alert(1)) link, a [phone](tel:+441234) link, [unknown](#nowhere), [mail](mailto:x@y.org).
Code `<br>` literal and \\[PDF\\](https://example.org/a b.pdf) text, a [relative](other.html#frag).
*"quoted"*abc and **bold** stuff_with_underscores and 5 * 3 * 2.

### Only subsections

#### Deep

Deep text.

<table><tr><td colspan="2">wide</td></tr><tr><td>a</td><td>b</td><td>c</td></tr></table>

-\x20

1. one
   # heading in list
"""


@pytest.mark.parametrize("name", ["odd.md", "odd-page.html"])
def test_odd_documents_still_pass_the_loader(tmp_path: Path, name: str) -> None:
    """Invisible and bidi characters, refused link schemes, '<br>' as text, broken links, empty headings,
    headings with only subsections, spans, ragged tables, a page without <main> in a layout table: the result
    always loads, and each oddity is in the report."""
    source = tmp_path / name
    if name == "odd.md":
        source.write_text(ODD_MARKDOWN, encoding="utf-8")
    else:
        source.write_bytes((FIXTURES / name).read_bytes())
    project = new_project(tmp_path)
    report = run_policy(project, "import", str(source), check=True).stdout
    run_policy(project, "check", check=True)
    expected = {
        "odd.md": ["U+200B ZERO WIDTH SPACE removed", "U+202E RIGHT-TO-LEFT OVERRIDE removed",
                   "heading 'Empty one' has no text under it", "'tel:+441234' is not allowed",
                   "'#nowhere': no heading", "'<' became '‹'", "spanning several rows or columns",
                   "heading inside a list or quote"],
        "odd-page.html": ["Content: the page's <body> at line 2", "page header dropped: 'Example Inc Home'",
                          "cookie banner dropped: 'This site uses cookies. OK'", "definition list kept",
                          "preformatted text kept", "block quote kept", "image 'Chart' dropped"],
    }[name]
    for line in expected:
        assert line in report, (line, report)
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((project / "policy").rglob("*.yaml")))
    if name == "odd.md":
        assert "zero\u200dwidth" in text and "\u200b" not in text and "\u202e" not in text
        assert "[relative](/other.html#frag)" in text
    else:
        assert "[here](#retention)" in text and "[intro](#intro)" in text  # element ids and absolute self-links
        assert "nested under one" in text and "line one\\\n" in text


def test_organisation_from_mkdocs_when_there_is_no_policy_yaml(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    shutil.rmtree(project / "policy" / "sections")
    (project / "policy" / "policy.yaml").unlink()
    (tmp_path / "p.md").write_text("# Policy\n\nEffective date: 22 July 2020\n\n## Data\n\nWe keep little.\n")
    run_policy(project, "import", str(tmp_path / "p.md"), check=True)
    meta = yaml.safe_load((project / "policy" / "policy.yaml").read_text(encoding="utf-8"))
    assert meta["organisation"] == {"name": "Northwind Outfitters", "contact": "privacy@northwind.example"}
    run_policy(project, "check", check=True)
