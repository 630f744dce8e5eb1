"""`policy serve` regenerates only what an edit of the working tree touches.

Between two rebuilds of one serve session, everything the site publishes is a function of the git history
(the commit HEAD points to, and whether the clone is shallow), of the settings (mkdocs.yml's values and today's
date) and of the templates. When none of these changed since the last full generation, only the working tree
did, and it shows on two pages only: the home page (its draft banner and text) and changes/draft/. Those two are
rendered again from the history already read; every other generated file is left as the last generation wrote
it — so their Markdown keeps its bytes and the page cache (site/mkdocs/page_cache.py) copies their HTML.
The previous build's rewrite check still holds for the same history, so it is not repeated.
Anything else — a commit, another setting, a template edited, the next day, no git at all, and every edit in a
library of documents or a project with translations — is a full generation (generate.generate_site).
This module does not import MkDocs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..history.git import head_state
from ..history.versions import History
from ..keys import digest, tree_digest
from ..settings import Settings, require_site_url
from ..source.loader import load_policy
from ..source.project import Layout
from .generate import GeneratedSite, generate_site
from .model import build_model
from .output import OutputTree
from .page_types import nav
from .pages import write_pages
from .rewrites import Source

DRAFT_PAGES = ("", "changes/draft/")  # the pages that show the working tree


@dataclass(frozen=True)
class Inputs:
    """What the published part of the site is made from, besides the working tree."""

    head: str
    settings: Settings  # with the build time cut to its day
    templates: str


def inputs(settings: Settings) -> Inputs | None:
    """The inputs now; None when the working tree is the published text (outside git)."""
    head = head_state(settings.policy_dir)
    if head is None:
        return None
    day = settings.build_time.replace(hour=0, minute=0, second=0, microsecond=0)
    templates = digest([tree_digest(d) for d in settings.template_dirs])
    return Inputs(head, replace(settings, build_time=day), templates)


class Preview:
    """The generator of one serve session: full generation, then draft pages only while the inputs hold."""

    def __init__(self) -> None:
        self.last: tuple[Inputs, History] | None = None

    def generate(self, settings: Settings, announced: Sequence[Source] = ()) -> GeneratedSite:
        now = inputs(settings)
        if now is not None and self.last is not None and self.last[0] == now:
            return self._draft_only(settings, self.last[1])
        self.last = None
        generated = generate_site(settings, announced)
        if now is not None and not generated.layout.is_library and not generated.languages:
            self.last = (now, generated.model.history)  # a library or a translation: every edit regenerates all
        return generated

    @staticmethod
    def _draft_only(settings: Settings, history: History) -> GeneratedSite:
        require_site_url(settings.site_url)
        working = load_policy(settings.policy_dir)  # raises PolicyInvalid before anything is written
        model = build_model(settings, replace(history, warnings=list(history.warnings)), working)
        out = OutputTree(settings.pages_dir)
        write_pages(model, out, only=DRAFT_PAGES)
        return GeneratedSite(settings.pages_dir, [model], nav(model), Layout(), written=out.written)
