"""The thin MkDocs plugin over the core generator, and reading mkdocs.yml through MkDocs for every verb.

This is the only module of the core that imports MkDocs, with its helpers beside it (plugin_*.py: the page
cache's key and events, site/ kept between builds, the helper process, the theme's listing). Its config schema is
made from `settings.Options`, the one declaration of the plugin's options. It imports the generator only when it
generates: under `policy build` a second process has usually done that (cli/build_fork.py).
"""

from __future__ import annotations

import logging
import os
import types
from dataclasses import MISSING, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import ConfigurationError, PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from pathspec.gitignore import GitIgnoreSpec

from ...errors import UserError
from ...settings import Options, Settings, builtin_templates, make_settings
from ...state import check_private_state
from ..compiled import MemoryBytecode, compiled_templates, precompile
from ..generated import Generated
from ..page_types import not_in_nav
from .page_cache import PageCache
from .site_output import SiteOutput
from .staged_build import PlainBuild
from .theme import list_theme_files

if TYPE_CHECKING:  # the generator is imported when it runs: `policy build` may have run it in another process
    from ..preview import Preview
    from ..rewrites import Source

log = logging.getLogger("mkdocs.plugins.policy")


def _option(annotation: str, default: Any) -> c.BaseConfigOption:
    """An MkDocs config option from a field of Options ('str', 'int', 'bool', 'str | None' or 'tuple[str, ...]')."""
    if annotation == "tuple[str, ...]":
        return c.ListOfItems(c.Type(str), default=list(default))
    if annotation == "dict[str, str]":
        return c.Type(dict, default=dict(default))
    if annotation == "int | dict[str, int]":
        return c.Type((int, dict), default=default)
    kind = {"str": str, "int": int, "bool": bool}[annotation.removesuffix(" | None")]
    if annotation.endswith("| None"):
        return c.Optional(c.Type(kind))
    return c.Type(kind, default=default)


PolicyPluginConfig = types.new_class("PolicyPluginConfig", (Config,), exec_body=lambda ns: ns.update({
    f.name: _option(str(f.type), f.default_factory() if f.default_factory is not MISSING else
                    None if f.default is MISSING else f.default) for f in fields(Options)}))


PREVIEW_SUBSCRIPTIONS_URL = "POLICY_PREVIEW_SUBSCRIPTIONS_URL"  # set by `policy serve --subscriptions-url` only


def settings_from_config(config: Any, draft: bool = False) -> Settings:
    """Settings from a loaded MkDocs config (site_dir: the published folder, also while `policy build` writes into
    its staging folder)."""
    plugin = config.plugins["policy"]
    options = dict(plugin.config)
    if os.environ.get("POLICY_ALLOW_SHALLOW") == "1":
        options["allow_shallow"] = True
    preview_service = os.environ.get(PREVIEW_SUBSCRIPTIONS_URL)
    if draft and preview_service:  # `policy serve --subscriptions-url`: the preview's form posts to a local service
        options["subscriptions_url"] = preview_service
    return make_settings(Path(config.config_file_path).parent, config.site_name, config.site_url, options,
                         draft=draft, site_dir=getattr(plugin, "publishing", None) or config.site_dir)


def load_mkdocs_config(config_file: Path, **overrides: Any) -> Any:
    """mkdocs.yml loaded and validated by MkDocs (so !ENV and every check apply), or UserError."""
    from mkdocs.config import load_config
    if not config_file.is_file():
        raise UserError(f"{config_file}: not found; run from the project folder or pass --config")
    try:
        config = load_config(config_file=str(config_file), **overrides)
    except ConfigurationError as exc:
        raise UserError(f"{config_file}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{config_file}: {exc.strerror or exc}") from None
    if "policy" not in config.plugins:
        raise UserError(f"{config_file}: the 'policy' plugin is not listed under plugins")
    return config


def load_settings(config_file: Path) -> Settings:
    """Settings from a mkdocs.yml file, read through MkDocs."""
    return settings_from_config(load_mkdocs_config(config_file))


