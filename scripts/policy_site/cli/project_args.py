"""What a verb works on: the project's settings (mkdocs.yml through MkDocs' loader), the policy folder as messages
name it, and in a library the document a verb is asked about, with its history."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import PolicyInvalid, UserError


def project_settings(args: argparse.Namespace):
    from ..site.mkdocs.plugin import load_settings
    return load_settings(Path(args.config))


def shown_policy_dir(settings) -> str:
    try:
        return settings.policy_dir.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(settings.policy_dir)


def chosen_document(args: argparse.Namespace, layout) -> str:
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


def document_history(args: argparse.Namespace):
    """The settings, the chosen document (its id, working-tree folder, site prefix) and its history."""
    from ..history.versions import read_documents
    from ..source.project import read_layout
    settings = project_settings(args)
    layout = read_layout(settings.policy_dir)
    if layout.problems:
        raise PolicyInvalid(list(layout.problems))
    document = chosen_document(args, layout)
    views = [(d, d, d == layout.formerly_single) for d in layout.documents]
    history = read_documents(settings.policy_dir, views, allow_shallow=True, cache_dir=settings.cache_dir)[document]
    return settings, history, document, layout.folder(settings.policy_dir, document), layout.prefix(document)
