"""Helpers of the import tests: new projects, the words of a page, Word files built with python-docx from a
Markdown text, the figures file, and a source repository committed by several people at chosen dates."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from tests.support.project import OUTPUT, ROOT, run_policy, without_pdfs

FIXTURES = ROOT / "tests" / "fixtures" / "import"
FIGURES = OUTPUT / "figures" / "import-fidelity.json"
ORGANISATION = ("--organisation", "Northwind Outfitters", "--contact", "privacy@northwind.example")
PACKAGE = ("--package", "policy-site==0.1.0")  # what the generated workflow installs (an editable install has no origin)


def new_project(parent: Path, name: str = "site") -> Path:
    """A fresh project made by `policy init`."""
    run_policy(parent, "init", name, *ORGANISATION, *PACKAGE, "--site-url", "https://privacy.northwind.example/",
               "--title", "Privacy policy", check=True)
    return parent / name


def build_without_pdfs(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`policy build` (checked) with the PDFs turned off for this build only: mkdocs.yml is put back as it was, so
    the working tree stays clean for an import again. The import tests check pages, feeds and JSON, never a PDF
    (tests/integration/test_pdf.py and test_site_build.py do), and a PDF costs a second or more a version."""
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(without_pdfs(text), encoding="utf-8")
    try:
        return run_policy(project, "build", *args, check=True)
    finally:
        config.write_text(text, encoding="utf-8")


class Source:
    """A plain git repository holding a document, committed by several people at chosen dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, **env: str) -> str:
        full = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **env}
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True,
                              env=full).stdout.strip()

    def commit(self, files: dict[str, str], message: str, author: str, when: int, committed: int | None = None) -> str:
        for name, text in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(text, encoding="utf-8")
        name, email = author, f"{author.lower()}@northwind.example"
        stamp = f"@{when} +0100"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
                 GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_NAME="Web Team", GIT_COMMITTER_EMAIL="web@northwind.example",
                 GIT_COMMITTER_DATE=f"@{committed or when + 3600} +0100")
        return self.git("rev-parse", "HEAD")


def words(text: str) -> Counter:
    """The words of a text as a multiset: lower-case runs of letters and digits."""
    return Counter(re.findall(r"\w+", text.lower()))


def html_words(html: str, selector: str) -> Counter:
    soup = BeautifulSoup(html, "html5lib")
    element = soup.select_one(selector)
    assert element is not None, selector
    for tag in element.select("script, style, nav, form, aside, .headerlink"):
        tag.decompose()
    return words(element.get_text(" "))


def markdown_words(text: str) -> Counter:
    """The words a reader sees on the Markdown's rendered page (front matter left out)."""
    body = text.split("---", 2)[2] if text.startswith("---") else text
    return html_words(MarkdownIt("commonmark").enable("table").render(body), "body")


def built_words(project: Path) -> Counter:
    """The words of the built current page's article."""
    return html_words((project / "site" / "index.html").read_text(encoding="utf-8"), "article")


def fidelity(source: Counter, built: Counter) -> tuple[float, list[str]]:
    """The share of the source's words found on the built page (as many times), and the missing ones."""
    missing = source - built
    found = sum(source.values()) - sum(missing.values())
    return found / sum(source.values()), sorted(missing.elements())


def record(key: str, value: object) -> None:
    """Add one figure to test-output/figures/import-fidelity.json."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.exists() else {}
    data[key] = value
    FIGURES.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- a Word document from Markdown, through python-docx -------------------------------------------

def _runs(paragraph, token) -> None:
    bold = italic = 0
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            run.bold, run.italic = bool(bold) or None, bool(italic) or None
        elif child.type == "softbreak":
            paragraph.add_run(" ")
        elif child.type == "hardbreak":
            paragraph.add_run().add_break()
        elif child.type in ("strong_open", "strong_close"):
            bold += 1 if child.type == "strong_open" else -1
        elif child.type in ("em_open", "em_close"):
            italic += 1 if child.type == "em_open" else -1


def docx_from_markdown(markdown: str, target: Path) -> None:
    """A .docx with the Markdown's headings (Title, Heading 1–3), paragraphs, bold and italic, line breaks,
    bulleted and numbered lists (nested: List Bullet 2, 3), tables (header row, Caption style) and links as text."""
    import docx
    body = markdown.split("---", 2)[2] if markdown.startswith("---") else markdown
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    document = docx.Document()
    number_ids = {"List Bullet": _multilevel(document, False), "List Number": _multilevel(document, True)}
    lists: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            level = int(token.tag[1])
            paragraph = document.add_paragraph(style="Title" if level == 1 else f"Heading {level - 1}")
            _runs(paragraph, tokens[i + 1])
            i += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append("List Bullet" if token.type == "bullet_list_open" else "List Number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "paragraph_open":
            text = tokens[i + 1]
            if lists:
                paragraph = document.add_paragraph(style="List Paragraph")
                _list_level(paragraph, number_ids[lists[-1]], len(lists) - 1)
            elif text.content.startswith("Table 1:"):
                paragraph = document.add_paragraph(style="Caption")
            else:
                paragraph = document.add_paragraph()
            _runs(paragraph, text)
            i += 3
            continue
        elif token.type == "table_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            rows, row = [], []
            for t in tokens[i:end]:
                if t.type == "tr_open":
                    row = []
                elif t.type == "tr_close":
                    rows.append(row)
                elif t.type == "inline":
                    row.append(t)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    paragraph = table.cell(r, c).paragraphs[0]
                    _runs(paragraph, cell)
            _mark_header_row(table.rows[0])
            i = end + 1
            continue
        i += 1
    document.save(str(target))


def _multilevel(document, ordered: bool) -> int:
    """A numbering definition of three levels (bullets or 1. a. i.), as Word writes for a list nested with Tab;
    its numId."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    numbering = document.part.numbering_part.element
    abstract_id = 90 + int(ordered)
    formats = [("decimal", "%1."), ("lowerLetter", "%2."), ("lowerRoman", "%3.")] if ordered else \
        [("bullet", "\u2022"), ("bullet", "o"), ("bullet", "\u25aa")]
    levels = "".join(f'<w:lvl w:ilvl="{n}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/>'
                     f'<w:pPr><w:ind w:left="{720 * (n + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
                     for n, (fmt, text) in enumerate(formats))
    numbering.insert(0, parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
                                  f'<w:multiLevelType w:val="hybridMultilevel"/>{levels}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{abstract_id}"><w:abstractNumId '
                               f'w:val="{abstract_id}"/></w:num>'))
    return abstract_id


def _list_level(paragraph, num_id: int, level: int) -> None:
    """The paragraph at a nesting level of a multi-level numbering, as Word's Tab key makes it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    numbering = OxmlElement("w:numPr")
    for name, value in (("w:ilvl", level), ("w:numId", num_id)):
        element = OxmlElement(name)
        element.set(qn("w:val"), str(value))
        numbering.append(element)
    paragraph._p.get_or_add_pPr().append(numbering)


def _mark_header_row(row) -> None:
    """Word's 'repeat as header row' (w:tblHeader): mammoth makes such rows the table's <thead>."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def docx_words(path: Path) -> Counter:
    """Every word of a .docx: its paragraphs and table cells (python-docx, independent of the importer)."""
    import docx
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return words(" ".join(texts))