def _use_builtin_theme_and_styles(config: Any, settings: Settings) -> None:
    """A project needs no copy of the templates: the theme override, the stylesheet and the Markdown
    extensions the pages use come with the tool; a project's templates/theme/ overrides file by file."""
    dirs = config.theme.dirs
    position = 1 if config.theme.custom_dir else 0
    for folder in (settings.templates_dir / "theme", builtin_templates() / "theme"):
        if folder.is_dir() and str(folder) not in dirs and str(folder.resolve()) not in dirs:
            dirs.insert(position, str(folder))
            position += 1
    if not any(str(css) == "assets/policy.css" for css in config.extra_css):
        config.extra_css.append("assets/policy.css")
    for name, options in (("attr_list", {}), ("toc", {"permalink": True}), ("policy_site.site.markdown_raw", {})):
        if name not in config.markdown_extensions:
            config.markdown_extensions.append(name)
            config.mdx_configs.setdefault(name, options)


def keep_compiled_templates(config: Any, settings: Settings) -> None:
    """Every Jinja environment the theme makes in this build loads and keeps compiled templates in the
    compiled-templates folder: MkDocs' own (on_env sets it too), and those a plugin makes, such as the search
    plugin's, which renders Material's language partials three times to read its defaults."""
    make = config.theme.get_env

    def get_env() -> Any:
        env = make()
        env.bytecode_cache = compiled_templates(settings.cache_dir)
        return env

    config.theme.get_env = get_env


def precompile_theme(config: Any, settings: Settings) -> None:
    """The theme's templates a page uses, compiled into the compiled-templates folder unless they are there: what
    `policy build` does while its second process generates, instead of waiting (the build then loads them)."""
    _use_builtin_theme_and_styles(config, settings)  # on_config does it again: nothing more happens
    env = config.theme.get_env()
    env.bytecode_cache = compiled_templates(settings.cache_dir)
    precompile(env, ["main.html", "404.html", *sorted(config.theme.static_templates)])


