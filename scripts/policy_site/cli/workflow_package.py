"""What the generated publishing workflow installs: exactly the tool that wrote it.

`policy init` (and `policy import --git --into`) write `.github/workflows/policy.yml`, whose jobs
`pip install` the tool. The requirement is read from this installation's own origin (PEP 610's
`direct_url.json`): a VCS URL and commit gives `policy-site @ git+URL@COMMIT`, a wheel or sdist file or an
index gives `policy-site==VERSION` (the file then has to be offered to pip: a package index or a folder in
`PIP_FIND_LINKS`). An editable or local-folder install has no origin a CI runner could reach: `--package SPEC`
says what to install. A spec is checked (a valid requirement for policy-site, and only characters that are
inert inside the workflow's YAML and shell quoting) before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import UserError

DISTRIBUTION = "policy-site"
# inert in a double-quoted YAML scalar and a double-quoted shell word: no quote, $, `, \, space or control character
_SAFE = re.compile(r"[A-Za-z0-9_.:/@+=<>!~,;%#\[\]-]+( @ [A-Za-z0-9_.:/@+=!~,;%#\[\]-]+)?")


@dataclass(frozen=True)
class WorkflowPackage:
    """A pip requirement and, in words, where it came from."""

    spec: str
    origin: str

    @property
    def install(self) -> str:
        return f'pip install "{self.spec}"'


def check_spec(spec: str) -> str:
    """spec if it is a requirement for policy-site that is safe to write into the workflow; else a UserError."""
    spec = spec.strip()
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise UserError(f"--package {spec!r} is not a pip requirement ({exc}); for example '{DISTRIBUTION}==0.1.0' "
                        f"or '{DISTRIBUTION} @ git+https://github.com/ORG/REPO@COMMIT'") from None
    if canonicalize_name(requirement.name) != DISTRIBUTION:
        raise UserError(f"--package must install {DISTRIBUTION}, not {requirement.name!r}")
    if not _SAFE.fullmatch(spec):
        raise UserError(f"--package {spec!r} holds characters that would need quoting in the workflow "
                        "(quotes, $, `, \\, spaces); write it without them")
    return spec


def workflow_package(spec: str | None) -> WorkflowPackage:
    """The requirement the workflow installs: --package SPEC, or this installation's own origin."""
    if spec:
        return WorkflowPackage(check_spec(spec), "as given by --package")
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise UserError(f"{DISTRIBUTION} is not installed (run from a source folder); say what the workflow "
                        f"installs with --package, e.g. --package '{DISTRIBUTION}==0.1.0'") from None
    version = dist.version
    running = Path(__file__).resolve().parent.parent / "__init__.py"
    installed = Path(str(dist.locate_file("policy_site/__init__.py"))).resolve()
    if dist.read_text("INSTALLER") is None or (running != installed and not dist.read_text("direct_url.json")):
        raise UserError(f"this {DISTRIBUTION} runs from a source folder ({running.parent.parent}), which a CI runner "
                        f"cannot install; say what the workflow installs with --package, e.g. --package "
                        f"'{DISTRIBUTION} @ git+https://github.com/ORG/REPO@COMMIT'")
    try:
        origin = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        origin = None
    if not isinstance(origin, dict):  # installed from an index: its name and version
        return WorkflowPackage(check_spec(f"{DISTRIBUTION}=={version}"), f"version {version} from a package index")
    url = str(origin.get("url", ""))
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        subdirectory = origin.get("subdirectory")
        target = f"git+{url}@{vcs['commit_id']}" + (f"#subdirectory={subdirectory}" if subdirectory else "")
        return WorkflowPackage(check_spec(f"{DISTRIBUTION} @ {target}"), f"commit {vcs['commit_id'][:12]} of {url}")
    if "archive_info" in origin:
        name = url.rsplit("/", 1)[-1]
        return WorkflowPackage(check_spec(f"{DISTRIBUTION}=={version}"),
                               f"version {version}, installed from the file {name}: publish it to the package index "
                               "the workflow uses, or offer its folder to pip with PIP_FIND_LINKS")
    kind = "an editable install" if isinstance(origin.get("dir_info"), dict) else "an install"
    raise UserError(f"{DISTRIBUTION} is {kind} of the folder {url}, which a CI runner cannot reach; say what the "
                    f"workflow installs with --package, e.g. --package '{DISTRIBUTION} @ "
                    f"git+https://github.com/ORG/REPO@COMMIT' or --package '{DISTRIBUTION}=={version}'")
