"""Every kind of mistake in the policy files is reported at the file and line where it is.

Each case starts from a copy of the real policy files (policy/policy.yaml and policy/sections/*.yaml),
injects ONE mistake, and checks that parse_files refuses the policy with a Problem at that place.
Line numbers are worked out from the edited text, so the cases survive edits to the policy's wording.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from policy_site.errors import PolicyInvalid
from policy_site.source import loader

REPO = Path(__file__).resolve().parents[2]
BASE_FILES = loader.read_policy_files(REPO / "policy")

P = "policy.yaml"
SECTION = "sections/protecting-information.yaml"     # a top-level section with paragraphs only
NESTED = "sections/privacy-settlement-terms.yaml"    # a section with subsections and bullet lists
OTHER = "sections/accessing-personal-information.yaml"
LAST = "sections/rectification-and-cancellation.yaml"

LISTED = yaml.safe_load(BASE_FILES[P])["sections"]
SECTION_ID = yaml.safe_load(BASE_FILES[SECTION])["id"]
FIRST_FILE = min(name for name in BASE_FILES if name.startswith("sections/"))
FIRST_FILE_ID = yaml.safe_load(BASE_FILES[FIRST_FILE])["id"]
SUBSECTION_IDS = [block["section"]["id"] for block in yaml.safe_load(BASE_FILES[NESTED])["body"]
                  if isinstance(block, dict) and "section" in block]

# --- editing helpers: each returns the 1-based line where the mistake now stands ------------------

def _lines(files: dict, name: str) -> list[str]:
    return files[name].decode("utf-8").split("\n")


def _store(files: dict, name: str, lines: list[str]) -> None:
    files[name] = "\n".join(lines).encode("utf-8")


def _prefix(line: str) -> str:
    """A line's indentation, with its '- ' if it is a list item: what a sibling line starts with."""
    return re.match(r"\s*(?:- )?", line).group()


def find(files: dict, name: str, pattern: str, nth: int = 1) -> int:
    """Line number of the nth line matching the regex."""
    found = [n for n, line in enumerate(_lines(files, name), 1) if re.search(pattern, line)]
    assert len(found) >= nth, f"no line matching {pattern!r} in {name}: has the policy changed?"
    return found[nth - 1]


def _block_end(lines: list[str], number: int) -> int:
    """Index just past the value of the key (or list item) on line `number`: the lines indented under it."""
    column = len(_prefix(lines[number - 1]))
    end = scan = number
    while scan < len(lines):
        line = lines[scan]
        indent = len(line) - len(line.lstrip(" "))
        if line.strip():
            if indent < column or (indent == column and not line.lstrip().startswith("- ")):
                break
            end = scan + 1
        scan += 1
    return end


def replace_line(files: dict, name: str, pattern: str, text: str, nth: int = 1) -> int:
    """Replace the line matching the regex; '{prefix}' in text is that line's indentation (and '- ')."""
    number = find(files, name, pattern, nth)
    lines = _lines(files, name)
    lines[number - 1:number] = text.replace("{prefix}", _prefix(lines[number - 1])).split("\n")
    _store(files, name, lines)
    return number


def replace_block(files: dict, name: str, pattern: str, text: str | None) -> int:
    """Replace the matching line and its indented value (None: delete them)."""
    number = find(files, name, pattern)
    lines = _lines(files, name)
    new = [] if text is None else text.replace("{prefix}", _prefix(lines[number - 1])).split("\n")
    lines[number - 1:_block_end(lines, number)] = new
    _store(files, name, lines)
    return number


def insert_after(files: dict, name: str, pattern: str, text: str) -> int:
    """Insert text after the matching line and its indented value; '{prefix}' as in replace_line."""
    number = find(files, name, pattern)
    lines = _lines(files, name)
    end = _block_end(lines, number)
    lines[end:end] = text.replace("{prefix}", _prefix(lines[number - 1])).split("\n")
    _store(files, name, lines)
    return end + 1


def append_bytes(files: dict, name: str, pattern: str, raw: bytes) -> int:
    """Append raw bytes (not necessarily UTF-8) to the end of the matching line."""
    number = find(files, name, pattern)
    lines = files[name].split(b"\n")
    lines[number - 1] += raw
    files[name] = b"\n".join(lines)
    return number


