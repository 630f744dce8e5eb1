"""YAML that is not plain data, invisible characters, and syntax errors in an editor's words.

Every case writes a real broken file into a copy of the project (policy/ in a temp dir) and loads it the way
`policy check` does; a few run the real CLI. Problems must stand at the file, line and column of the mistake.
"""

from __future__ import annotations

import pytest

from policy_site.errors import PolicyInvalid, Problem
from policy_site.source import loader
from tests.support.project import Project

S = "sections/protecting-information.yaml"   # id (2), title (3), body: (4), four paragraphs (5-8)
N = "sections/privacy-settlement-terms.yaml"  # nested; line 13 is a bullet of its first subsection


def replace_line(project: Project, name: str, number: int, text: str) -> None:
    lines = (project.policy / name).read_text(encoding="utf-8").split("\n")
    lines[number - 1:number] = text.split("\n")
    (project.policy / name).write_text("\n".join(lines), encoding="utf-8")


def line_of(project: Project, name: str, number: int) -> str:
    return (project.policy / name).read_text(encoding="utf-8").split("\n")[number - 1]


def problems_of(project: Project) -> list[Problem]:
    with pytest.raises(PolicyInvalid) as raised:
        loader.load_policy(project.policy)
    return raised.value.problems


def only_problem(project: Project, name: str) -> Problem:
    found = [p for p in problems_of(project) if p.path == f"policy/{name}"]
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# --- anchors, aliases, merge keys and tags are refused before anything is expanded ------------------------

