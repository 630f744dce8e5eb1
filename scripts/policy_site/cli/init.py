"""`policy init DIR`: a new, working policy project for another organisation.

It writes mkdocs.yml (title, organisation, contact and site URL given as options or asked for), a valid
starter policy under policy/ with its JSON Schemas, .gitignore and the publishing workflow, and runs
`git init`. The project holds no copy of the templates: the built-in ones are used, and a project's own
templates/ folder overrides only the files it holds. `policy build` works at once.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from ..errors import UserError
from ..history import git as gitcmd
from ..notify.addresses import InvalidAddress, normalise_address
from ..settings import builtin_templates
from ..source.naming import named_title
from .workflow_package import WorkflowPackage, workflow_package

QUESTIONS = (("title", "Title of the policy", "Privacy policy"),
             ("organisation", "Name of the organisation", None),
             ("contact", "Contact (an email address or an https:// page)", None),
             ("site_url", "Address of the published site (https://…/)", None))
SECTIONS = ("who-we-are", "what-we-collect", "your-rights")


def _ask(args: argparse.Namespace) -> dict[str, str]:
    values: dict[str, str] = {}
    interactive = sys.stdin.isatty()
    for name, question, default in QUESTIONS:
        value = getattr(args, name)
        if not value and interactive:
            shown = f" [{default}]" if default else ""
            value = input(f"{question}{shown}: ").strip() or default
        if not value and default:
            value = default
        if not value:
            raise UserError(f"--{name.replace('_', '-')} is required ({question.lower()})")
        values[name] = " ".join(str(value).split())
    return values


def _validate(values: dict[str, str]) -> str | None:
    """The sender address for notices (the contact when it is an address), after checking the values."""
    url = urlsplit(values["site_url"])
    if url.scheme not in ("https", "http") or not url.hostname:
        raise UserError(f"--site-url must be the site's address like https://privacy.example.org/, "
                        f"not {values['site_url']!r}")
    if not values["site_url"].endswith("/"):
        values["site_url"] += "/"
    contact = values["contact"]
    if contact.startswith(("https://", "http://")):
        return None
    try:
        address = normalise_address(contact)
    except InvalidAddress as exc:
        raise UserError(f"--contact must be an email address or an https:// page: {exc}") from None
    return f"{values['organisation']} <{address}>"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(builtin_templates() / "init")), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["q"] = lambda value: json.dumps(str(value), ensure_ascii=False)  # a YAML double-quoted string
    return env


def starter_policy(context: dict[str, object]) -> dict[str, str]:
    """The starter policy's files (paths inside policy/) for title, organisation, contact and effective."""
    env = _environment()
    files = {"policy.yaml": env.get_template("policy.yaml.j2").render(context)}
    for section in SECTIONS:
        files[f"sections/{section}.yaml"] = env.get_template(f"{section}.yaml.j2").render(context)
    return files


def workflow(package: WorkflowPackage) -> str:
    """The publishing workflow, installing package (the tool that wrote it, pinned)."""
    text = (builtin_templates() / "init" / "workflow.yml").read_text(encoding="utf-8")
    pinned = f"      - run: {package.install}   # the policy-site that wrote this workflow (policy init)"
    return text.replace("      - run: pip install .", pinned)


def create_project(target: Path, values: dict[str, str], package: WorkflowPackage,
                   redirects: dict[str, str] | None = None) -> list[Path]:
    """Write the project into target (a new or empty folder); the files written. package: what the workflow
    installs; redirects: old site paths → new ones, for the plugin's options."""
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} exists and is not empty; choose a new folder (nothing was written)")
    email_from = _validate(values)
    init = builtin_templates() / "init"
    context: dict[str, object] = {**values, "email_from": email_from, "effective": date.today().isoformat(),
                                  "site_name": named_title(values["organisation"], values["title"]),
                                  "redirects": redirects or {}}
    files: dict[str, str] = {
        "mkdocs.yml": _environment().get_template("mkdocs.yml.j2").render(context),
        ".gitignore": (init / "gitignore").read_text(encoding="utf-8"),
        ".github/workflows/policy.yml": workflow(package),
    }
    files.update({f"policy/{name}": text for name, text in starter_policy(context).items()})
    written: list[Path] = []
    try:
        for name, text in files.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        schema = target / "policy" / "schema"
        shutil.copytree(builtin_templates() / "schema", schema)
        written += sorted(schema.iterdir())
    except OSError as exc:
        raise UserError(f"cannot write the project into {target}: {exc.strerror or exc}") from None
    gitcmd.run(target, "init", "-q", "-b", "main")
    return written


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.directory).resolve()
    package = workflow_package(args.package)
    written = create_project(target, _ask(args), package)
    print(f"policy init: a new policy project in {target} ({len(written)} files, git initialised)")
    print(f"Workflow: .github/workflows/policy.yml installs {package.spec} ({package.origin})")
    print(f"""
Next:
  cd {target}
  policy check            # the starter policy is valid; edit policy/ and check again
  policy import FILE      # or bring in your existing policy (Markdown, HTML or Word)
  policy build            # the site, in site/
  git add -A && git commit -m "Publish the privacy policy"   # version 1.0 is published by this commit""")
    return 0
