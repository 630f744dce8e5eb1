"""The theme's Jinja environment for MkDocs, listing its static files without walking its hidden folders.

MkDocs finds a theme's static files (`Files.add_files_from_theme`) by listing every file of every theme folder and
then dropping, among others, every path with a part that starts with a dot. Material keeps ~14,000 icons in
`.icons/`, so that listing walks them all and matches each against a dozen patterns on every build (~0.06 s,
most of a one-version build's MkDocs overhead). `list_theme_files` gives MkDocs the same list without entering
hidden folders: for MkDocs' own filter (recognised by its name) the result is identical, for any other caller the
listing is Jinja's own. Imports MkDocs' theme only through the object it is given: a helper of plugin.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jinja2

MKDOCS_FILTER = "Files.add_files_from_theme.<locals>.filter"  # MkDocs 1.5–1.6: drops every hidden path


def _visible_templates(loader: jinja2.FileSystemLoader) -> list[str]:
    """FileSystemLoader.list_templates, minus every path with a part that starts with a dot."""
    found = set()
    for searchpath in loader.searchpath:
        for folder, dirs, files in os.walk(searchpath, followlinks=loader.followlinks):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if not name.startswith("."):  # the path as Jinja's FileSystemLoader.list_templates makes it
                    path = os.path.join(folder, name)[len(searchpath):].strip(os.path.sep).replace(os.path.sep, "/")
                    found.add(path[2:] if path[:2] == "./" else path)
    return sorted(found)


def _listing(env: jinja2.Environment) -> Callable[..., list[str]]:
    everything = env.list_templates

    def list_templates(extensions: Any = None, filter_func: Callable[[str], bool] | None = None) -> list[str]:
        loader = env.loader
        if (extensions is None and filter_func is not None and type(loader) is jinja2.FileSystemLoader
                and getattr(filter_func, "__qualname__", "") == MKDOCS_FILTER):
            return [name for name in _visible_templates(loader) if filter_func(name)]
        return everything(extensions, filter_func)
    return list_templates


def list_theme_files(theme: Any) -> None:
    """Make theme.get_env() (called by MkDocs' build) return environments that list static files cheaply."""
    if getattr(theme.get_env, "policy_listing", False):
        return
    make_env = theme.get_env

    def get_env() -> jinja2.Environment:
        env = make_env()
        env.list_templates = _listing(env)
        return env
    get_env.policy_listing = True  # type: ignore[attr-defined]
    theme.get_env = get_env