def first_key(files: dict, name: str) -> int:
    """Where a file's top-level mapping starts (problems about the whole file point there)."""
    return find(files, name, r"^[a-z]")


# --- the mistakes ---------------------------------------------------------------------------------

def at(name: str, line: int) -> tuple[str, int]:
    return name, line


def missing_file(files):
    del files[SECTION]
    return at(P, find(files, P, rf"^\s+- {SECTION_ID}\s*$"))


def file_not_listed(files):
    replace_block(files, P, rf"^\s+- {SECTION_ID}\s*$", None)
    return at(SECTION, find(files, SECTION, r"^id:"))


def copied_file(files):
    files["sections/zz-copy.yaml"] = files[SECTION]
    return at("sections/zz-copy.yaml", find(files, "sections/zz-copy.yaml", r"^id:"))


def subsection_repeats_top_level_id(files):
    assert FIRST_FILE < NESTED, "the duplicate must be in the file read second"
    return at(NESTED, replace_line(files, NESTED, SUB_ID, "{prefix}id: " + FIRST_FILE_ID))


def subsection_repeats_sibling_id(files):
    return at(NESTED, replace_line(files, NESTED, SUB_ID, "{prefix}id: " + SUBSECTION_IDS[0], nth=2))


def with_file(name, data):
    """Replace, add (data) or delete (None) a whole file; the problem is on its line 1."""
    def mutate(files):
        if data is None:
            del files[name]
        else:
            files[name] = data
        return at(name, 1)
    return mutate


def non_utf8(name, pattern, raw):
    return lambda files: at(name, append_bytes(files, name, pattern, raw))


def edit(name, how, *args):
    """A case that applies one helper to one file: edit(P, insert_after, r'^summary:', 'author: x')."""
    return lambda files: at(name, how(files, name, *args))


def missing(name, pattern, where):
    """Delete the matching key; the problem is reported where its mapping starts (`where`)."""
    def mutate(files):
        replace_block(files, name, pattern, None)
        return at(name, where(files))
    return mutate


PARAGRAPH = r"^  - [^ ]"          # a paragraph in a top-level section body
BULLET = r"^ {12}- [^ ]"          # an item of a bullet list in a subsection
SUB_ID = r"^\s+id: "              # the first subsection's id (in NESTED)

