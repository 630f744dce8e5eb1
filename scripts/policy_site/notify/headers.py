"""Mail header lines written by this code, never folded by the email package.

CPython's email package decodes RFC 2047 encoded words while it folds a header and, before 3.11.10 / 3.12.5 /
3.13.0, writes what they held raw (CVE-2024-6923): a name like `=?utf-8?q?x=0D=0ABcc=3A_?=` became a header line
of its own. So no header of a mail this tool sends goes through that folding. Each line is made here from parts
that were checked first:

    display names    kept as an atom phrase when they are plain ASCII words; quoted (RFC 5322 quoted-string) when
                     they are other printable ASCII; else base64 encoded words of UTF-8 that this code writes
                     itself (RFC 2047, each at most 75 characters, never splitting a character). A name that holds
                     a control or line-break character (C0, C1 with NEL, U+2028, U+2029) or an encoded word's
                     opening `=?` is not a name anyone typed for themselves: `safe_name` drops it (the address is
                     then written bare), `check_name` refuses it where names come in.
    addresses        printable ASCII, one @, no space (the stored form: an international domain is an A-label)
    text (Subject)   printable ASCII words folded at spaces; anything else (non-ASCII, `=?`) as encoded words
    the rest         URLs, ids and tokens: printable ASCII with no space, or the line is refused

`check_head` reads a finished header block back and refuses it (UserError: nothing is sent) unless every line ends
in CRLF, holds no other CR or LF, and starts either a header of the expected names — each once — or a continuation
(space or tab). Every message the notifier and the subscription service send passes through it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence

from ..errors import UserError

MAX_LINE = 78  # RFC 5322's recommended line length; encoded words are at most 75 (RFC 2047)
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1 (NEL is U+0085), line/paragraph separators
_ATOMS = re.compile(r"^[A-Za-z0-9!#$%&'*+/^_`{|}~ -]+\Z")  # atext and spaces (no '=' or '?': never an encoded word)
_PRINTABLE = re.compile(r"^[\x20-\x7e]*\Z")
_TOKEN = re.compile(r"^[\x21-\x7e]+\Z")  # a URL, an id, an addr-spec: printable ASCII, no space
_NAME = re.compile(rb"^([A-Za-z0-9-]+):")


def name_problem(name: str) -> str | None:
    """Why a display name cannot be used as given, or None."""
    if _BREAKS.search(name):
        return "line breaks and control characters are not allowed in a name"
    if "=?" in name:
        return "'=?' is not allowed in a name (mail programs would read it as encoded header text)"
    return None


def check_name(name: str) -> str:
    """name, or UserError saying why it cannot be a display name (where names come in: forms, files, options)."""
    problem = name_problem(name)
    if problem:
        raise UserError(problem)
    return name


def safe_name(name: str | None) -> str:
    """A display name as it may be written into a header: one line of text, or '' when the name is unusable (a
    name stored before names were checked is dropped, never sent raw)."""
    text = str(name or "")
    return "" if name_problem(text) else " ".join(text.split())


def encoded_words(text: str, room: int = 75) -> list[str]:
    """text as base64 encoded words of UTF-8 (RFC 2047), each at most `room` characters, split between characters."""
    words: list[str] = []
    chunk = ""
    for char in text:
        trial = chunk + char
        if len(_word(trial)) > room and chunk:
            words.append(_word(chunk))
            chunk = char
        else:
            chunk = trial
    if chunk or not words:
        words.append(_word(chunk))
    return words


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def phrase(name: str) -> list[str]:
    """A display name as the pieces of a phrase: atoms, one quoted string, or encoded words; [] for no name."""
    name = safe_name(name)
    if not name:
        return []
    if _ATOMS.match(name):
        return name.split()
    if _PRINTABLE.match(name) and len(name) <= 200:
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return encoded_words(name)


def text_pieces(text: str) -> list[str]:
    """Unstructured text (a Subject) as pieces: plain ASCII words, or encoded words when anything needs encoding."""
    text = " ".join(_BREAKS.sub(" ", str(text)).split())
    if _PRINTABLE.match(text) and "=?" not in text and all(len(w) <= 70 for w in text.split()):
        return text.split()
    return encoded_words(text)


def token(value: str, what: str) -> str:
    """A URL, an id or an addr-spec as one unfoldable piece: printable ASCII without space, or UserError."""
    if not _TOKEN.match(value) or len(value) > 900:
        raise UserError(f"cannot write {what} into a mail header: {value[:80]!r} is not printable ASCII")
    return value


def line(name: str, pieces: Sequence[str]) -> bytes:
    """`Name: pieces…` folded at the spaces between pieces (CRLF and a space), CRLF at the end. A piece is never
    split; one that is longer than a line stands on a line of its own."""
    out, current = [], f"{name}:"
    for piece in pieces:
        if len(current) + 1 + len(piece) > MAX_LINE and current != f"{name}:":
            out.append(current)
            current = " " + piece
        else:
            current += " " + piece
    out.append(current)
    return ("\r\n".join(out) + "\r\n").encode("ascii")


def address_line(name: str, display: str | None, address: str) -> bytes:
    """`To: Name <address>` (or the bare address when there is no usable name)."""
    spec = token(address, f"the address of {name}")
    if spec.count("@") != 1 or any(c in spec for c in '<>()[]\\,;:"'):
        raise UserError(f"cannot write {name}: {spec!r} is not a plain address")
    words = phrase(display or "")
    return line(name, [*words, f"<{spec}>"] if words else [spec])


def check_head(head: bytes, expected: Iterable[str]) -> bytes:
    """head (header lines, each ending in CRLF, without the blank line) if it is made only of the expected headers,
    each once, and continuation lines; else UserError. The last guard before a message is sent."""
    allowed = {n.lower() for n in expected}
    seen: set[str] = set()
    if head and not head.endswith(b"\r\n"):
        raise UserError("refusing to send a mail whose header does not end in CRLF")
    for raw in head[:-2].split(b"\r\n") if head else ():
        if b"\r" in raw or b"\n" in raw or not raw:
            raise UserError("refusing to send a mail whose header holds a bare CR or LF")
        if raw[:1] in (b" ", b"\t"):
            if not seen:
                raise UserError("refusing to send a mail whose header starts with a continuation line")
            continue
        match = _NAME.match(raw)
        field = match.group(1).decode("ascii").lower() if match else ""
        if field not in allowed or field in seen:
            raise UserError(f"refusing to send a mail with an unexpected header line ({raw[:40]!r})")
        seen.add(field)
    return head
