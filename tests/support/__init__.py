"""The tests' shared helpers and fixtures, one module a concern: project (a project copy, real git, `run_policy`),
site (builds compared byte for byte), diff, importing, library, failure (tmpfs), tsa, pg, service, browser, notify;
forkserver.py and libreoffice_review.py are scripts they start. tests/conftest.py registers the modules with fixtures
as pytest plugins."""
