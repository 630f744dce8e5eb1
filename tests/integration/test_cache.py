"""The parse cache (.cache/history/parsed.json) cannot run code and is never trusted.

Real git repositories in temp dirs and the real CLI: a planted pickle is never unpickled; corrupt, truncated,
foreign and newer-format files are rebuilt with a one-line note; classes outside the codec's allowlist are
never built; what is loaded equals what was computed (tuples stay tuples, shared sections stay shared).
"""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from policy_site import codec
from policy_site.diff.sections import PolicyDiff
from policy_site.history.cache import FILE_NAME, VERSION, ParseCache, code_fingerprint
from policy_site.history.versions import read_history
from policy_site.site.mkdocs.plugin import load_settings
from policy_site.site.model import build_model
from policy_site.source.model import Policy, Section
from tests.support.project import Project, copy_project

NOW = {"SOURCE_DATE_EPOCH": "1798761600"}  # 2027-01-01
S = "sections/protecting-information.yaml"


def add_two_versions(project: Project) -> Project:
    """Versions 1.1 and 1.2 committed after the project's 1.0, each adding a sentence."""
    for version in ("1.1", "1.2"):
        section = project.read(S)
        section["body"].append(f"A sentence of {version}.")
        project.write(S, section)
        project.meta(version=version, summary=f"Version {version}.")
        project.commit(version)
    return project


@pytest.fixture
def three_versions(git_project: Project) -> Project:
    return add_two_versions(git_project)


@pytest.fixture(scope="module")
def three_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """three_versions' project after one `policy build`, once for this module; tests copy it (`built_copy`)."""
    project = copy_project(tmp_path_factory.mktemp("cache") / "project").init_git()
    project.commit("Publish the privacy policy, version 1.0")
    build(add_two_versions(project))
    return project.path


@pytest.fixture
def built_copy(three_built: Path, tmp_path: Path) -> Project:
    """A copy of three_built: three_versions as its first build left it, caches included."""
    shutil.copytree(three_built, tmp_path / "project", symlinks=True)
    return Project(tmp_path / "project")


def cache_file(project: Project) -> Path:
    return project.path / ".cache/history" / FILE_NAME


def build(project: Project) -> str:
    result = project.run("build", check=True, env=NOW)
    return result.stderr


