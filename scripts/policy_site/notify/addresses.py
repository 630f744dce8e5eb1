"""Subscriber addresses and names: validation and normalisation, masking for logs, and CSV import rows.

Addresses are normalised on the way in: surrounding space removed, the part before the @ kept as typed
(ASCII only), the domain stored in its ASCII form. International domains follow IDNA 2008 with the UTS #46
mapping, non-transitional (the `idna` package), never Python's IDNA 2003 codec: `faß.de` is stored as
`xn--fa-hia.de` (not `fass.de`, another domain), a final sigma stays `ς`, upper case is mapped to lower case,
a zero-width joiner is accepted only where IDNA 2008 allows it (after a virama), emoji and symbols are
refused. A domain that is already ASCII is only lower-cased (its `xn--` labels must be valid A-labels), so
plain ASCII addresses normalise exactly as before. Names are one line of printable text, without an encoded word's
`=?` (notify/headers.py: no name is ever decoded into header lines).

The stored form is for SMTP and for finding an address again; people are shown what they typed: `display` gives
the address with its domain in Unicode (`faß.de`), and `lookalike_warning` a sentence when the domain mixes
scripts the way look-alike domains do (Latin with Cyrillic or Greek, say; UTS #39's "highly restrictive" level,
which allows Latin with Han and the Japanese or Korean scripts).

CSV cells are neutralised against formula injection (the OWASP rule): `csv_cell` prefixes a single quote to
any value starting with = + - @, a tab or a carriage return (or with quotes followed by one of those), and
`csv_value` removes exactly that quote again on import, so an exported file reads back to the same values.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from email.headerregistry import Address
from typing import NamedTuple

import idna

from .headers import name_problem

MAX_NAME = 200
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*\Z")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates: text shown in another order
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_ANY_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+\.[\w-]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DOCUMENTS = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)*(?:,[a-z0-9]+(?:-[a-z0-9]+)*)*)\Z")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2}|-[A-Z][a-z]{3})?\Z")  # as source/translations.py names folders
CHANGES = ("material", "all")


class CsvRow(NamedTuple):
    """One subscriber of a CSV file; the preference columns are None when the file has none (an older export)."""

    email: str
    name: str
    subscribed: str | None
    documents: str | None = None  # '*' or ',privacy,terms,' (the store's form)
    changes: str | None = None
    language: str | None = None
    confirmed: str | None = None


class InvalidAddress(ValueError):
    """An address or name that cannot be stored; the message says why."""


def mask(address: str) -> str:
    """An address as logs show it: z***@example.org."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def mask_text(text: str) -> str:
    """Text with every email address in it masked (server replies often quote the recipient)."""
    return _ANY_ADDRESS.sub(lambda m: mask(m.group(0)), text)


def _ascii_domain(domain: str) -> str:
    """The stored (ASCII) form of a domain: IDNA 2008 + UTS #46 for international names, see the docstring."""
    try:
        if domain.isascii():
            ascii_domain = domain.rstrip(".").lower()
            for label in ascii_domain.split("."):
                if label.startswith("xn--") and idna.encode(idna.decode(label)).decode("ascii") != label:
                    raise idna.IDNAError(f"'{label}' is not a valid A-label")
        else:
            mapped = idna.uts46_remap(domain, std3_rules=True, transitional=False).rstrip(".")
            ascii_domain = idna.encode(mapped).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidAddress(f"'{domain.rstrip('.')}' is not a valid domain name (IDNA 2008: {exc})") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidAddress(f"'{domain}' is not a valid domain name (like example.org)")
    if len(ascii_domain) > 253:
        raise InvalidAddress("the domain name is too long")
    return ascii_domain


