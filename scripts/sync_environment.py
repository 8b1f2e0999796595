"""Rewrite environment.yml from the pins in pyproject.toml (tests/test_environment.py checks they agree)."""

import tomllib
from pathlib import Path

root = Path(__file__).resolve().parents[1]
project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
lines = [
    "# Conda environment with the same pins as pyproject.toml (tests/test_environment.py checks they agree).",
    "# Regenerate with: python scripts/sync_environment.py",
    "# conda env create -f environment.yml && conda activate har && pip install -e '.[notebook,dev]' --no-deps",
    "name: har", "channels:", "  - conda-forge", "dependencies:", "  - python=3.11", "  - pip", "  - pip:",
]
lines += [f"      - {d}" for d in deps]
(root / "environment.yml").write_text("\n".join(lines) + "\n")
print(f"wrote {root / 'environment.yml'} with {len(deps)} pins")
