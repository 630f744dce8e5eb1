"""Two versions → section changes, word-level redlines, and their text, Markdown, HTML and JSON forms."""
