"""content_hash writes each section's canonical JSON once (Section.canonical) and joins the parts: the bytes are
exactly canonical_bytes(policy_to_data(policy)), the published hashes' definition, for a realistic history (40
sections, nested lists, tables with lists in cells, anchors, every kind of change) and for hostile text."""

from __future__ import annotations

import hashlib

from policy_site.bench.realistic import RealisticHistory, policy_files
from policy_site.source.loader import parse_files
from policy_site.source.model import canonical_bytes, content_hash, policy_bytes, policy_to_data

HOSTILE = ["</script><script>alert(1)</script>", "\"quoted\" \\ back \\u0041", "😀 emoji \U0001f600 e\u0301",
           "ключ שלום 中文", "&amp; <b>{{ x }}</b>", "'single' `tick` *star*", "{\"k\": [1, 2]}", "\t tab"]


def _policies(versions: list[dict]) -> list:
    memo: dict = {}
    found = []
    for data in versions:
        policy, problems = parse_files(policy_files(data), "policy", memo)
        assert policy is not None, problems
        found.append(policy)
    return found


def _accepted(data: dict) -> object | None:
    policy, _ = parse_files(policy_files(data), "policy", {})
    return policy


def test_the_parts_make_the_same_bytes_as_the_whole_for_a_realistic_history() -> None:
    history = RealisticHistory(count=12)
    for policy in _policies(history.versions):
        assert policy_bytes(policy) == canonical_bytes(policy_to_data(policy))
        assert content_hash(policy) == hashlib.sha256(canonical_bytes(policy_to_data(policy))).hexdigest()


def test_the_parts_make_the_same_bytes_with_hostile_text_in_every_field() -> None:
    base = RealisticHistory(count=1).versions[0]
    checked = 0
    for text in HOSTILE:
        data = {**base, "title": text, "summary": text, "introduction": [text],
                "organisation": {"name": text, "contact": "privacy@example.org"}}
        data["sections"] = [{**base["sections"][0], "title": text, "body": [text]}, *base["sections"][1:]]
        policy = _accepted(data)
        if policy is not None:  # (a tab is refused in a title: nothing to hash)
            assert policy_bytes(policy) == canonical_bytes(policy_to_data(policy))  # type: ignore[arg-type]
            checked += 1
    assert checked >= len(HOSTILE) - 1