MISTAKES = [
    # YAML itself
    pytest.param(edit(SECTION, replace_line, r"^title:", "title: Protecting: information"),
                 "YAML syntax error", id="yaml syntax error"),
    pytest.param(edit(P, insert_after, r"^summary:", "\tauthor: Someone"),
                 "YAML syntax error", id="yaml tab indentation"),
    pytest.param(edit(SECTION, insert_after, r"^title:", "title: Another title"),
                 "duplicate key 'title'", id="duplicate key"),
    pytest.param(edit(P, insert_after, r"^  name:", "{prefix}name: Another name"),
                 "duplicate key 'name'", id="duplicate key in organisation"),
    pytest.param(non_utf8(SECTION, PARAGRAPH, b" caf\xe9"), "not UTF-8 (byte 0xe9)", id="non-utf8 latin-1 byte"),
    pytest.param(non_utf8(P, r"^summary:", b"\xff"), "not UTF-8 (byte 0xff)", id="non-utf8 in policy.yaml"),
    pytest.param(with_file(SECTION, b""), "file is empty", id="empty section file"),
    pytest.param(with_file(SECTION, b"- a\n- b\n"), "section file must be a mapping", id="section file is a list"),
    pytest.param(with_file("sections/notes.txt", b"Notes"), "must be named <id>.yaml", id="section file not .yaml"),
    pytest.param(with_file(P, None), "file is missing", id="policy.yaml missing"),

    # unknown fields
    pytest.param(edit(P, insert_after, r"^summary:", "author: Privacy team"),
                 "unknown field 'author' in policy.yaml", id="unknown field top level"),
    pytest.param(edit(P, insert_after, r"^  contact:", "{prefix}phone: '+1 555 0100'"),
                 "unknown field 'phone' in organisation", id="unknown field in organisation"),
    pytest.param(edit(SECTION, insert_after, r"^title:", "abstract: Short version"),
                 "unknown field 'abstract' in section file", id="unknown field in section"),
    pytest.param(edit(NESTED, insert_after, SUB_ID, "{prefix}abstract: Short version"),
                 "unknown field 'abstract' in subsection", id="unknown field in subsection"),

    # wrong types
    pytest.param(edit(P, replace_line, r"^title:", "title: {en: Privacy policy}"),
                 "title must be text; found a mapping", id="mapping where text expected"),
    pytest.param(edit(SECTION, replace_line, r"^title:", "title: {en: Protecting information}"),
                 "section title must be text; found a mapping", id="mapping where section title expected"),
    pytest.param(edit(SECTION, replace_line, r"^title:", "title: [Protecting, information]"),
                 "section title must be text; found a list", id="list where text expected"),
    pytest.param(edit(P, replace_block, r"^introduction:", "introduction: Just one paragraph."),
                 "introduction paragraph must be a list", id="text where introduction list expected"),
    pytest.param(edit(P, replace_block, r"^sections:", f"sections: {LISTED[0]}"),
                 "sections must be a list", id="text where sections list expected"),
    pytest.param(edit(SECTION, replace_block, r"^body:", "body: Just one paragraph."),
                 "section body must be a list", id="text where body list expected"),
    pytest.param(edit(NESTED, replace_block, r"^\s+- bullets:", "{prefix}bullets: Just one sentence."),
                 "bullets list must be a list", id="text where bullets list expected"),
    pytest.param(edit(P, replace_block, r"^organisation:", "organisation: SynergyCabinet"),
                 "organisation must be a mapping", id="text where organisation mapping expected"),

    # missing required fields
    pytest.param(missing(P, r"^summary:", lambda files: first_key(files, P)),
                 "policy.yaml is missing the required field 'summary'", id="missing summary"),
    pytest.param(missing(P, r"^  contact:", lambda files: find(files, P, r"^  name:")),
                 "organisation is missing the required field 'contact'", id="missing organisation contact"),
    pytest.param(missing(SECTION, r"^body:", lambda files: first_key(files, SECTION)),
                 "section file is missing the required field 'body'", id="missing section body"),
    pytest.param(missing(SECTION, r"^id:", lambda files: first_key(files, SECTION)),
                 "section file is missing the required field 'id'", id="missing section id"),
    pytest.param(missing(NESTED, r"^\s{4,}title:", lambda files: find(files, NESTED, SUB_ID)),
                 "subsection is missing the required field 'title'", id="missing subsection title"),

    # empty text
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}""'),
                 "empty text: paragraph needs words", id="empty paragraph"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, "{prefix}"),
                 "empty text: paragraph needs words", id="empty list entry"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"  \\t  "'),
                 "empty text: paragraph needs words", id="whitespace-only paragraph"),
    pytest.param(edit(NESTED, insert_after, BULLET, '{prefix}"   "'),
                 "empty text: bullets item needs words", id="whitespace-only bullet"),
    pytest.param(edit(P, replace_line, r"^title:", "title:"), "empty text: title needs words", id="empty title"),
    pytest.param(edit(P, replace_line, r"^summary:", "summary: '   '"),
                 "empty text: summary needs words", id="whitespace-only summary"),
    pytest.param(edit(SECTION, replace_line, r"^title:", 'title: ""'),
                 "empty text: section title needs words", id="empty section title"),

    # empty lists
    pytest.param(edit(P, replace_block, r"^introduction:", "introduction: []"),
                 "introduction paragraph is an empty list", id="empty introduction"),
    pytest.param(edit(P, replace_block, r"^sections:", "sections: []"), "sections is an empty list",
                 id="empty sections"),
    pytest.param(edit(SECTION, replace_block, r"^body:", "body: []"), "section body is an empty list",
                 id="empty body"),
    pytest.param(edit(NESTED, replace_block, r"^\s+- bullets:", "{prefix}bullets: []"),
                 "bullets list is an empty list", id="empty bullets"),

    # section ids and files
    pytest.param(edit(P, insert_after, rf"^\s+- {LISTED[-1]}\s*$", "{prefix}" + LISTED[0]),
                 f"section '{LISTED[0]}' is listed twice", id="section listed twice"),
    pytest.param(missing_file, f"section '{SECTION_ID}' is listed but no file", id="section file missing"),
    pytest.param(file_not_listed, f"section '{SECTION_ID}' is not listed under 'sections'",
                 id="section file not listed"),
    pytest.param(copied_file, f"section id '{SECTION_ID}' is already used in policy/{SECTION}",
                 id="duplicate section id in two files"),
    pytest.param(subsection_repeats_top_level_id, f"section id '{FIRST_FILE_ID}' is already used in",
                 id="subsection id repeats a top-level id"),
    pytest.param(subsection_repeats_sibling_id, "is used twice in this file", id="subsection ids repeat"),
    pytest.param(edit(SECTION, replace_line, r"^id:", "id: Protecting_Information"),
                 "section id 'Protecting_Information' must be lowercase", id="bad id characters"),
    pytest.param(edit(SECTION, replace_line, r"^id:", "id: protecting--information"),
                 "must be lowercase letters, digits and single hyphens", id="bad id double hyphen"),
    pytest.param(edit(NESTED, replace_line, SUB_ID, "{prefix}id: cookies!"),
                 "section id 'cookies!' must be lowercase", id="bad subsection id"),
    pytest.param(edit(P, replace_line, rf"^\s+- {SECTION_ID}\s*$", "{prefix}Protecting Information"),
                 "section id 'Protecting Information' must be lowercase", id="bad id in sections list"),

    # version and date
    pytest.param(edit(P, replace_line, r"^version:", 'version: "1"'), "malformed version '1'",
                 id="malformed version 1"),
    pytest.param(edit(P, replace_line, r"^version:", "version: v1.0"), "malformed version 'v1.0'",
                 id="malformed version v1.0"),
    pytest.param(edit(P, replace_line, r"^version:", "version: 1.0.0.0"), "malformed version '1.0.0.0'",
                 id="malformed version 1.0.0.0"),
    pytest.param(edit(P, replace_line, r"^version:", "version: 1.0"), "version must be quoted",
                 id="unquoted version"),
    pytest.param(edit(P, replace_line, r"^effective:", "effective: 2026-02-30"), "'2026-02-30' is an impossible date",
                 id="impossible date"),
    pytest.param(edit(P, replace_line, r"^effective:", "effective: next monday"), "'next monday' is not a date",
                 id="not a date"),
    pytest.param(edit(P, replace_line, r"^effective:", "effective: 25/11/2026"), "is not a date",
                 id="date in the wrong order"),
    pytest.param(edit(P, replace_line, r"^  contact:", "{prefix}contact: call the office"),
                 "contact must be an email address or an https:// URL", id="contact not email or URL"),

    # links
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this](javascript:alert(1))."'),
                 "link scheme 'javascript:' is not allowed", id="javascript link"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this](JaVaScRiPt:alert(1))."'),
                 "link scheme 'javascript:' is not allowed", id="JaVaScRiPt link"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this](JaVa\\x01ScRiPt:alert(1))."'),
                 "link scheme 'javascript:' is not allowed", id="JaVaScRiPt link with control character"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this]( JaVaScRiPt:alert(1))."'),
                 "link scheme 'javascript:' is not allowed", id="JaVaScRiPt link with leading space"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this](JaVa\\tScRiPt:alert(1))."'),
                 "link scheme 'javascript:' is not allowed", id="JaVaScRiPt link with tab"),
    pytest.param(edit(NESTED, insert_after, BULLET, '{prefix}"See [this](data:text/html,hello)."'),
                 "link scheme 'data:' is not allowed", id="data link in bullet"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [this]()."'),
                 "empty link target", id="empty link target"),
    pytest.param(edit(P, replace_line, r"^summary:", 'summary: "Update\\r\\nBcc: x@evil.example"'),
                 "summary contains a line break; keep it on one line", id="header injection in summary"),
    pytest.param(edit(SECTION, replace_line, r"^title:", 'title: "Two\\nlines"'),
                 "section title contains a line break", id="line break in section title"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"Bell \\a character"'),
                 "paragraph contains control character U+0007", id="control character in paragraph"),
    pytest.param(edit(P, replace_line, r"^summary:", "summary: See [this](javascript:alert(1))."),
                 "summary: link scheme 'javascript:' is not allowed", id="javascript link in policy.yaml"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, '{prefix}"See [below](#no-such-section)."'),
                 "link to '#no-such-section': no section or anchor has that id", id="link to missing anchor"),
    pytest.param(edit(P, insert_after, r"^introduction:", '  - "See [below](#no-such-section)."'),
                 "link to '#no-such-section': no section or anchor has that id", id="link to missing anchor in introduction"),

    # body blocks
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, "{prefix}figure: [a, b]"),
                 "a body block must be a paragraph", id="block with unknown key"),
    pytest.param(edit(SECTION, insert_after, PARAGRAPH, "{prefix}{bullets: [a], numbered: [b]}"),
                 "a body block must be a paragraph", id="block with two keys"),
    pytest.param(edit(SECTION, insert_after, r"^id:", 'numbered: "yes"'),
                 "numbered must be true or false; found 'yes'", id="numbered as text"),
    pytest.param(edit(NESTED, insert_after, SUB_ID, "{prefix}numbered: 1"),
                 "numbered must be true or false", id="numbered as number in subsection"),
]


