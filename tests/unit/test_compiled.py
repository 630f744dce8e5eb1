"""Compiled templates kept in the user's cache folder (site/compiled.py), and the theme's static files listed
without walking its hidden folders (site/mkdocs/theme.py): the same results as without them."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic
from mkdocs.structure.files import Files

from policy_site.site.compiled import DiskBytecode, precompile, prune, user_folder
from policy_site.site.mkdocs.plugin import load_mkdocs_config
from policy_site.site.mkdocs.theme import list_theme_files
from tests.support.project import ROOT

TEMPLATE = "<h1>{{ title }}</h1>\n{% for item in items %}<p>{{ item.missing.attribute }}</p>{% endfor %}\n"


def environment(folder: Path, cache: Path, autoescape: bool = True) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=autoescape,
                              undefined=jinja2.StrictUndefined, bytecode_cache=DiskBytecode(cache))


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.jinja"))


def test_projects_share_the_compiled_template_and_each_keeps_its_own_file_name(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "page.html").write_text(TEMPLATE)
    first = environment(tmp_path / "one", cache).get_template("page.html")
    assert len(entries(cache)) == 1
    second = environment(tmp_path / "two", cache).get_template("page.html")
    assert len(entries(cache)) == 1  # the same source compiles once for every project
    assert second.filename == str(tmp_path / "two" / "page.html")
    assert first.render(title="<b>", items=[]) == second.render(title="<b>", items=[]) == "<h1>&lt;b&gt;</h1>\n"
    with pytest.raises(jinja2.UndefinedError) as failure:  # a template's error names its own file and line
        second.render(title="x", items=[{}])
    frames = [f for f in traceback.extract_tb(failure.value.__traceback__) if f.filename.endswith("page.html")]
    assert frames and frames[-1].filename == str(tmp_path / "two" / "page.html") and frames[-1].lineno == 2


def test_other_options_or_source_are_other_entries_and_a_damaged_one_is_compiled_again(tmp_path: Path) -> None:
    cache, folder = tmp_path / "cache", tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(TEMPLATE)
    escaped = environment(folder, cache).get_template("page.html")
    plain = environment(folder, cache, autoescape=False).get_template("page.html")
    assert len(entries(cache)) == 2
    assert escaped.render(title="<b>", items=[]) != plain.render(title="<b>", items=[]) == "<h1><b></h1>\n"
    (folder / "page.html").write_text("<h2>{{ title }}</h2>")
    assert environment(folder, cache).get_template("page.html").render(title="t") == "<h2>t</h2>"
    assert len(entries(cache)) == 3
    for number, entry in enumerate(entries(cache)):  # a foreign file, and entries cut short after their header
        entry.write_bytes(b"damaged" if number == 0 else entry.read_bytes()[:len(bc_magic) + number * 5])
    damaged = {e: e.read_bytes() for e in entries(cache)}
    assert environment(folder, cache).get_template("page.html").render(title="t") == "<h2>t</h2>"
    (folder / "page.html").write_text(TEMPLATE)
    assert environment(folder, cache).get_template("page.html").render(title="t", items=[]) == "<h1>t</h1>\n"
    assert environment(folder, cache, autoescape=False).get_template("page.html").render(title="t", items=[]) \
        == "<h1>t</h1>\n"
    assert entries(cache) == sorted(damaged)
    assert all(e.read_bytes() != damaged[e] for e in entries(cache))  # each written again


def test_a_folder_that_cannot_be_written_only_costs_the_compiling(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(TEMPLATE)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env = environment(folder, blocked / "cache")
    assert env.get_template("page.html").render(title="t", items=[]) == "<h1>t</h1>\n"


def test_the_users_folder_is_private_or_not_used(tmp_path: Path) -> None:
    user_folder.cache_clear()
    found = user_folder(str(tmp_path / "xdg"), "/nonexistent")
    assert found == tmp_path / "xdg" / "policy-site" / "templates"
    assert found.stat().st_mode & 0o777 == 0o700
    assert user_folder("relative/path", str(tmp_path / "home")) == tmp_path / "home" / ".cache/policy-site/templates"
    shared = tmp_path / "shared"
    (shared / "policy-site" / "templates").mkdir(parents=True)
    os.chmod(shared / "policy-site" / "templates", 0o777)  # anyone may write code here: never read
    assert user_folder(str(shared), None) is None
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    assert user_folder(str(blocked), None) is None
    user_folder.cache_clear()


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    now = time.time()
    for number in range(10):
        entry = tmp_path / f"{number}.jinja"
        entry.write_bytes(b"")
        os.utime(entry, (now - 100 + number, now - 100 + number))
    prune(tmp_path, keep=8)
    assert sorted(p.stem for p in entries(tmp_path)) == ["6", "7", "8", "9"]
    prune(tmp_path, keep=8)
    assert len(entries(tmp_path)) == 4


def test_the_theme_lists_the_static_files_mkdocs_would_find(tmp_path: Path) -> None:
    config = load_mkdocs_config(ROOT / "mkdocs.yml", site_dir=str(tmp_path / "site"))
    theme = config.theme
    (tmp_path / "theme").mkdir()  # a theme folder of our own, with hidden files and folders at every depth
    for name in (".hidden.css", "a/.b/c.js", "a/b/.c.js", "a/b/d.js", "a/x.html", ".icons/y.svg", "img/logo.png"):
        (tmp_path / "theme" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "theme" / name).write_text(name)
    theme.dirs.insert(0, str(tmp_path / "theme"))
    expected = Files([])
    expected.add_files_from_theme(theme.get_env(), config)
    list_theme_files(theme)
    list_theme_files(theme)  # once is enough
    env = theme.get_env()
    found = Files([])
    found.add_files_from_theme(env, config)
    assert [(f.src_uri, f.abs_src_path) for f in found] == [(f.src_uri, f.abs_src_path) for f in expected]
    assert {"a/b/d.js", "img/logo.png"} <= {f.src_uri for f in found}
    assert ".icons/y.svg" in env.list_templates()  # any other caller: Jinja's own listing


def test_precompiling_follows_what_a_template_names_and_stops_when_it_is_done(tmp_path: Path) -> None:
    folder, cache = tmp_path / "templates", tmp_path / "cache"
    (folder / "partials").mkdir(parents=True)
    (folder / "main.html").write_text('{% extends "base.html" %}{% block body %}main{% endblock %}')
    (folder / "base.html").write_text('{% include "partials/header.html" %}{% block body %}{% endblock %}'
                                      '{% include "partials/" ~ kind ~ ".html" ignore missing %}')
    (folder / "partials/header.html").write_text("<header>{{ title }}</header>")
    (folder / "partials/unused.html").write_text("never named")
    (folder / "broken.html").write_text("{% if %}")
    env = environment(folder, cache)
    assert precompile(env, ["main.html", "broken.html", "missing.html"]) == 3  # main, base, header
    assert len(entries(cache)) == 3
    assert precompile(environment(folder, cache), ["main.html"]) == 0
    fresh = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
    assert environment(folder, cache).get_template("main.html").render(title="<t>", kind="x") == \
        fresh.get_template("main.html").render(title="<t>", kind="x") == "<header>&lt;t&gt;</header>main"
