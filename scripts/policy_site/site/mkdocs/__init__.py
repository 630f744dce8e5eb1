"""Everything that touches MkDocs: the `policy` plugin and its events (plugin.py), the page cache's MkDocs side
(page_cache.py, page_key.py, listed.py, parallel.py), the output kept between builds (site_output.py), a plain
`mkdocs build` staged (staged_build.py), the theme's files (theme.py) and running MkDocs' own commands
(commands.py). The rest of the package never imports MkDocs."""
