"""The pins in pyproject.toml and environment.yml agree, the setup script is keyed on them, and every run records
the machine it ran on."""

import tomllib

import yaml
from conftest import REPO


def _pyproject_pins() -> set[str]:
    """The package's pins and its extras' (notebook, dev)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {d.split("#")[0].strip() for d in project["dependencies"]} | {
        d for extra in project["optional-dependencies"].values() for d in extra}


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


def test_dependencies_are_split_into_runtime_notebook_and_dev():
    """The package needs no notebook server, test runner or linter; both README commands install every extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {d.split("==")[0].lower() for d in project["dependencies"]}
    assert not runtime & {"papermill", "jupyterlab", "pytest", "hypothesis", "ruff", "torchmetrics"}
    assert set(project["optional-dependencies"]) == {"notebook", "dev"}
    assert "[notebook,dev]" in (REPO / "scripts" / "setup_env.sh").read_text()


def test_runs_record_the_processor_their_timings_and_results_came_from(tmp_path):
    import platform

    from harutils.runtime import cpu_model, environment

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n")
    assert cpu_model(str(info)) == "Intel(R) Xeon(R) Platinum 8480+"
    env = environment()
    assert isinstance(env["cpu_capability"], str) and env["cpu_capability"]  # e.g. AVX512, AVX2, DEFAULT
    assert isinstance(env["cpu"], str) and env["cpu_count"] >= 1
    assert cpu_model(str(tmp_path / "missing")) == platform.processor()  # no cpuinfo: what Python knows


def test_the_machine_speed_yardstick_measures_for_its_time_and_leaves_the_random_state():
    import time

    import torch

    from harutils.runtime import reference_speed

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    start = time.perf_counter()
    speed = reference_speed(0.2)
    elapsed = time.perf_counter() - start
    assert 0 < speed < float("inf") and elapsed >= 0.2  # measured for its time (a slow step may outlast it)
    assert torch.equal(torch.rand(3), expected)
