"""Where a change's Word redline is published: its file name (versions.json lists its URL, compare.js reads it)."""


def word_name(old_version: str, new_version: str) -> str:
    """The file name of a change's Word redline, as the site publishes it."""
    return f"redline-{old_version}-to-{new_version}.docx"
