"""The wheel and the sdist carry the built-in templates (the top-level templates/ folder) inside the package.

In a source checkout the package finds templates/ beside scripts/ (settings.builtin_templates); an installed
package has them as policy_site/templates. Everything else is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SKIP = {"__pycache__", ".DS_Store"}


class BuildWithTemplates(build_py):
    """build_py that also copies templates/ into the built package as policy_site/templates."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads templates/ from the checkout
            return
        source = HERE / "templates"
        if not (source / "pages").is_dir():  # building from an sdist unpacked elsewhere: MANIFEST.in put it here
            raise SystemExit(f"templates/ is missing beside setup.py ({source})")
        target = Path(self.build_lib) / "policy_site" / "templates"
        for path in sorted(source.rglob("*")):
            parts = path.relative_to(source).parts
            if path.is_file() and not SKIP.intersection(parts) and not path.name.endswith(".pyc"):
                self.mkpath(str(target.joinpath(*parts[:-1])))
                self.copy_file(str(path), str(target.joinpath(*parts)), preserve_mode=False)


setup(cmdclass={"build_py": BuildWithTemplates})
