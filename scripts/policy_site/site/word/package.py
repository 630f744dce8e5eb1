"""The .docx package: python-docx's elements made fast, text XML can hold, core properties and a reproducible
zip (site/word/redline.py writes the document)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import docx
from docx.oxml import OxmlElement as _OxmlElement
from docx.oxml.ns import qn
from docx.oxml.parser import oxml_parser

from ...source.model import Policy

Element = Any  # an lxml element of python-docx's oxml
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAGS: dict[str, tuple[str, dict[str, str]]] = {}


def OxmlElement(tag: str) -> Element:  # noqa: N802 - python-docx's name, which it stands in for
    """python-docx's OxmlElement, its tag's name worked out once (a redline makes tens of thousands of elements)."""
    found = _TAGS.get(tag)
    if found is None:
        sample = _OxmlElement(tag)
        found = _TAGS[tag] = (sample.tag, dict(sample.nsmap))
    return oxml_parser.makeelement(found[0], nsmap=found[1])


def xml_text(text: str) -> str:
    """Text XML can hold: every character XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates,
    U+FFFE/U+FFFF) becomes U+FFFD."""
    return _FORBIDDEN.sub("\ufffd", text)


def _page_break() -> Element:
    br = OxmlElement("w:br")
    br.set(qn("w:type"), "page")
    return br


def _core(document: docx.document.Document, policy: Policy, author: str, when: datetime) -> None:
    core = document.core_properties
    stamp = when.astimezone(UTC).replace(tzinfo=None)
    core.author = core.last_modified_by = xml_text(author)
    core.title = xml_text(f"{policy.title}: changes in version {policy.version}")
    core.subject = core.keywords = core.category = core.comments = core.content_status = ""
    core.identifier = core.language = core.version = ""
    core.created = core.modified = stamp
    core.last_printed = stamp
    core.revision = 1


def _reproducible_zip(data: bytes, when: datetime) -> bytes:
    """The package's entries sorted, each dated `when` (at least 1980, zip's epoch), with fixed attributes; the
    template's thumbnail left out (it pictures an empty page)."""
    stamp = max(when.astimezone(UTC).replace(tzinfo=None), datetime(1980, 1, 1))
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in sorted(source.namelist()):
            if name == "docProps/thumbnail.jpeg":
                continue
            body = source.read(name)
            if name == "_rels/.rels":
                body = re.sub(rb'<Relationship [^>]*thumbnail\.jpeg"/>', b"", body)
            if name == "[Content_Types].xml":
                body = body.replace(b'<Default Extension="jpeg" ContentType="image/jpeg"/>', b"")
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, body)
    return out.getvalue()

