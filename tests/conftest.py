"""The test support's fixtures for every test module, as pytest plugins (the modules of tests/support/); helpers are
imported from there by name (`from tests.support.project import Project, run_policy`)."""

import pytest

# a support helper's failed assert shows its values, as in a test module
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.project",
    "tests.support.pg",
    "tests.support.service",
    "tests.support.browser",
    "tests.support.notify",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files marked `long` (a minute or more) run first: `--dist loadfile` hands files out in this order, so the
    workers end together instead of one starting a long file last (the longest, `scale`, goes first of all). Only
    the order changes, never what runs."""
    items.sort(key=lambda item: (item.get_closest_marker("long") is None, item.get_closest_marker("scale") is None))
