"""The JSON Schemas in policy/schema/ (used by editors) and the loader (used by the build) agree.

(a) the schemas name the same fields, required fields, block kinds and patterns as the loader;
(b) the repository's policy validates against the schemas and loads;
(c) each bad document in a table is rejected by the schema AND by the loader.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from policy_site.source import loader, model
from policy_site.source.blocks import BLOCK_KINDS, ITEM_FIELDS, TABLE_FIELDS

REPO = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO / "policy"
SCHEMA_DIR = POLICY_DIR / "schema"
POLICY_SCHEMA = json.loads((SCHEMA_DIR / "policy.schema.json").read_text("utf-8"))
SECTION_SCHEMA = json.loads((SCHEMA_DIR / "section.schema.json").read_text("utf-8"))
BASE_FILES = loader.read_policy_files(POLICY_DIR)
SECTION_FILES = sorted(name for name in BASE_FILES if name.startswith("sections/"))
NESTED = "sections/privacy-settlement-terms.yaml"  # a section file with subsections and bullet lists

def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def jsonable(value):
    """YAML data as an editor sees it: dates (which PyYAML makes from 2026-11-25) as ISO strings."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def document(name: str):
    return jsonable(yaml.safe_load(BASE_FILES[name].decode("utf-8")))


def resolve(schema: dict, node: dict) -> dict:
    """Follow local '#/$defs/...' references (and '#') to the schema they name."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#"), f"only local references are expected, found {ref}"
        node = schema
        for part in filter(None, ref[1:].split("/")):
            node = node[part]
    return node


def fields_of(schema: dict, node: dict) -> dict[str, bool]:
    """Property names of an object schema, each with whether it is required."""
    node = resolve(schema, node)
    assert node["type"] == "object" and node["additionalProperties"] is False
    return {name: name in node.get("required", []) for name in node["properties"]}


# --- (a) same fields, same rules ------------------------------------------------------------------

def test_schemas_are_valid_draft_2020_12():
    for schema in (POLICY_SCHEMA, SECTION_SCHEMA):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_policy_fields_match_loader():
    assert fields_of(POLICY_SCHEMA, POLICY_SCHEMA) == loader.POLICY_FIELDS


def test_organisation_fields_match_loader():
    organisation = POLICY_SCHEMA["properties"]["organisation"]
    assert fields_of(POLICY_SCHEMA, organisation) == loader.ORGANISATION_FIELDS


def test_section_fields_match_loader():
    assert fields_of(SECTION_SCHEMA, SECTION_SCHEMA) == loader.SECTION_FIELDS


def test_block_kinds_match_loader():
    alternatives = [resolve(SECTION_SCHEMA, alt) for alt in SECTION_SCHEMA["$defs"]["block"]["oneOf"]]
    paragraphs = [alt for alt in alternatives if alt.get("type") == "string"]
    mappings = [alt for alt in alternatives if alt.get("type") == "object"]
    assert len(paragraphs) == 1 and len(paragraphs) + len(mappings) == len(alternatives)
    kinds = []
    for alt in mappings:
        assert alt["additionalProperties"] is False
        assert set(alt["properties"]) - {"anchor"} == set(alt["required"]), "one key, and an optional anchor"
        assert len(alt["required"]) == 1
        kinds += alt["required"]
    assert sorted(kinds) == sorted((*BLOCK_KINDS, "section"))
    inner = [resolve(SECTION_SCHEMA, alt) for alt in SECTION_SCHEMA["$defs"]["text-block"]["oneOf"]]
    assert sorted(k for alt in inner if alt.get("type") == "object" for k in alt["required"]) == \
        sorted(BLOCK_KINDS), "a list item's blocks: everything but subsections"


def test_table_and_list_item_fields_match_the_loader():
    table = resolve(SECTION_SCHEMA, SECTION_SCHEMA["$defs"]["table"])["properties"]["table"]
    assert fields_of(SECTION_SCHEMA, table) == TABLE_FIELDS
    item = SECTION_SCHEMA["$defs"]["items"]["items"]["oneOf"][1]
    assert fields_of(SECTION_SCHEMA, item) == ITEM_FIELDS
    cell = SECTION_SCHEMA["$defs"]["cell"]["oneOf"][1]
    assert fields_of(SECTION_SCHEMA, cell) == ITEM_FIELDS


def test_subsections_are_whole_sections():
    subsection = resolve(SECTION_SCHEMA, SECTION_SCHEMA["$defs"]["subsection"])
    assert subsection["properties"]["section"]["$ref"] == "#"


def test_patterns_match_loader():
    for schema in (POLICY_SCHEMA, SECTION_SCHEMA):
        assert schema["$defs"]["id"]["pattern"] == model.ID_PATTERN.pattern
    assert SECTION_SCHEMA["$defs"]["anchor"]["pattern"] == model.ANCHOR_PATTERN.pattern
    assert POLICY_SCHEMA["properties"]["version"]["pattern"] == model.VERSION_PATTERN.pattern
    assert POLICY_SCHEMA["properties"]["effective"]["format"] == "date"


def test_shared_definitions_are_identical_in_both_schemas():
    for name in ("text", "id"):
        shared = {k: v for k, v in POLICY_SCHEMA["$defs"][name].items() if k != "description"}
        assert shared == {k: v for k, v in SECTION_SCHEMA["$defs"][name].items() if k != "description"}


def test_policy_files_point_editors_at_the_schemas():
    for name in ["policy.yaml", *SECTION_FILES]:
        first = BASE_FILES[name].decode("utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{name}: first line should be the yaml-language-server $schema comment"
        target = (POLICY_DIR / name).parent / match.group(1)
        expected = "policy.schema.json" if name == "policy.yaml" else "section.schema.json"
        assert target.resolve() == (SCHEMA_DIR / expected).resolve()


# --- (b) the real policy passes both --------------------------------------------------------------

def test_real_policy_validates_against_schema():
    errors = list(validator(POLICY_SCHEMA).iter_errors(document("policy.yaml")))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("name", SECTION_FILES)
def test_real_section_validates_against_schema(name):
    errors = list(validator(SECTION_SCHEMA).iter_errors(document(name)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_real_policy_loads():
    policy, problems = loader.parse_files(BASE_FILES)
    assert problems == []
    assert policy is not None


# --- (c) bad documents: rejected by both ----------------------------------------------------------

def first_subsection(doc: dict) -> dict:
    return next(block["section"] for block in doc["body"] if isinstance(block, dict) and "section" in block)


def first_list(doc: dict) -> list:
    for block in first_subsection(doc)["body"]:
        if isinstance(block, dict) and "bullets" in block:
            return block["bullets"]
    raise AssertionError("no bullet list in the first subsection")


def sets(key, value):
    return lambda doc: doc.__setitem__(key, value)


def drops(key):
    return lambda doc: doc.pop(key)


def set_org(key, value):
    return lambda doc: doc["organisation"].__setitem__(key, value)


BAD_POLICIES = [
    pytest.param(sets("author", "Privacy team"), id="unknown field"),
    pytest.param(set_org("phone", "+1 555 0100"), id="unknown field in organisation"),
    pytest.param(drops("summary"), id="missing summary"),
    pytest.param(lambda doc: doc["organisation"].pop("contact"), id="missing organisation contact"),
    pytest.param(sets("introduction", "One paragraph, not a list."), id="text where list expected"),
    pytest.param(sets("title", ["Privacy", "policy"]), id="list where text expected"),
    pytest.param(sets("title", {"en": "Privacy policy"}), id="mapping where text expected"),
    pytest.param(sets("organisation", "SynergyCabinet"), id="text where mapping expected"),
    pytest.param(sets("title", ""), id="empty title"),
    pytest.param(sets("summary", "   "), id="whitespace-only summary"),
    pytest.param(sets("introduction", [""]), id="empty paragraph"),
    pytest.param(sets("introduction", []), id="empty introduction"),
    pytest.param(sets("sections", []), id="empty sections"),
    pytest.param(lambda doc: doc["sections"].append("Data_Sharing"), id="bad id"),
    pytest.param(lambda doc: doc["sections"].append(doc["sections"][0]), id="section listed twice"),
    pytest.param(sets("version", "1"), id="malformed version 1"),
    pytest.param(sets("version", "v1.0"), id="malformed version v1.0"),
    pytest.param(sets("version", "1.0.0.0"), id="malformed version 1.0.0.0"),
    pytest.param(sets("version", 1.0), id="unquoted version"),
    pytest.param(sets("version", "01.0"), id="version with a leading zero"),
    pytest.param(sets("version", "1.01"), id="version with a leading zero in its second number"),
    pytest.param(sets("version", "1.1234567890"), id="version number of ten digits"),
    pytest.param(sets("effective", "2026-02-30"), id="impossible date"),
    pytest.param(sets("effective", "next monday"), id="not a date"),
    pytest.param(set_org("contact", "call the office"), id="contact not email or URL"),
    pytest.param(lambda doc: doc["introduction"].append("[Click](javascript:alert(1))"), id="javascript link"),
    pytest.param(lambda doc: doc["introduction"].append("[Click](DaTa:text/html,hi)"), id="data link"),
    pytest.param(lambda doc: doc["introduction"].append("[Click]()"), id="empty link"),
]

BAD_SECTIONS = [
    pytest.param(sets("abstract", "Short version"), id="unknown field"),
    pytest.param(lambda doc: first_subsection(doc).__setitem__("abstract", "x"), id="unknown field in subsection"),
    pytest.param(drops("body"), id="missing body"),
    pytest.param(lambda doc: first_subsection(doc).pop("title"), id="missing subsection title"),
    pytest.param(sets("body", "One paragraph, not a list."), id="text where list expected"),
    pytest.param(sets("title", {"en": "Title"}), id="mapping where text expected"),
    pytest.param(lambda doc: first_subsection(doc)["body"].append({"bullets": "not a list"}),
                 id="bullets as text"),
    pytest.param(sets("id", "Protecting_Information"), id="bad id"),
    pytest.param(sets("id", "data--sharing"), id="bad id double hyphen"),
    pytest.param(lambda doc: first_subsection(doc).__setitem__("id", "cookies!"), id="bad subsection id"),
    pytest.param(lambda doc: doc["body"].append(""), id="empty paragraph"),
    pytest.param(lambda doc: doc["body"].append(" \t "), id="whitespace-only paragraph"),
    pytest.param(lambda doc: first_list(doc).append(""), id="empty list item"),
    pytest.param(sets("body", []), id="empty body"),
    pytest.param(lambda doc: doc["body"].append({"bullets": []}), id="empty bullets"),
    pytest.param(lambda doc: doc["body"].append({"numbered": []}), id="empty numbered list"),
    pytest.param(sets("numbered", "yes"), id="numbered as text"),
    pytest.param(lambda doc: doc["body"].append({"table": ["a"]}), id="block with unknown key"),
    pytest.param(lambda doc: doc["body"].append({"bullets": ["a"], "numbered": ["b"]}), id="block with two keys"),
    pytest.param(lambda doc: doc["body"].append(["a", "b"]), id="block as a bare list"),
    pytest.param(lambda doc: doc["body"].append("[Click](JaVaScRiPt:alert(1))"), id="javascript link"),
]


def loader_problems(name: str, doc: dict) -> tuple[object, list]:
    files = dict(BASE_FILES)
    files[name] = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
    return loader.parse_files(files)


def check_rejected_by_both(schema: dict, name: str, mutate) -> None:
    doc = copy.deepcopy(document(name))
    mutate(doc)
    assert not validator(schema).is_valid(doc), "the schema accepts the bad document"
    policy, problems = loader_problems(name, doc)
    assert policy is None, "the loader accepts the bad document"
    assert any(p.path == f"policy/{name}" for p in problems), problems


@pytest.mark.parametrize("mutate", BAD_POLICIES)
def test_bad_policy_rejected_by_schema_and_loader(mutate):
    check_rejected_by_both(POLICY_SCHEMA, "policy.yaml", mutate)


@pytest.mark.parametrize("mutate", BAD_SECTIONS)
def test_bad_section_rejected_by_schema_and_loader(mutate):
    check_rejected_by_both(SECTION_SCHEMA, NESTED, mutate)


GOOD_TEXTS = [
    pytest.param("See [our site](https://example.org/privacy).", id="https link"),
    pytest.param("Write to [us](mailto:privacy@example.org).", id="mailto link"),
    pytest.param("See [cookies](#cookies) and **this** and *that*.", id="anchor link and emphasis"),
    pytest.param("Ratio (1:2) and [brackets] are fine.", id="brackets without a link"),
]


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_good_text_accepted_by_schema_and_loader(text):
    doc = copy.deepcopy(document(NESTED))
    doc["body"].append(text)
    assert validator(SECTION_SCHEMA).is_valid(doc)
    policy, problems = loader_problems(NESTED, doc)
    assert problems == [] and policy is not None
