"""The package, tests, benchmarks, scripts and the notebooks' cells pass ruff (settings in pyproject.toml)."""

import subprocess
import sys

from conftest import REPO


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "harutils", "tests", "benchmarks", "scripts",
                             "notebooks"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
