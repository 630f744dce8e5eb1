"""`policy notice [VERSION]`: a version's legal notice for every account holder, for the organisation's own mail
system to send (see notify/legal.py for why it is not sent to the opt-in list)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError


def cmd_notice(args: argparse.Namespace) -> int:
    from ..notify.files import write_private
    from ..notify.legal import legal_message, legal_notice
    from ..notify.message import mail_settings
    from ..site.model import build_model
    from .project_args import document_history as _history
    settings, history, document, _, prefix = _history(args)
    model = build_model(settings, history, document=document, prefix=prefix)
    if not model.entries:
        raise UserError("no version is published yet: commit the policy first")
    entry = model.entries[-1] if args.version is None else model.entry(args.version)
    if entry is None:
        known = ", ".join(e.version for e in model.newest_first[:10])
        raise UserError(f"no published version {args.version} (published: {known})")
    mail = mail_settings(settings)
    notice = legal_notice(settings, mail, model, entry)
    if args.format == "text":
        data = notice.text.rstrip("\n").encode("utf-8") + b"\n"
    elif args.format == "html":
        data = notice.html.rstrip("\n").encode("utf-8") + b"\n"
    else:
        data = legal_message(notice, mail)
    if args.output:
        write_private(Path(args.output), data, "cannot write the notice")
        print(f"policy notice: the legal notice of version {entry.version} ({args.format}) is in {args.output}",
              file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