def normalise_address(raw: str) -> str:
    """The stored form of an email address, or InvalidAddress saying what is wrong with it."""
    text = raw.strip()
    if not text:
        raise InvalidAddress("empty address")
    if _CONTROL.search(text):
        raise InvalidAddress("line breaks and control characters are not allowed in an address")
    if any(c in text for c in " <>,;\"()"):
        raise InvalidAddress(f"'{text}' is not a bare address; write it like name@example.org")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"'{text}' is not an email address (like name@example.org)")
    if not local.isascii():
        raise InvalidAddress("characters outside ASCII before the @ are not supported")
    if "=?" in local or "?=" in local:
        raise InvalidAddress(f"'{local}' is not valid before the @ ('=?' and '?=' are not accepted)")
    if len(local) > 64 or not _LOCAL.match(local):
        raise InvalidAddress(f"'{local}' is not valid before the @")
    address = f"{local}@{_ascii_domain(domain)}"
    if len(address) > 254:
        raise InvalidAddress("the address is too long")
    try:  # the email package must read it back unchanged: it is what will build the To header
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise InvalidAddress(f"'{text}' is not a valid address: {exc}") from None
    if parsed.addr_spec != address:
        raise InvalidAddress(f"'{text}' is not a valid address")
    return address


def normalise_name(raw: str | None) -> str:
    """One line of printable text (inner runs of spaces collapsed), or InvalidAddress."""
    if raw is None:
        return ""
    problem = name_problem(raw)
    if problem:
        raise InvalidAddress(problem)
    if _BIDI.search(raw):
        raise InvalidAddress("bidirectional control characters (which show text in another order than it is "
                             "written) are not allowed in a name")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise InvalidAddress(f"the name is longer than {MAX_NAME} characters")
    return name


_ALLOWED_MIXES = ({"Latin", "Han", "Hiragana", "Katakana"}, {"Latin", "Han", "Bopomofo"}, {"Latin", "Han", "Hangul"})
_SCRIPT_NAMES = {"CJK": "Han", "IDEOGRAPHIC": "Han"}


def display(address: str) -> str:
    """The address as its owner typed it: the domain's A-labels (xn--…) shown in Unicode."""
    local, at, domain = address.rpartition("@")
    if not at or "xn--" not in domain.lower():
        return address
    try:
        return f"{local}@{idna.decode(domain)}"
    except (idna.IDNAError, UnicodeError):
        return address


def _scripts(text: str) -> set[str]:
    found = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            word = unicodedata.name(char, "UNKNOWN").split()[0]
            found.add(_SCRIPT_NAMES.get(word, word.title()))
    return found


def lookalike_warning(address: str) -> str | None:
    """A sentence for the reader when the address's domain mixes scripts (a look-alike domain), else None."""
    domain = display(address).rpartition("@")[2]
    if domain.isascii():
        return None
    scripts = _scripts(domain)
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ALLOWED_MIXES):
        return None
    names = sorted(scripts)
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (f"The domain of this address, {domain}, mixes {listed} letters, as look-alike domains do "
            f"(its ASCII form is {address.rpartition('@')[2]}). Please check that it is the address you meant.")


def _formula_like(value: str) -> bool:
    """A value a spreadsheet could run: it starts (after any single quotes) with = + - @, a tab or a CR."""
    start = value.lstrip("'")[:1]
    return bool(start) and start in _FORMULA_START


def csv_cell(value: str) -> str:
    """A value as a CSV cell that spreadsheets show as text: a single quote prefixed when it looks like a formula.
    Values that start with quotes before such a character get one more, so that csv_value is its exact inverse."""
    return "'" + value if _formula_like(value) else value


def csv_value(cell: str) -> str:
    """The value of a cell written by csv_cell: the one quote csv_cell added is removed, nothing else."""
    return cell[1:] if cell.startswith("'") and _formula_like(cell[1:]) else cell


