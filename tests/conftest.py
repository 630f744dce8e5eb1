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
