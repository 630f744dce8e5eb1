"""The site verbs of the command line: build (through MkDocs, staged and published whole), serve and demo."""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import UserError
from .project_args import shown_policy_dir


def _site_output(config: Any, settings: Any, staging: Any) -> Any:
    """What the build before the last left in the back folder, when a build can keep what is unchanged there
    (site/mkdocs/site_output.py)."""
    from ..site.mkdocs.site_output import SiteOutput, keeps_output
    return SiteOutput(staging, settings.cache_dir) if keeps_output(config) and not staging.fresh else None


def _build_over_previous(config: Any, settings: Any, staging: Any, clean: bool = False, output: Any = None) -> None:
    """MkDocs' build into the back folder, over what is there where that is exact (site/mkdocs/site_output.py), then the
    back folder switched with site_dir in one step (site/publish.py); output: what is there, when it was read
    already (_meanwhile)."""
    from ..site.manifest import write_manifest
    from ..site.mkdocs.commands import build
    from ..site.mkdocs.site_output import QUIET_DIRTY, forget
    output = output or _site_output(config, settings, staging)
    if output is None:
        forget(settings.cache_dir)  # the folder is written whole: no record can say what it holds
    config.plugins["policy"].output = output
    config.plugins["policy"].publishing = str(staging.final)
    logging.getLogger("mkdocs.commands.build").addFilter(QUIET_DIRTY)
    config.site_dir = str(staging.begin())
    build(config, dirty=bool(output and output.usable and not clean))
    if output is not None:
        output.finish(config)
    # last: every file of the site with its sha256 (those kept as the build before the last wrote them: from its record)
    hashes = write_manifest(Path(config.site_dir), settings.site_url, output.kept_hashes() if output else None)
    if output is not None:
        output.note_hashes(hashes)
    staging.publish()
    if output is not None:
        output.save()


def _configured(args: argparse.Namespace) -> tuple[Any, Any]:
    """mkdocs.yml read for `policy build`, with the command line's options, and checked as far as it can be
    before the policy is read."""
    from ..settings import require_site_url
    from ..site.mkdocs.plugin import load_mkdocs_config, settings_from_config
    from ..state import check_private_state
    config = load_mkdocs_config(Path(args.config), **({"site_dir": args.site_dir} if args.site_dir else {}))
    config.plugins["policy"].raise_user_errors = True
    options = config.plugins["policy"].config
    if args.allow_shallow:
        options["allow_shallow"] = True
    options["accept_rewrite"] = [*options["accept_rewrite"], *getattr(args, "accept_rewrite", [])]
    settings = settings_from_config(config)
    require_site_url(settings.site_url)
    check_private_state(settings)  # the build wipes site_dir: never with the subscribers database inside it
    return config, settings


def _before_generating(settings: Any, reading: Any = None) -> tuple[tuple, Any]:
    """What the generator is given besides the settings: the texts notices went out for, and the working tree,
    validated (every problem listed before MkDocs starts; `reading`: the history's reading begun, whose parse cache
    may hold the very files of the working tree already)."""
    from ..notify.backend import mask_url
    from ..notify.ledger import announced_hashes
    from ..source.project import load_project
    from ..state import database_location
    database = database_location(settings)
    hashes = announced_hashes(database)
    where = mask_url(database) if isinstance(database, str) else database
    # the texts notices went out for must still be what history publishes (site/rewrites.py)
    announced = ((f"the notices sent ({where})", hashes),) if hashes else ()
    known = reading.known() if reading else None
    return announced, load_project(settings.policy_dir, shown_policy_dir(settings), known)


def _load_generator() -> None:
    """Import what generating needs (in build_fork's child, while the parent reads mkdocs.yml)."""
    import policy_site.notify.ledger
    import policy_site.site.generate
    import policy_site.source.project  # noqa: F401


def _generate_ahead(settings: Any) -> Any:
    """The whole generation, as `policy build` would do it before and in MkDocs' on_config (cli/build_fork.py)."""
    from ..history.versions import begin_reading
    from ..site.generate import generate_site
    from ..site.pagecache import check_location
    from .build_fork import Then
    # git log and the parse cache first: a working tree that a commit holds is then known without parsing it
    # (a shallow clone is refused after the working tree's own problems, as one process does)
    reading = begin_reading(settings.policy_dir, allow_shallow=None, cache_dir=settings.cache_dir)
    try:
        announced, project = _before_generating(settings, reading)
        check_location(settings.path("page_cache_dir"), settings.site_dir, settings.pages_dir)  # as on_config does
        site = generate_site(settings, announced, project, save=False, beside=True, reading=reading)
    finally:
        if reading is not None:
            reading.close()  # read_documents closed it, unless something failed before
    return Then(site.summary(settings["controlling_language"]), partial(_save, site))  # while MkDocs renders


def _save(site: Any) -> None:
    """The caches for the next build, saved by build_fork's child once it has sent its summary: first the words of
    every text, memoised for the diffs and policy.json, are let go (this process needs no more of them), so that
    their memory holds the saved records instead of adding to them."""
    from ..source.inline import words
    words.cache_clear()
    site.save()