def _preferences(record: list[str], columns: dict[str, int]) -> dict[str, str | None]:
    """The optional columns documents ('*' or 'privacy,terms'), changes, language and confirmed of one record."""
    def cell(name: str) -> str | None:
        index = columns.get(name, -1)
        return record[index].strip() if 0 <= index < len(record) else None

    documents, changes, language, confirmed = (cell(n) for n in ("documents", "changes", "language", "confirmed"))
    if documents is not None:
        documents = documents.replace(" ", "") or "*"
        if not _DOCUMENTS.match(documents):
            raise InvalidAddress(f"documents must be * or document ids like privacy,terms, not '{documents}'")
        documents = documents if documents == "*" else "," + ",".join(sorted(set(documents.split(",")))) + ","
    if changes is not None and (changes or "material") not in CHANGES:
        raise InvalidAddress(f"changes must be material or all, not '{changes}'")
    if language and not _LANGUAGE.match(language):
        raise InvalidAddress(f"language must be a language code like de or pt-BR, not '{language}'")
    if confirmed and not _TIMESTAMP.match(confirmed):
        raise InvalidAddress(f"confirmed must be a time like 2026-01-31T12:00:00Z, not '{confirmed}'")
    return {"documents": documents, "changes": None if changes is None else changes or "material",
            "language": language or None, "confirmed": confirmed or None}


def parse_csv(data: bytes | str, filename: str) -> tuple[list[CsvRow], list[str]]:
    """The subscribers of a CSV file, and every bad row as 'FILE:LINE: message'.

    The first row is a header when it has no @ in its first cell: then the columns named email (or
    address), name, subscribed (the date of consent, kept on import), documents, changes, language and
    confirmed are used and any others ignored, so an `export` reads back (and an older export, or a file of
    two columns, still reads: the preferences are then left as they are). Without a header the columns are
    email, name. Blank rows are skipped; addresses repeated in the file are merged (first spelling, last name
    given). A cell neutralised by csv_cell is read back to its value.
    """
    rows: dict[str, CsvRow] = {}
    columns: dict[str, int] = {}
    problems: list[str] = []
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        return [], [f"{filename}:{line}: not UTF-8 (save the file as UTF-8 CSV)"]
    reader = csv.reader(io.StringIO(text, newline=""))
    email_col, name_col, since_col, first, line = 0, 1, -1, True, 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            record = [csv_value(cell) for cell in record]
            if first and "@" not in record[0]:
                first = False
                header = [cell.strip().lower() for cell in record]
                email_col = next((header.index(n) for n in ("email", "address", "e-mail") if n in header), -1)
                name_col = header.index("name") if "name" in header else -1
                since_col = header.index("subscribed") if "subscribed" in header else -1
                columns = {n: header.index(n) for n in ("documents", "changes", "language", "confirmed")
                           if n in header}
                if email_col < 0:
                    problems.append(f"{filename}:{start}: the header row has no 'email' column")
                    return [], problems
                continue
            first = False
            try:
                email = normalise_address(record[email_col] if email_col < len(record) else "")
                name = normalise_name(record[name_col] if 0 <= name_col < len(record) else "")
                since = record[since_col].strip() if 0 <= since_col < len(record) else ""
                since = subscribed_time(since) if since else ""
                more = _preferences(record, columns)
            except InvalidAddress as exc:
                problems.append(f"{filename}:{start}: {exc}")
                continue
            previous = rows.get(email.lower())
            kept = previous or CsvRow(email, name, since or None)
            rows[email.lower()] = CsvRow(kept.email, name or kept.name, kept.subscribed, more["documents"],
                                         more["changes"], more["language"], more["confirmed"])
    except csv.Error as exc:
        problems.append(f"{filename}:{line}: not valid CSV: {exc}")
    return list(rows.values()), problems


def subscribed_time(value: str) -> str:
    """A subscription time as the ledger stores it (2026-01-31T12:00:00Z); InvalidAddress for anything else."""
    value = value.strip()
    if not _TIMESTAMP.match(value):
        raise InvalidAddress(f"subscribed must be a time like 2026-01-31T12:00:00Z, not '{value[:40]}'")
    return value