@pytest.mark.parametrize("mutate, message", MISTAKES)
def test_mistake_is_reported_where_it_is(mutate, message):
    files = dict(BASE_FILES)
    name, line = mutate(files)
    policy, problems = loader.parse_files(files)
    assert policy is None
    path = f"policy/{name}"
    assert any(p.path == path and p.line == line and message in p.message for p in problems), (
        f"expected {path}:{line}: ...{message}..., got:\n" + "\n".join(map(str, problems)))


def test_load_policy_raises_policy_invalid_with_the_problem(tmp_path):
    files = dict(BASE_FILES)
    replace_line(files, P, r"^version:", 'version: "1"')
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    with pytest.raises(PolicyInvalid) as raised:
        loader.load_policy(tmp_path)
    assert [p.message for p in raised.value.problems if p.path == "policy/policy.yaml"] == [
        "malformed version '1'; expected numbers like \"1.0\" or \"2.1.3\""]


def test_several_mistakes_are_all_reported():
    files = dict(BASE_FILES)
    expected = [
        (P, replace_line(files, P, r"^version:", "version: v2"), "malformed version 'v2'"),
        (P, replace_line(files, P, r"^effective:", "effective: 2026-13-01"), "impossible date"),
        (P, insert_after(files, P, r"^summary:", "author: Privacy team"), "unknown field 'author'"),
        (SECTION, insert_after(files, SECTION, r"^title:", "abstract: Short"), "unknown field 'abstract'"),
        (NESTED, insert_after(files, NESTED, BULLET, '{prefix}"  "'), "empty text"),
        (OTHER, insert_after(files, OTHER, PARAGRAPH, '{prefix}"[x](data:,hi)"'), "link scheme 'data:'"),
        (LAST, insert_after(files, LAST, r"^id:", "numbered: 'no'"), "numbered must be true or false"),
    ]
    policy, problems = loader.parse_files(files)
    assert policy is None
    for name, line, message in expected:
        assert any(p.path == f"policy/{name}" and p.line == line and message in p.message for p in problems), (
            f"missing policy/{name}:{line}: {message}; got:\n" + "\n".join(map(str, problems)))


