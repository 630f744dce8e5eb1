"""keys.software(): every library whose output lands in a cached file is in it, so upgrading any of them (WeasyPrint
for the PDFs, python-docx for the Word redlines included) changes every generated file's key and every document's
fingerprint (site/gencache.py builds both on it), and a warm build cannot keep a file the new library would write
differently."""

from __future__ import annotations

from importlib import metadata

import pytest

from policy_site import keys


@pytest.mark.parametrize("library", keys.RENDERING_LIBRARIES)
def test_a_new_version_of_any_rendering_library_changes_software(library: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    keys.software.cache_clear()
    before = keys.software()
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "999.0" if name == library else real(name))
    keys.software.cache_clear()
    try:
        assert keys.software() != before
    finally:
        keys.software.cache_clear()


def test_pdf_and_word_writers_are_rendering_libraries() -> None:
    assert set(keys.PDF_LIBRARIES) <= set(keys.RENDERING_LIBRARIES)
    assert {"weasyprint", "python-docx", "jinja2", "feedgen", "babel"} <= set(keys.RENDERING_LIBRARIES)