class PlantedPickle:
    """Unpickling this creates a file: the proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_is_never_unpickled(three_versions: Project, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = three_versions.path / ".cache/history"
    folder.mkdir(parents=True)
    payload = pickle.dumps((4, PlantedPickle(marker)))
    (folder / "parsed.pickle").write_bytes(payload)  # where the old cache lived
    (folder / FILE_NAME).write_bytes(payload)
    stderr = build(three_versions)
    assert not marker.exists()
    notes = [line for line in stderr.splitlines() if "parse cache" in line]
    assert len(notes) == 1 and "is unusable" in notes[0] and "rebuilding it" in notes[0], stderr
    assert "Traceback" not in stderr
    assert json.loads(cache_file(three_versions).read_text())["format"] == "policy-site parse cache"


@pytest.mark.parametrize("damage, note", [
    pytest.param(lambda text: text[: len(text) // 2], "is unusable", id="truncated"),
    pytest.param(lambda text: "{not json", "is unusable", id="corrupt"),
    pytest.param(lambda text: json.dumps({"some": "other tool's file"}), "not a policy-site parse cache",
                 id="foreign"),
    pytest.param(lambda text: json.dumps(json.loads(text) | {"version": VERSION + 1}), "is newer than this tool's",
                 id="future format"),
    pytest.param(lambda text: text.replace('"entries":{', '"entries":{"x":[99999999],', 1), "is unusable",
                 id="reference to nothing"),
    pytest.param(lambda text: json.dumps(json.loads(text) | {"objects": [[0, "too", "few"]]}), "is unusable",
                 id="wrong field count"),
])
def test_a_damaged_cache_is_rebuilt_with_a_note(built_copy: Project, damage, note: str) -> None:
    three_versions = built_copy  # built once already
    path = cache_file(three_versions)
    path.write_text(damage(path.read_text()))
    stderr = build(three_versions)
    notes = [line for line in stderr.splitlines() if "parse cache" in line]
    assert len(notes) == 1 and note in notes[0] and "rebuilding it" in notes[0], stderr
    assert "Traceback" not in stderr
    assert build(three_versions).count("parse cache") == 0  # rebuilt: the next build trusts it again


def test_a_cache_from_other_code_or_an_older_format_is_rebuilt_silently(built_copy: Project) -> None:
    three_versions = built_copy  # built once already
    path = cache_file(three_versions)
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data | {"code": "0" * 64}))
    assert "parse cache" not in build(three_versions)
    assert json.loads(path.read_text())["code"] == code_fingerprint()
    path.write_text(json.dumps(data | {"version": VERSION - 1}))
    assert "parse cache" not in build(three_versions)


def test_classes_outside_the_allowlist_are_never_built(three_versions: Project, tmp_path: Path) -> None:
    build(three_versions)
    path = cache_file(three_versions)
    data = json.loads(path.read_text())
    data["classes"] += [["builtins.eval", ["source"]], ["os.system", ["command"]],
                        ["policy_site.settings.Options", ["policy_dir"]]]
    first = len(data["objects"])
    data["objects"] += [[len(data["classes"]) - 3, f"open({str(tmp_path / 'pwned')!r}, 'w')"],
                        [len(data["classes"]) - 2, f"touch {tmp_path / 'pwned2'}"],
                        [len(data["classes"]) - 1, "/etc"]]
    data["entries"].update({"planted": [first, first + 1], "planted-settings": first + 2})
    path.write_text(json.dumps(data))
    cache = ParseCache(path.parent)
    assert "planted" not in cache.entries and "planted-settings" not in cache.entries
    assert [type(v) for v in cache.foreign["planted"]] == [codec.Opaque, codec.Opaque]
    assert cache.foreign["planted-settings"].name == "policy_site.settings.Options"
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    data["classes"][0][1] = data["classes"][0][1][:-1]  # a registered class with other fields: corrupt
    path.write_text(json.dumps(data))
    assert ParseCache(path.parent).entries == {}


def test_loaded_values_equal_computed_ones(three_versions: Project) -> None:
    settings = load_settings(three_versions.path / "mkdocs.yml")
    folder = three_versions.path / ".cache/history"
    history = read_history(settings.policy_dir, cache_dir=folder)
    model = build_model(settings, history)
    history.save_cache()
    computed = dict(history.cache.entries)  # type: ignore[union-attr]
    loaded = ParseCache(folder)
    assert loaded.entries == computed and loaded.foreign == {}
    policies = [v[0] for v in loaded.entries.values() if isinstance(v, tuple)]
    diffs = [v for v in loaded.entries.values() if isinstance(v, PolicyDiff)]
    assert len(policies) == 3 and len(diffs) == 3 and all(isinstance(p, Policy) for p in policies)
    assert all(type(p.sections) is tuple and type(p.introduction) is tuple for p in policies)
    assert all(type(d.changed) is list for d in diffs)
    assert all(type(block) is not list for p in policies for s in p.sections for block in s.body)
    first, second = sorted(policies, key=lambda p: p.version)[:2]
    shared = [a for a, b in zip(first.sections, second.sections) if a == b]
    assert shared and all(a is b for a, b in zip(first.sections, second.sections) if a == b)
    assert {id(d.new) for d in diffs} <= {id(p) for p in policies}  # diffs point at the stored policies
    again = build_model(settings, read_history(settings.policy_dir, cache_dir=folder))
    assert [e.diff for e in again.entries] == [e.diff for e in model.entries]
    assert isinstance(first.sections[0], Section)


def test_check_keeps_the_diffs_it_does_not_read(three_versions: Project) -> None:
    build(three_versions)
    diff_keys = {k for k in json.loads(cache_file(three_versions).read_text())["entries"] if k.startswith("diff:")}
    assert len(diff_keys) == 3
    section = three_versions.read(S)
    section["body"].append("One more sentence.")
    three_versions.write(S, section)
    three_versions.meta(version="1.3")
    three_versions.commit("1.3")
    assert three_versions.run("check").returncode == 0  # parses 1.3 and saves the cache, without diff classes
    entries = json.loads(cache_file(three_versions).read_text())["entries"]
    assert diff_keys <= set(entries)
    assert "parse cache" not in build(three_versions)


@dataclass(frozen=True)
class Unregistered:
    value: int


def test_a_value_of_an_unregistered_class_is_left_out_with_a_note(three_versions: Project, capsys) -> None:
    folder = three_versions.path / ".cache/history"
    history = read_history(three_versions.policy, cache_dir=folder)
    assert history.memo("custom", lambda: Unregistered(1)) == Unregistered(1)
    history.save_cache()
    assert "some values were not cached" in capsys.readouterr().err
    loaded = ParseCache(folder)
    assert "custom" not in loaded.entries and len(loaded.entries) == 3


def _changes(entries: dict) -> list:
    """Every changed section of every diff, in the order of the diffs' keys."""
    return [c for _, v in sorted(entries.items()) if isinstance(v, PolicyDiff) for c in v.changed]