def test_a_mistake_in_a_section_file_is_reported_only_there():
    files = dict(BASE_FILES)
    insert_after(files, SECTION, PARAGRAPH, '{prefix}""')
    policy, problems = loader.parse_files(files)
    assert policy is None and problems
    assert [p for p in problems if p.path != f"policy/{SECTION}"] == []


def test_valid_policy_loads():
    policy, problems = loader.parse_files(BASE_FILES)
    assert problems == []
    assert policy is not None
    assert len(policy.sections) == 5
    assert len(list(policy.walk())) == 14
    assert [s.id for s in policy.sections] == LISTED
    assert len(set(policy.section_ids())) == 14


def test_load_policy_reads_the_repository():
    policy = loader.load_policy(REPO / "policy")
    assert len(policy.sections) == 5


@pytest.mark.parametrize("text", [
    pytest.param("See [our site](https://example.org/privacy).", id="https link"),
    pytest.param("Write to [us](mailto:privacy@example.org).", id="mailto link"),
    pytest.param(f"See [that section](#{FIRST_FILE_ID}).", id="link to a top-level section"),
    pytest.param(f"See [that part](#{SUBSECTION_IDS[-1]}), **this** and *that*.", id="link to a subsection"),
])
def test_good_links_are_accepted(text):
    files = dict(BASE_FILES)
    insert_after(files, SECTION, PARAGRAPH, "{prefix}" + json.dumps(text))
    policy, problems = loader.parse_files(files)
    assert problems == [] and policy is not None
