"""Whose policy it is, in words: a document's title with its organisation's name ("Acme Widgets privacy policy").

Used where a reader may hold several organisations' notices side by side — the site's name that `policy init`
and `policy import --git` write, mail subjects — so that nothing says only "Privacy policy".
"""

from __future__ import annotations


def named_title(organisation: str, title: str) -> str:
    """title with the organisation in front, unless the title names it already. A title in sentence case
    ("Privacy policy") is lower-cased after the name; one with other capitals ("Terms of Service") is kept."""
    organisation, title = " ".join(organisation.split()), " ".join(title.split())
    if not organisation or organisation.casefold() in title.casefold():
        return title
    words = title.split(" ")
    sentence_case = words[0][:1].isupper() and words[0][1:].islower() and not any(w[:1].isupper() for w in words[1:])
    return f"{organisation} {title[:1].lower() + title[1:] if sentence_case else title}"