class PolicyPlugin(BasePlugin[PolicyPluginConfig]):  # type: ignore[valid-type]
    serving = False
    # more sources of announced content hashes than the previous build's versions.json (site/rewrites.py),
    # set by the command line before it builds: (where they were announced, {version: (hash, commit)})
    announced: tuple[Source, ...] = ()
    # the command line sets this to get a UserError back as it is (one clean line), not as MkDocs' PluginError
    raise_user_errors = False
    page_cache: PageCache | None = None  # one per instance, kept across `policy serve` rebuilds like the plugin
    preview: Preview | None = None
    compiled: MemoryBytecode | None = None  # the theme's compiled templates, for the rebuilds of one serve session
    cache_dir: Path | None = None
    output: SiteOutput | None = None  # set by `policy build`: the previous build's site_dir, kept where unchanged
    # set by `policy build`, which writes into a staging folder (config.site_dir) switched in at the end: site_dir
    publishing: str | None = None
    # set by `policy build`, which validated the working tree before MkDocs started: (policy_dir, load_project's)
    project: tuple[Path, Any] | None = None
    # set by `policy build` when its second process generated the site already (cli/build_fork.py)
    generated: Generated | None = None

    plain: PlainBuild | None = None  # a build MkDocs runs itself (`mkdocs build`), staged and switched in whole
    command: str = ""
    dirty = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"
        self.command, self.dirty = command, dirty

    def on_config(self, config):
        try:
            settings = settings_from_config(config, draft=self.serving)
            check_private_state(settings)  # before MkDocs wipes site_dir (also under a plain `mkdocs build`)
            self.page_cache = self.page_cache or PageCache()
            self.page_cache.configure(settings, self.serving)
            generated = self.generated if self.generated and self.generated.pages_dir == settings.pages_dir \
                else self._generate(settings)
            if self.command in ("build", "gh-deploy") and not self.dirty and self.publishing is None:
                self.plain = PlainBuild(config, settings)  # from here MkDocs writes into a staging folder
        except UserError as exc:
            if self.raise_user_errors:
                raise
            raise PluginError(str(exc)) from None
        _use_builtin_theme_and_styles(config, settings)
        list_theme_files(config.theme)  # MkDocs' listing of the theme's static files, without its hidden folders
        self.cache_dir = settings.cache_dir
        if self.page_cache:
            self.page_cache.generated = generated.pages
        config.docs_dir = str(generated.pages_dir)
        config.nav = generated.nav
        config.not_in_nav = GitIgnoreSpec.from_lines(not_in_nav() + (
            ["/*/**/index.md", "/*/index.md"] if generated.is_library else []))
        if generated.languages:  # Material's language switcher: the original, then each translation
            config.extra["alternate"] = [{"name": name, "link": f"{code}/" if number else "", "lang": code}
                                         for number, (code, name) in enumerate(generated.languages)]
        for warning in generated.warnings:
            log.warning(warning)
        if generated.counts is not None:
            log.info(f"generated files: {generated.counts[0]} reused, {generated.counts[1]} rendered")
        return config

    def _generate(self, settings: Settings) -> Generated:
        if self.serving:  # an edit of the working tree regenerates only the pages that show it
            from ..preview import Preview
            self.preview = self.preview or Preview()
            return self.preview.generate(settings, self.announced).summary(settings["controlling_language"])
        from ..generate import generate_site
        checked = self.project[1] if self.project and self.project[0] == settings.policy_dir else None
        return generate_site(settings, self.announced, checked).summary(settings["controlling_language"])

    @event_priority(-100)  # last: the nav is final; a cold build may start its helper process
    def on_nav(self, nav, *, config, files):
        if self.page_cache:
            self.page_cache.on_nav(nav, config, files)
        return nav

    def on_env(self, env, *, config, files):
        if self.page_cache:
            self.page_cache.on_env()  # every page is read: the helper process is done
        if self.serving:  # site/compiled.py: MkDocs makes a new environment for every rebuild
            self.compiled = self.compiled or MemoryBytecode()
            env.bytecode_cache = self.compiled
        elif self.cache_dir is not None:  # a build: the theme's compiled templates kept on disk, like ours
            env.bytecode_cache = compiled_templates(self.cache_dir)
        return env

    # The page cache (site/page_cache.py): cached pages skip MkDocs' rendering, the result stays byte-identical.
    @event_priority(-100)  # last: the list of files is final
    def on_files(self, files, *, config):
        files = self.page_cache.on_files(files, config, self.output) if self.page_cache else files
        return self.output.wrap(files, self.page_cache) if self.output else files

    @event_priority(-100)  # last: a nav page found in the cache is not converted
    def on_page_markdown(self, markdown, *, page, config, files):
        return self.page_cache.on_page_markdown(markdown, page) if self.page_cache else markdown

    @event_priority(-100)  # last: every plugin has seen the converted page
    def on_page_content(self, html, *, page, config, files):
        return self.page_cache.on_page_content(html, page) if self.page_cache else html

    @event_priority(100)  # first: before the search plugin reads the page's content
    def _on_page_context_first(self, context, *, page, config, nav):
        if self.page_cache:
            self.page_cache.before_page_context(page)
        return context

    @event_priority(-100)  # after the search plugin indexed the page
    def _on_page_context_last(self, context, *, page, config, nav):
        if self.page_cache:
            self.page_cache.on_page_context(page)
        return context

    on_page_context = CombinedEvent(_on_page_context_first, _on_page_context_last)

    @event_priority(-100)  # last: the HTML exactly as MkDocs writes it
    def on_post_page(self, output, *, page, config):
        return self.page_cache.on_post_page(output, page) if self.page_cache else output

    def on_template_context(self, context, *, template_name, config):
        return self.page_cache.on_template_context(context) if self.page_cache else context

    @event_priority(100)  # first: before the search plugin writes its index
    def _on_post_build_first(self, *, config):
        if self.page_cache:
            self.page_cache.on_post_build()

    @event_priority(-100)  # last: every plugin has written its files
    def _on_post_build_last(self, *, config):
        if self.plain is not None:
            plain, self.plain = self.plain, None
            plain.finish()

    on_post_build = CombinedEvent(_on_post_build_first, _on_post_build_last)

    def on_build_error(self, *, error):
        if self.page_cache:
            self.page_cache.on_build_error()
        if self.plain is not None:
            plain, self.plain = self.plain, None
            plain.fail()

    def on_serve(self, server, *, config, builder):
        root = Path(config.config_file_path).parent
        observer = getattr(server, "observer", None)
        if observer is not None and hasattr(observer, "_timeout"):
            observer._timeout = 0.1  # poll the small policy/ and templates/ folders faster than MkDocs' 0.5 s
        options: Any = self.config
        for name in ("policy_dir", "templates_dir"):
            server.watch(str(root / options[name]))
        try:
            server.unwatch(config.docs_dir)  # generated from the watched folders above
        except (KeyError, AttributeError):
            pass
        return server