def _meanwhile(config: Any, settings: Any, staging: Any) -> Any:
    """While the child generates: compile the theme's templates (unless they were already), read the page cache's
    headers and what the back folder holds (none of which the generation changes); returns the latter."""
    from ..site.mkdocs.plugin import precompile_theme
    from ..site.pagecache import prefetch
    precompile_theme(config, settings)
    output = _site_output(config, settings, staging)
    if output is not None:
        output.look_ahead()
        if settings["page_cache"]:
            prefetch(settings.path("page_cache_dir"))
    return output


def cmd_build(args: argparse.Namespace) -> int:
    from ..site.publish import BuildLock, Staging
    from .build_fork import start_generation
    generation = start_generation(_load_generator, _generate_ahead)  # the child imports while MkDocs loads here
    output: list[Any] = []
    lock = None
    try:
        from ..site.mkdocs.commands import setup_logging
        from ..site.mkdocs.plugin import keep_compiled_templates
        setup_logging(args.verbose)
        config, settings = _configured(args)
        lock = BuildLock(settings.cache_dir).acquire()  # before the child writes anything
        staging = Staging(Path(config.site_dir), settings.cache_dir)
        keep_compiled_templates(config, settings)
        generated = generation.result(settings, lambda: output.append(_meanwhile(config, settings, staging))) \
            if generation else None
    except BaseException:
        if generation is not None:
            generation.cancel()
        if lock is not None:
            lock.release()
        raise
    gc.freeze()  # what loading MkDocs made lives to the end: the collector need not go through it again
    final = config.site_dir
    try:
        _render(config, settings, staging, generated, output[0] if output else None)
    except BaseException:
        staging.discard()  # the back folder stays, without a record: the next build writes it whole
        raise
    finally:
        config.site_dir = final
        try:
            if generation is not None:
                generation.close()  # the child saves the caches for the next build meanwhile (cli/build_fork.Then)
        finally:
            lock.release()
    if staging.mounted:
        print(f"note: {final} is a mount point, so its top-level files and folders were switched in one by one; "
              f"set site_dir to a folder inside it to switch the whole site in one step", file=sys.stderr)
    print(f"policy build: site written to {final}")
    return 0


def _render(config: Any, settings: Any, staging: Any, generated: Any, output: Any = None) -> None:
    """MkDocs' build into the back folder, then switched in, given what the child generated (or generating here
    when it did not) and what the back folder holds (when read already)."""
    from jinja2 import TemplateError, TemplateSyntaxError

    from ..site.mkdocs.commands import build_errors
    plugin = config.plugins["policy"]
    if generated is None:
        plugin.announced, project = _before_generating(settings)
        plugin.project = (settings.policy_dir, project)  # not read again by the plugin
    plugin.generated = generated
    config.plugins.on_startup(command="build", dirty=False)
    try:
        with build_errors():
            try:
                _build_over_previous(config, settings, staging, output=output)
            except OSError as exc:
                if exc.errno not in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
                    raise
                _build_over_previous(config, settings, staging, clean=True)
            config.plugins.on_shutdown()
    except TemplateError as exc:  # a project's own theme template (templates/theme/) that cannot render
        where = f" ({exc.filename}:{exc.lineno})" if isinstance(exc, TemplateSyntaxError) and exc.filename else ""
        raise UserError(f"build stopped: a template failed{where}: {exc.message or exc}; fix it in templates/ "
                        f"(nothing was published)") from None
    except OSError as exc:  # writing the staging folder or switching it in: a full disk, a read-only folder
        from ..site.output import write_failure
        raise write_failure(staging.final, exc) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from ..service.config import local_origin
    from ..site.mkdocs.commands import serve
    from ..site.mkdocs.plugin import PREVIEW_SUBSCRIPTIONS_URL
    if args.subscriptions_url:
        if not local_origin(args.subscriptions_url):
            raise UserError(f"--subscriptions-url must be a local service like http://127.0.0.1:8080/, not "
                            f"{args.subscriptions_url!r} (the published site uses subscriptions_url of mkdocs.yml)")
        os.environ[PREVIEW_SUBSCRIPTIONS_URL] = args.subscriptions_url.rstrip("/") + "/"
        print(f"policy serve: the follow page's form posts to {args.subscriptions_url}; start that service with "
              f"POLICY_PREVIEW_ORIGINS=http://{args.dev_addr} so that it accepts forms from this preview")
    serve(args.config, args.dev_addr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import create_demo, fill_outbox
    target = Path(args.directory).resolve()
    project_root = Path(args.config).resolve().parent
    versions = create_demo(target, project_root)
    print(f"policy demo: a git repository with versions {', '.join(versions)} is in {target}")
    build_args = argparse.Namespace(config=str(target / "mkdocs.yml"), site_dir=None, allow_shallow=False,
                                    verbose=False)
    here = os.getcwd()
    os.chdir(target)
    try:
        cmd_build(build_args)
        print(fill_outbox(target).strip())
    finally:
        os.chdir(here)
    print(f"""
Look at it:
  site:     cd {target} && {sys.executable} -m policy_site serve --dev-addr 127.0.0.1:8000
            then open http://127.0.0.1:8000/ (the built files are in {target / 'site'}; they need a web server:
            opened from disk, folder links show listings and /compare/ cannot load its data)
  history:  git -C {target} log --oneline
  diff:     cd {target} && {sys.executable} -m policy_site diff 1.0 3.0
  feeds:    {target / 'site/atom.xml'}
  emails:   {target / '.cache/outbox'}   (the notices, as .eml files)""")
    return 0
