"""Which reader a document needs, by its file name: Markdown, HTML or Word (.docx, through mammoth, whose
HTML goes through the HTML reader). Bytes that are not what the name says are one clear error."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from ..errors import UserError
from .doc import Doc, Note

MARKDOWN = (".md", ".markdown", ".mdown", ".mkd", ".mdx")
HTML = (".html", ".htm", ".xhtml")
WORD = (".docx",)
KNOWN = ", ".join(MARKDOWN[:2] + HTML[:2] + WORD)
# Word styles mammoth does not map by default: the title, captions (a table's caption), quotes
STYLE_MAP = """
p[style-name='Title'] => h1:fresh
p[style-name='Subtitle'] => p:fresh
p[style-name='Caption'] => p.caption:fresh
p[style-name='caption'] => p.caption:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
""" + "".join(  # Word's list styles by level ("List Bullet 2"): mammoth reads numbering, not these styles' levels
    f"p[style-name='List {name}{'' if level == 1 else f' {level}'}'] => "
    f"{'ul|ol > li > ' * (level - 1)}{tag} > li:fresh\n"
    for name, tag in (("Bullet", "ul"), ("Number", "ol")) for level in range(1, 6))


def kind_of(name: str) -> str:
    """'markdown', 'html' or 'word'; UserError for anything else."""
    suffix = PurePath(name).suffix.lower()
    for kind, suffixes in (("markdown", MARKDOWN), ("html", HTML), ("word", WORD)):
        if suffix in suffixes:
            return kind
    if suffix == ".doc":
        raise UserError(f"{name}: an old Word .doc file cannot be read; save it as .docx (Word: File › Save As) "
                        "and import that")
    raise UserError(f"{name}: unknown file type '{suffix or '(none)'}'; import a Markdown ({', '.join(MARKDOWN[:2])}), "
                    f"HTML ({', '.join(HTML[:2])}) or Word (.docx) file")


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # the usual encoding of old saved pages and Windows text files
    except UnicodeDecodeError:
        raise UserError(f"{name}: not UTF-8 text; save it as UTF-8 and import again") from None


def read_document(name: str, data: bytes) -> Doc:
    """The document in a file's bytes, read as its name says."""
    kind = kind_of(name)
    if kind == "markdown":
        from .markdown import read_markdown
        return read_markdown(_text(name, data))
    if kind == "html":
        from .html import read_html
        return read_html(_text(name, data))
    return _read_word(name, data)


def _read_word(name: str, data: bytes) -> Doc:
    import mammoth

    from .html import read_html
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UserError(f"{name}: not a Word .docx file (it is not a zip archive); save it from Word as .docx")
    try:
        result = mammoth.convert_to_html(io.BytesIO(data), style_map=STYLE_MAP)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{name}: Word could not be read ({exc.__class__.__name__}: {exc}); open it in Word and "
                        "save it again as .docx") from None
    doc = read_html(f"<html><body><main>{result.value}</main></body></html>", paragraphs=True)
    for message in result.messages:
        text = message.message
        if text.startswith("Unrecognised run style") or (text.startswith("Unrecognised paragraph style")
                                                          and "List" not in text):
            continue  # a style of formatting only (Hyperlink, Strong, a company style): the words are all kept
        if text.startswith("Unrecognised paragraph style"):
            text += " — its list level is lost: those items import at the level of the list around them"
        doc.notes.append(Note(0, f"Word: {text}"))
    return doc
