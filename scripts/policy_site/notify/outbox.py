"""The outbox transport: without POLICY_SMTP_URL every notice is written as an .eml file (transport.py says what
send() promises)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .files import os_failure

if TYPE_CHECKING:
    from .transport import Outgoing, Prepare


class Outbox:
    """Each message as OUTBOX/VERSION/<message-id>.eml, written atomically (a re-send overwrites)."""

    reply: str | None = None  # no server, no reply

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"outbox {self.folder}"

    def send(self, message: Outgoing, prepare: Prepare | None = None) -> bool:
        verdict = prepare() if prepare is not None else True
        if not (verdict() if callable(verdict) else verdict):
            return False
        target_dir = self.folder / message.version
        name = message.message_id.strip("<>").replace("/", "_") + ".eml"
        tmp: str | None = None
        try:
            if not target_dir.is_dir():
                target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".tmp-", suffix=".eml")  # created 0600
            with os.fdopen(fd, "wb") as out:
                out.write(message.data)
            os.replace(tmp, target_dir / name)
            tmp = None
        except OSError as exc:
            raise os_failure("cannot write to the outbox", target_dir, exc) from None
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        return True

    def close(self) -> None:
        pass
