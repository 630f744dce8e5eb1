"""`policy import`: an existing policy (Markdown, HTML or Word) or the git history of one, into the YAML format."""
