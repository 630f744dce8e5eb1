"""A plain `mkdocs build` (or `mkdocs gh-deploy`) with the policy plugin is published whole too (site/publish.py).

`policy build` stages its own builds. When MkDocs itself runs the build, the plugin does the same with MkDocs'
events: in `on_config` it takes the build lock and points site_dir at an empty staging folder (MkDocs then writes
everything there); last in `on_post_build`, after every other plugin wrote its files, the folder is switched with
site_dir — unless the build counted warnings under `strict: true`, which MkDocs turns into a failure right after
that event; then, and in `on_build_error`, the staging folder is removed and site_dir is left as it was. site_dir is
given back to the config afterwards (gh-deploy pushes it). A `--dirty` build keeps MkDocs' own behaviour (it
writes only what changed, into site_dir itself), and `mkdocs serve` builds into a folder of its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.utils import CountHandler

from ...settings import Settings
from ..manifest import write_manifest
from ..publish import BuildLock, Staging


class PlainBuild:
    """The staging of one build that MkDocs runs itself."""

    def __init__(self, config: Any, settings: Settings) -> None:
        self.config = config
        self.site_url = settings.site_url
        self.lock = BuildLock(settings.cache_dir).acquire()
        try:
            self.staging = Staging(Path(config.site_dir), settings.cache_dir, fresh=True)
            self.final = config.site_dir
            config.site_dir = str(self.staging.begin())
        except BaseException:
            self.lock.release()
            raise
        self.warnings = CountHandler()
        self.warnings.setLevel(logging.WARNING)
        if config.strict:
            logging.getLogger("mkdocs").addHandler(self.warnings)

    def finish(self) -> None:
        """Last in on_post_build: publish, unless strict mode is about to fail the build."""
        try:
            if self.warnings.get_counts():
                self.staging.discard()
            else:
                write_manifest(Path(self.config.site_dir), self.site_url)  # last: every file with its sha256
                self.staging.publish()
        finally:
            self._end()

    def fail(self) -> None:
        try:
            self.staging.discard()
        finally:
            self._end()

    def _end(self) -> None:
        logging.getLogger("mkdocs").removeHandler(self.warnings)
        self.config.site_dir = self.final
        self.lock.release()
