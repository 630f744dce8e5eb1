"""The thin MkDocs plugin: runs the core generator and points MkDocs at the pages it wrote."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from pathspec.gitignore import GitIgnoreSpec

from ..errors import UserError
from ..settings import DEFAULTS, make_settings
from .generate import generate_site

log = logging.getLogger("mkdocs.plugins.policy")


class PolicyPluginConfig(Config):
    policy_dir = c.Type(str, default=DEFAULTS["policy_dir"])
    templates_dir = c.Type(str, default=DEFAULTS["templates_dir"])
    pages_dir = c.Type(str, default=DEFAULTS["pages_dir"])
    cache_dir = c.Type(str, default=DEFAULTS["cache_dir"])
    feed_limit = c.Type(int, default=DEFAULTS["feed_limit"])
    feed_title = c.Optional(c.Type(str))
    feed_subtitle = c.Optional(c.Type(str))
    feed_icon = c.Optional(c.Type(str))
    allow_shallow = c.Type(bool, default=False)
    email_from = c.Optional(c.Type(str))
    unsubscribe_url = c.Optional(c.Type(str))
    list_id = c.Optional(c.Type(str))
    outbox_dir = c.Type(str, default=DEFAULTS["outbox_dir"])
    subscribers_db = c.Type(str, default=DEFAULTS["subscribers_db"])


class PolicyPlugin(BasePlugin[PolicyPluginConfig]):
    serving = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"

    def on_config(self, config):
        root = Path(config.config_file_path).parent
        options = dict(self.config)
        if os.environ.get("POLICY_ALLOW_SHALLOW") == "1":
            options["allow_shallow"] = True
        try:
            settings = make_settings(root, config.site_name, config.site_url, options, draft=self.serving)
            generated = generate_site(settings)
        except UserError as exc:
            raise PluginError(str(exc)) from None
        config.docs_dir = str(generated.pages_dir)
        config.nav = generated.nav
        config.not_in_nav = GitIgnoreSpec.from_lines(["/versions/*/index.md", "/changes/*/index.md"])
        for warning in generated.model.history.warnings:
            log.warning(warning)
        return config

    def on_serve(self, server, *, config, builder):
        root = Path(config.config_file_path).parent
        observer = getattr(server, "observer", None)
        if observer is not None and hasattr(observer, "_timeout"):
            observer._timeout = 0.1  # poll the small policy/ and templates/ folders faster than MkDocs' 0.5 s
        for name in ("policy_dir", "templates_dir"):
            server.watch(str(root / self.config[name]))
        try:
            server.unwatch(config.docs_dir)  # generated from the watched folders above
        except (KeyError, AttributeError):
            pass
        return server
