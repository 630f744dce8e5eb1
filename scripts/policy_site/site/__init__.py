"""Everything the reader sees: the site model, pages, data files, feeds, the generator and the MkDocs plugin."""