def alias_bomb() -> str:
    """About 1.5 KB of nested aliases that would expand to 9**26 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 27)]
    return "\n".join(lines)


def test_alias_bomb_is_refused_at_its_first_anchor_with_one_line(project: Project) -> None:
    bomb = alias_bomb()
    assert 1400 <= len(bomb) <= 1700
    project.write_text(S, f"id: protecting-information\ntitle: Bomb\n{bomb}\nbody: *a26\n")
    problem = only_problem(project, S)
    assert (problem.line, problem.column) == (3, 5)  # at the first anchor: refused before any alias is expanded
    assert problem.message.startswith("'&a0' is a YAML anchor, and policy files use no anchors, aliases")
    result = project.run("check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr) < 1000, result.stderr  # one problem, not megabytes
    assert "policy/sections/protecting-information.yaml:3:5: '&a0' is a YAML anchor" in result.stderr


@pytest.mark.parametrize("name, number, text, column, message", [
    pytest.param(S, 4, "body: &b [*b]", 7, "'&b' is a YAML anchor", id="recursive alias"),
    pytest.param(S, 5, "  - &copy 2026 SynergyCabinet", 5, "'&copy' is a YAML anchor", id="text starting with &"),
    pytest.param(S, 5, "  - *Important you read this", 5, "'*Important' is a YAML alias", id="text starting with *"),
    pytest.param(S, 5, "  - *Important* read this", 5, "text starting with '*' needs quotes", id="emphasis at start"),
    pytest.param(S, 3, "title: !important Protection", 8, "'!important' is a YAML tag", id="tag"),
    pytest.param(S, 3, "title: !!str Protection", 8, "'!!str' is a YAML tag", id="standard tag"),
    pytest.param("policy.yaml", 7, "organisation:\n  <<: {name: X}", 3, "'<<' is a YAML merge key", id="merge key"),
])
def test_anchors_aliases_merge_keys_and_tags_are_refused(project: Project, name, number, text, column, message):
    replace_line(project, name, number, text)
    problem = only_problem(project, name)
    assert (problem.line, problem.column) == (number + text.count("\n"), column), problem
    assert message in problem.message
    assert "double quotes" in problem.message or "full" in problem.message


def test_a_second_document_and_deep_nesting_are_refused(project: Project) -> None:
    (project.policy / S).write_text((project.policy / S).read_text() + "---\nid: other\n")
    assert "holds one YAML document" in only_problem(project, S).message
    replace_line(project, N, 13, "            - " + "[" * 60 + "]" * 60)
    assert "nested more than 50 levels deep" in only_problem(project, N).message


def test_messages_never_show_more_than_the_offending_line(project: Project) -> None:
    secret = ["root:x:0:0:root:/root:/bin/bash", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
              "secret-second-line"]
    project.write_text(S, "\n".join(secret) + "\n")
    result = project.run("check")
    assert result.returncode == 1
    assert "daemon" not in result.stderr and "secret-second-line" not in result.stderr
    assert "root:x:0:0:root:/root:/bin/bash" not in result.stderr.replace("…", "")  # shortened


# --- invisible and bidirectional characters ---------------------------------------------------------------

REFUSED = [("\u202a", "LEFT-TO-RIGHT EMBEDDING"), ("\u202b", "RIGHT-TO-LEFT EMBEDDING"),
           ("\u202c", "POP DIRECTIONAL FORMATTING"), ("\u202d", "LEFT-TO-RIGHT OVERRIDE"),
           ("\u202e", "RIGHT-TO-LEFT OVERRIDE"), ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
           ("\u2067", "RIGHT-TO-LEFT ISOLATE"), ("\u2068", "FIRST STRONG ISOLATE"),
           ("\u2069", "POP DIRECTIONAL ISOLATE"), ("\u200b", "ZERO WIDTH SPACE"),
           ("\u200c", "ZERO WIDTH NON-JOINER"), ("\u200d", "ZERO WIDTH JOINER"), ("\u2060", "WORD JOINER"),
           ("\ufeff", "ZERO WIDTH NO-BREAK SPACE")]


@pytest.mark.parametrize("char, name", [pytest.param(c, n, id=f"U+{ord(c):04X}") for c, n in REFUSED])
def test_invisible_character_is_refused_at_its_column(project: Project, char: str, name: str) -> None:
    replace_line(project, S, 5, "  - We " + char + "have installed some security protection system.")
    problem = only_problem(project, S)
    assert (problem.line, problem.column) == (5, 8)  # the character itself, not the start of the text
    assert f"U+{ord(char):04X} {name}" in problem.message and "delete it" in problem.message


@pytest.mark.parametrize("escape", ["\\u202E", "\\U0000202e", "\\u200B"])
def test_invisible_character_written_as_an_escape_is_refused(project: Project, escape: str) -> None:
    replace_line(project, S, 5, f'  - "We have {escape}installed some security protection system."')
    problem = only_problem(project, S)
    assert (problem.line, problem.column) == (5, 14)  # the backslash of the escape
    assert "invisible character U+20" in problem.message


@pytest.mark.parametrize("where, text", [
    pytest.param("in a title", "title: Protecting information \u202e"),
    pytest.param("in a comment", "title: Protecting information  # \u2066 note"),
    pytest.param("in a key", "ti\u200btle: Protecting information"),
])
def test_invisible_characters_are_refused_anywhere_in_the_file(project: Project, where: str, text: str) -> None:
    replace_line(project, S, 3, text)
    problems = [p for p in problems_of(project) if "invisible character" in p.message]
    assert problems and problems[0].line == 3, where


@pytest.mark.parametrize("text", [
    pytest.param("Our team \U0001F469\u200d\U0001F4BB and \u2764\ufe0f\u200d\U0001F525 emoji.", id="ZWJ in emoji"),
    pytest.param("Devanagari \u0915\u094d\u200d\u0937 conjunct.", id="ZWJ in Devanagari"),
    pytest.param("Persian \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 word.", id="ZWNJ in Persian"),
])
def test_joiners_between_letters_or_emoji_are_text(project: Project, text: str) -> None:
    replace_line(project, S, 5, f"  - {text}")
    policy = loader.load_policy(project.policy)
    assert text in policy.sections[1].body[0].text  # type: ignore[union-attr]


def test_a_leading_byte_order_mark_is_fine(project: Project) -> None:
    path = project.policy / S
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    loader.load_policy(project.policy)
    replace_line(project, S, 3, "title: How does\u202e it work?")  # columns do not count the mark
    assert (only_problem(project, S).line, only_problem(project, S).column) == (3, 16)


def test_messages_that_quote_a_value_show_invisible_characters_as_code_points(project: Project) -> None:
    replace_line(project, S, 2, "id: protecting\u202e-information")
    messages = [p.message for p in problems_of(project)]
    assert "section id 'protecting<U+202E>-information' must be lowercase" in " ".join(messages), messages
    assert not any("\u202e" in m for m in messages)


def test_check_names_the_character_with_file_line_column(project: Project) -> None:
    replace_line(project, S, 3, "title: Protecting \u202einformation")
    result = project.run("check")
    assert result.returncode == 1
    assert ("policy/sections/protecting-information.yaml:3:19: invisible character U+202E RIGHT-TO-LEFT OVERRIDE"
            in result.stderr), result.stderr


# --- syntax errors in an editor's words ---------------------------------------------------------------------

def with_line(name: str, number: int, make):
    """A case: line `number` of file `name` replaced by make(old line)."""
    return lambda project: replace_line(project, name, number, make(line_of(project, name, number)))


def appended(name: str, text: str):
    return lambda project: (project.policy / name).write_text((project.policy / name).read_text() + text)


SYNTAX = [
    # (mistake, line, column, advice, PyYAML's words)
    pytest.param(with_line(S, 3, lambda _: "title: How SynergyCabinet protects: information"), 3, 35,
                 "a colon followed by a space inside text needs quotes: put the whole text in double quotes",
                 "mapping values are not allowed", id="colon in text"),
    pytest.param(with_line(S, 5, lambda old: "\t" + old[2:]), 5, 1,
                 "tabs are not allowed for indentation; use spaces", "cannot start any token", id="tab before item"),
    pytest.param(with_line(S, 3, lambda old: "\t" + old), 3, 1,
                 "tabs are not allowed for indentation; use spaces", "tab character", id="tab before key"),
    pytest.param(with_line(S, 3, lambda _: "title How does SynergyCabinet protect information?"), 3, 1,
                 "this line has no colon after its field name", "could not find expected ':'", id="missing colon"),
    pytest.param(with_line(S, 4, lambda _: "  body:"), 4, 7,
                 "this line is indented more than the one before", "mapping values are not allowed",
                 id="field indented too far"),
    pytest.param(with_line(N, 14, lambda old: old[1:]), 14, 12,
                 "this list item is indented differently from the items before it", "did not find expected key",
                 id="list item indented too little"),
    pytest.param(with_line(S, 8, lambda old: old + "\n- A stray item."), 9, 1,
                 "this list item is indented differently from the items before it", "did not find expected key",
                 id="stray list item"),
    pytest.param(with_line(S, 3, lambda _: "  title: How?"), 3, 8,
                 "this line is indented more than the one before", "mapping values are not allowed",
                 id="key indented too far"),
    pytest.param(with_line(N, 9, lambda old: old[2:]), 10, 7,  # YAML reads line 9 as a field of the item
                 "this line is indented differently from the one before", "did not find expected key",
                 id="key indented too little"),
    pytest.param(with_line(S, 3, lambda _: 'title: "How does SynergyCabinet protect information?'), 3, 8,
                 'this text opens with " but never closes it', "found unexpected end of stream", id="unclosed quote"),
    pytest.param(with_line(S, 3, lambda _: "title: 'SynergyCabinet's protection'"), 3, 24,
                 "there is more text after a closing quote", "did not find expected key", id="quote inside quotes"),
    pytest.param(with_line(S, 3, lambda _: 'title: "Files in C:\\data"'), 3, 20,
                 "in double quotes a backslash starts an escape", "unknown escape character", id="backslash"),
    pytest.param(with_line(S, 3, lambda _: "title: [Draft protection"), 3, 8,
                 "this '[' starts a list that is never closed", "did not find expected ',' or ']'",
                 id="unclosed bracket"),
    pytest.param(with_line(S, 3, lambda _: "title: [Draft] protection"), 3, 16,
                 "text starting with '[' needs quotes", "did not find expected key", id="text after brackets"),
    pytest.param(with_line(S, 3, lambda _: "title: @SynergyCabinet protects"), 3, 8,
                 "'@' cannot start text in YAML: put the whole text in double quotes", "cannot start any token",
                 id="at sign"),
    pytest.param(with_line(S, 3, lambda _: "title: | How does it work"), 3, 10,
                 "after '|' or '>' the text starts on the next line", "block scalar", id="text after pipe"),
    pytest.param(with_line(S, 3, lambda _: "title: - Protection"), 3, 8,
                 "'- ' starts a list item here", "block sequence entries are not allowed", id="dash in value"),
    pytest.param(appended(S, "---\nid: other\n"), 9, 1, "holds one YAML document", "", id="second document"),
]


@pytest.mark.parametrize("mistake, line, column, advice, original", SYNTAX)
def test_syntax_error_in_an_editors_words(project: Project, mistake, line, column, advice, original) -> None:
    mistake(project)
    problems = problems_of(project)
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert advice in problem.message, problem.message
    if original:
        assert problem.message.endswith(")") and "(PyYAML: " in problem.message
        assert original in problem.message.split("(PyYAML: ", 1)[1]


def test_syntax_error_from_the_command_line(git_project: Project) -> None:
    replace_line(git_project, S, 3, "title: How SynergyCabinet protects: information")
    result = git_project.run("check")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "policy check: error: policy/sections/protecting-information.yaml:3:35: YAML syntax error: a colon followed "
        "by a space inside text needs quotes: put the whole text in double quotes "
        "(PyYAML: mapping values are not allowed in this context)")