def test_redlines_are_decoded_only_when_read(three_versions: Project) -> None:
    """A warm build reads every diff's changed sections but renders few redlines: those stay JSON until read."""
    settings = load_settings(three_versions.path / "mkdocs.yml")
    folder = three_versions.path / ".cache/history"
    history = read_history(settings.policy_dir, cache_dir=folder)
    build_model(settings, history)
    history.save_cache()
    computed = _changes(history.cache.entries)  # type: ignore[union-attr]
    loaded = _changes(ParseCache(folder).entries)
    assert computed and all("redline" not in c.__dict__ and "redline" in c.__dict__["_pending"] for c in loaded)
    assert [c.id for c in loaded] == [c.id for c in computed]  # the other fields are there
    assert [c.redline for c in loaded] == [c.redline for c in computed]  # decoded when read
    assert all("_pending" not in c.__dict__ and c.redline for c in loaded)
    fresh = _changes(ParseCache(folder).entries)
    assert fresh == computed  # equality reads every field
    copied = pickle.loads(pickle.dumps(_changes(ParseCache(folder).entries)))
    assert copied == computed and all("_pending" not in c.__dict__ for c in copied)


def test_a_damaged_redline_found_when_read_is_one_clean_error(three_versions: Project) -> None:
    build(three_versions)
    path = cache_file(three_versions)
    data = json.loads(path.read_text())
    index = next(i for i, (name, _) in enumerate(data["classes"]) if name.endswith(".SectionChange"))
    position = 1 + data["classes"][index][1].index("redline")
    rows = [row for row in data["objects"] if row[0] == index]
    for row in rows:
        row[position] = {"l": [99_999_999]}  # a reference to nothing, seen only when the redline is read
    path.write_text(json.dumps(data))
    shutil.rmtree(three_versions.path / ".cache/pages")  # every page is written again: the redlines are read
    result = three_versions.run("build", env=NOW)
    assert rows and result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"policy build: error: the parse cache {path} is damaged (reference to an object not defined before); "
        "delete it and run the command again"], result.stderr
    path.unlink()
    assert build(three_versions).count("parse cache") == 0


def test_a_working_tree_a_commit_holds_is_known_from_the_cache(three_versions: Project) -> None:
    """`policy build` validates the working tree with the parse cache at hand: files exactly as a commit holds
    them are not parsed again; anything else is, with the same problems as always."""
    from policy_site.errors import PolicyInvalid
    from policy_site.history.versions import begin_reading
    from policy_site.source import loader
    from policy_site.source.project import load_project
    build(three_versions)
    policy_dir, folder = three_versions.policy, three_versions.path / ".cache/history"
    parsed: list[str] = []
    original = loader.parse_files

    def counting(files, prefix="policy", *args, **kwargs):
        parsed.append(prefix)
        return original(files, prefix, *args, **kwargs)

    def load(reading):
        parsed.clear()
        try:
            return load_project(policy_dir, "policy", reading.known())
        finally:
            reading.close()
    loader.parse_files = counting
    try:
        known = load(begin_reading(policy_dir, cache_dir=folder))
        assert parsed == [] and known == load_project(policy_dir)
        section = three_versions.read(S)
        section["body"].append("Not committed yet.")
        three_versions.write(S, section)
        _, policies = load(begin_reading(policy_dir, cache_dir=folder))
        assert parsed == ["policy"] and "Not committed yet." in str(policies[""])
        (policy_dir / S).write_text("id: [broken\n", encoding="utf-8")
        with pytest.raises(PolicyInvalid) as first:
            load(begin_reading(policy_dir, cache_dir=folder))
        with pytest.raises(PolicyInvalid) as plain:
            load_project(policy_dir)
        assert str(first.value) == str(plain.value)
    finally:
        loader.parse_files = original


def test_check_keeps_diffs_and_translations_and_reads_a_changed_translation_again(three_versions: Project) -> None:
    """`policy check` saves what it parsed: the diffs its translation check needs (their classes known before the
    cache loads) and each translation, keyed by exactly what parsing receives. An edited translation file, or one
    turned into a link with the same words, is parsed again: never a stale verdict."""
    three_versions.run("translate", "de", check=True)
    german = "translations/de/sections/protecting-information.yaml"
    three_versions.commit("German")
    assert three_versions.run("check").returncode == 0
    keys = set(json.loads(cache_file(three_versions).read_text())["entries"])
    assert {k.split(":")[0] for k in keys} >= {"diff", "hash", "translation"}
    path = three_versions.policy / german
    words = path.read_text(encoding="utf-8")
    path.write_text(words + "colour: blue\n", encoding="utf-8")
    result = three_versions.run("check")
    assert result.returncode == 1 and f"policy/{german}:" in result.stderr and "unknown field 'colour'" in result.stderr
    path.write_text(words, encoding="utf-8")
    assert three_versions.run("check").returncode == 0
    (three_versions.path / "elsewhere.yaml").write_text(words, encoding="utf-8")
    path.unlink()
    path.symlink_to(three_versions.path / "elsewhere.yaml")
    result = three_versions.run("check")
    assert result.returncode == 1 and f"policy/{german}" in result.stderr and "Traceback" not in result.stderr
