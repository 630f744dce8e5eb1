"""The policy verbs of the command line: check, build, serve, versions, diff and demo."""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import PolicyInvalid, UserError


def _settings(args: argparse.Namespace):
    from ..site.plugin import load_settings
    return load_settings(Path(args.config))


def cmd_check(args: argparse.Namespace) -> int:
    from ..history.checks import run_check
    settings = _settings(args)
    checked = run_check(settings.policy_dir, _prefix(settings), args.allow_shallow or
                        bool(settings["allow_shallow"]), settings.cache_dir,
                        lambda document: settings.days("notice_days", document), settings.build_time.date(),
                        args.pull_request or os.environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request"))
    from ..site.redirects import problems as redirect_problems
    bad_redirects = redirect_problems(settings["redirects"])
    if bad_redirects:
        raise UserError("\n".join(f"mkdocs.yml {p}" for p in bad_redirects))
    for doc in checked:
        for warning in doc.warnings + _editorial_warning(doc.history, doc.policy):
            print(f"warning: {warning}", file=sys.stderr)
    _translation_check(settings, checked, args.strict_translations)
    summaries = [f"{doc.document + ' ' if doc.document else ''}version {doc.policy.version}, effective "
                 f"{doc.policy.effective}, {_count(len(doc.policy.section_ids()), 'section')}"
                 for doc in checked]
    count = f"{len(checked)} documents: " if len(checked) > 1 else ""
    print(f"policy check: OK — {count}{'; '.join(summaries)}")
    return 0


def _translation_check(settings, checked, strict: bool) -> None:
    """Stale and missing translated sections: warnings, or errors with --strict-translations."""
    from ..site.model import build_model
    from ..site.translations import load_translations
    from ..source.project import read_layout
    from ..source.translations import languages
    layout = read_layout(settings.policy_dir)
    folders = {d: layout.folder(settings.policy_dir, d) for d in layout.documents}
    if not any(languages(folder) for folder in folders.values()):
        return
    models = [build_model(settings, doc.history, document=doc.document, prefix=layout.prefix(doc.document))
              for doc in checked if doc.history.versions]
    lines = []
    for t in load_translations(models, folders, _prefix(settings)):
        where = f"{t.model.document + ' ' if t.model.document else ''}{t.language}"
        for s in t.statuses:
            if s.status == "stale":
                lines.append(f"translation {where}: section '{s.id}' is stale (it translates version "
                             f"{s.source_version}; the original changed since): update it and its source_version")
            elif s.status == "untranslated":
                lines.append(f"translation {where}: section '{s.id}' is untranslated (its words are still the "
                             f"original's): translate it, or add `translated: true` to keep these words")
            elif s.status == "missing":
                lines.append(f"translation {where}: section '{s.id}' is missing: translate it (policy translate "
                             f"--status lists every section)")
    if lines and strict:
        raise UserError("\n".join(lines + [f"{len(lines)} translation problem{'s' if len(lines) != 1 else ''} "
                                           "(--strict-translations)"]))
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _editorial_warning(history, policy) -> list[str]:
    """A new version whose text reads exactly like the last published one is editorial: say so."""
    from ..diff.sections import diff_policies
    from ..source.model import version_key
    if not history.from_git or not history.versions:
        return []
    latest = history.versions[-1]
    if version_key(policy.version) <= version_key(latest.version):
        return []
    if diff_policies(latest.latest_text, policy).visible:
        return []
    return [f"version {policy.version} reads exactly like version {latest.version} (only whitespace, layout, the "
            f"version or its date changed): it will be published as an editorial version and not emailed. If you "
            f"meant to change the text, check that your edit was saved."]


def _prefix(settings) -> str:
    try:
        return settings.policy_dir.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(settings.policy_dir)


def _setup_mkdocs_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False


def _site_output(config: Any, settings: Any, staging: Any) -> Any:
    """What the build before the last left in the back folder, when a build can keep what is unchanged there
    (site/plugin_output.py)."""
    from ..site.plugin_output import SiteOutput, keeps_output
    return SiteOutput(staging, settings.cache_dir) if keeps_output(config) and not staging.fresh else None


def _build_over_previous(config: Any, settings: Any, staging: Any, clean: bool = False, output: Any = None) -> None:
    """MkDocs' build into the back folder, over what is there where that is exact (site/plugin_output.py), then the
    back folder switched with site_dir in one step (site/publish.py); output: what is there, when it was read
    already (_meanwhile)."""
    from mkdocs.commands.build import build

    from ..site.plugin_output import QUIET_DIRTY, forget
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
    staging.publish()
    if output is not None:
        output.save()


def _configured(args: argparse.Namespace) -> tuple[Any, Any]:
    """mkdocs.yml read for `policy build`, with the command line's options, and checked as far as it can be
    before the policy is read."""
    from ..settings import require_site_url
    from ..site.plugin import load_mkdocs_config, settings_from_config
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
    return announced, load_project(settings.policy_dir, _prefix(settings), reading.known() if reading else None)


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
    return Then(site.summary(settings["controlling_language"]), site.save)  # saved while MkDocs renders


def _meanwhile(config: Any, settings: Any, staging: Any) -> Any:
    """While the child generates: compile the theme's templates (unless they were already), read the page cache's
    headers and what the back folder holds (none of which the generation changes); returns the latter."""
    from ..site.pagecache import prefetch
    from ..site.plugin import precompile_theme
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
        from ..site.plugin import keep_compiled_templates
        _setup_mkdocs_logging(args.verbose)
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
    from mkdocs.exceptions import Abort
    plugin = config.plugins["policy"]
    if generated is None:
        plugin.announced, project = _before_generating(settings)
        plugin.project = (settings.policy_dir, project)  # not read again by the plugin
    plugin.generated = generated
    config.plugins.on_startup(command="build", dirty=False)
    try:
        try:
            _build_over_previous(config, settings, staging, output=output)
        except OSError as exc:
            if exc.errno not in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
                raise
            _build_over_previous(config, settings, staging, clean=True)
        config.plugins.on_shutdown()
    except Abort as exc:
        raise UserError(f"build stopped: {exc}") from None
    except TemplateError as exc:  # a project's own theme template (templates/theme/) that cannot render
        where = f" ({exc.filename}:{exc.lineno})" if isinstance(exc, TemplateSyntaxError) and exc.filename else ""
        raise UserError(f"build stopped: a template failed{where}: {exc.message or exc}; fix it in templates/ "
                        f"(nothing was published)") from None
    except OSError as exc:  # writing the staging folder or switching it in: a full disk, a read-only folder
        from ..site.output import write_failure
        raise write_failure(staging.final, exc) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from mkdocs.commands.serve import serve

    from ..service.config import local_origin
    from ..site.plugin import PREVIEW_SUBSCRIPTIONS_URL
    if args.subscriptions_url:
        if not local_origin(args.subscriptions_url):
            raise UserError(f"--subscriptions-url must be a local service like http://127.0.0.1:8080/, not "
                            f"{args.subscriptions_url!r} (the published site uses subscriptions_url of mkdocs.yml)")
        os.environ[PREVIEW_SUBSCRIPTIONS_URL] = args.subscriptions_url.rstrip("/") + "/"
        print(f"policy serve: the follow page's form posts to {args.subscriptions_url}; start that service with "
              f"POLICY_PREVIEW_ORIGINS=http://{args.dev_addr} so that it accepts forms from this preview")
    _setup_mkdocs_logging(False)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    serve(config_file=args.config, dev_addr=args.dev_addr, livereload=True)
    return 0


def _document(args: argparse.Namespace, layout) -> str:
    """The document a verb acts on: --document ID, or the project's only one."""
    asked = getattr(args, "document", None)
    if not layout.is_library:
        if asked:
            raise UserError(f"--document {asked}: this project holds one document (no policy/library.yaml)")
        return ""
    if asked is None:
        if len(layout.documents) == 1:
            return str(layout.documents[0])
        raise UserError(f"this library holds {len(layout.documents)} documents; name one with --document "
                        f"({', '.join(layout.documents)})")
    if asked not in layout.documents:
        raise UserError(f"--document {asked}: no such document; the library holds {', '.join(layout.documents)}")
    return str(asked)


def _history(args: argparse.Namespace):
    """The settings, the chosen document (its id, working-tree folder, site prefix) and its history."""
    from ..history.versions import read_documents
    from ..source.project import read_layout
    settings = _settings(args)
    layout = read_layout(settings.policy_dir)
    if layout.problems:
        raise PolicyInvalid(list(layout.problems))
    document = _document(args, layout)
    views = [(d, d, d == layout.formerly_single) for d in layout.documents]
    history = read_documents(settings.policy_dir, views, allow_shallow=True, cache_dir=settings.cache_dir)[document]
    return settings, history, document, layout.folder(settings.policy_dir, document), layout.prefix(document)


def cmd_versions(args: argparse.Namespace) -> int:
    from ..site.data import dumps, version_record
    from ..site.model import build_model
    settings, history, document, _, prefix = _history(args)
    model = build_model(settings, history, document=document, prefix=prefix)
    if args.json:
        from ..settings import require_site_url
        require_site_url(settings.site_url)
        print(dumps([version_record(model, e) for e in model.newest_first]), end="")
        return 0
    print(f"{'version':<9} {'status':<11} {'effective':<11} {'published':<11} {'commit':<11} summary")
    for e in model.newest_first:
        published = e.published.published.strftime("%Y-%m-%d") if e.published.published else "-"
        commit = e.published.commit.short if e.published.commit else "-"
        amended = f" (amended {len(e.amendments)}x)" if e.amendments else ""
        print(f"{e.version:<9} {e.status:<11} {e.policy.effective.isoformat():<11} {published:<11} {commit:<11} "
              f"{e.policy.summary}{amended}")
    for warning in history.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from ..diff.formats import render_diff
    from ..diff.sections import diff_policies
    from ..source.loader import load_policy
    settings, history, document, folder, prefix = _history(args)

    def pick(name: str | None, default_working: bool):
        if name is None and default_working or name in ("working", "draft"):
            shown = f"{_prefix(settings)}/{document}" if document else _prefix(settings)
            return load_policy(folder, shown), "the working tree"
        version = history.find(name) if name else history.versions[-1]
        if version is None:
            known = ", ".join(v.version for v in history.versions)
            raise UserError(f"no published version '{name}'; published: {known}, or 'working'")
        return version.policy, f"version {version.version}"

    old, old_label = pick(args.from_version, False)
    new, new_label = pick(args.to_version, True)
    full_url = None
    if settings.site_url:
        published = history.find(new.version)
        if published is None or published.policy != new:  # the working tree: its page after publication
            full_url = settings.url(f"{prefix}changes/{new.version}/")
        else:
            full_url = settings.url(f"{prefix}compare/?from={old.version}&to={new.version}")
    if old == new:  # the same text and version: nothing to review (a version bump alone is an editorial version)
        said = f"no change: {new_label} is {old_label} (version {new.version}), word for word"
        if args.format == "markdown" and not args.always:
            print(f"policy diff: {said}; no comment body (--always writes one)", file=sys.stderr)
            return 0
        if args.format in ("text", "markdown"):
            print(f"No change: {new_label} is {old_label} (version {new.version}), word for word.")
            return 0
    print(render_diff(diff_policies(old, new), args.format, old_label, new_label, full_url), end="")
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
