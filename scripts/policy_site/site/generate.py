"""Build the site's source folder from the policy's git history: pages, JSON, feeds and assets (no MkDocs here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..history.versions import read_history
from ..settings import Settings, require_site_url
from ..source.loader import load_policy
from .data import policy_json, versions_json
from .feeds import write_feeds
from .model import SiteModel, build_model
from .output import OutputTree
from .pages import nav, write_pages
from .redirects import redirect_pages
from .rewrites import Source, check_rewrites, previous_build


@dataclass
class GeneratedSite:
    pages_dir: Path
    model: SiteModel
    nav: list[dict[str, str]]


def load_model(settings: Settings) -> SiteModel:
    """Validate the working tree, read history, and decide what the site shows."""
    require_site_url(settings.site_url)
    working = load_policy(settings.policy_dir)  # raises PolicyInvalid before anything is written
    history = read_history(settings.policy_dir, allow_shallow=bool(settings["allow_shallow"]),
                           cache_dir=settings.cache_dir)
    model = build_model(settings, history, working if settings.draft else None)
    history.save_cache()
    return model


def generate_site(settings: Settings, announced: Sequence[Source] = ()) -> GeneratedSite:
    """Write every generated source file of the site into settings.pages_dir.

    announced: more sources of published content hashes, besides the previous build's versions.json, that the
    history must still match (site/rewrites.py); nothing is written when it does not.
    """
    model = load_model(settings)
    previous, shown, unreadable = previous_build(settings.site_dir)
    if unreadable:
        model.history.warnings.append(unreadable)
    check_rewrites(model, [previous, *announced], settings["accept_rewrite"], shown)
    out = OutputTree(settings.pages_dir)
    write_pages(model, out)
    out.write("versions.json", versions_json(model))
    for entry in model.entries:
        out.write(entry.path + "policy.json", policy_json(model, entry))
    write_feeds(model, out)
    assets: dict[str, Path] = {}
    for folder in reversed(settings.template_dirs):  # the project's own files win
        if (folder / "assets").is_dir():
            assets.update({p.relative_to(folder / "assets").as_posix(): p
                           for p in (folder / "assets").rglob("*") if p.is_file()})
    for name, path in sorted(assets.items()):
        out.write("assets/" + name, path.read_bytes())
    existing = {p.relative_to(out.root).as_posix() for p in out.written}
    for name, page in redirect_pages(settings["redirects"], settings.url(), existing).items():
        out.write(name, page)
    out.finish()
    return GeneratedSite(settings.pages_dir, model, nav(model))
