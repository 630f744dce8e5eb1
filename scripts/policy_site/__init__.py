"""policy_site: a privacy policy kept as YAML in git, published as a site with versions, diffs, feeds and notices."""

__version__ = "0.1.0"
