"""The pins in pyproject.toml and environment.yml agree, and the setup script is keyed on them."""

import tomllib

import yaml
from conftest import REPO


def _pyproject_pins() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])


def _conda_pins() -> set[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip, "environment.yml has no pip: section"
    return set(pip[0]["pip"])


def test_every_dependency_is_pinned_exactly():
    for dep in _pyproject_pins():
        assert "==" in dep, f"{dep} is not pinned with =="


def test_environment_yml_matches_pyproject():
    ours, conda = _pyproject_pins(), _conda_pins()
    assert ours == conda, f"only in pyproject: {sorted(ours - conda)}; only in environment.yml: {sorted(conda - ours)}"


def test_environment_yml_python_matches():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_setup_is_keyed_on_the_dependency_spec():
    script = (REPO / "scripts" / "setup_env.sh").read_text()
    assert "pyproject.toml" in script and "sha256sum" in script
