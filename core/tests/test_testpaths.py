"""Every app's tests run in `make test`: pytest collects only the ``testpaths`` of
pyproject.toml, so an app whose tests/ is missing there would be silently skipped."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_tests_directory_is_collected():
    testpaths = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {path.parent.name for path in ROOT.glob("*/tests") if (path / "__init__.py").exists()}
    assert with_tests - testpaths == set()
