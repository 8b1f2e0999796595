"""The seeds benchmark keeps earlier rows only when they were trained on the same synthetic dataset."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_demo_seeds.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_demo_seeds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kept_rows_drop_other_models_of_another_dataset_version(tmp_path, capsys):
    path = tmp_path / "demo_seeds_cpu.json"
    rows = [{"model": "i3d", "seed": 0, "data_version": "v2"}, {"model": "c3d", "seed": 0, "data_version": "v2"},
            {"model": "lrcn", "seed": 0, "data_version": "v1"}, {"model": "vivit", "seed": 0}]
    path.write_text(json.dumps({"runs": rows}))
    kept = _bench().kept_rows(path, {"i3d"}, "v2")
    assert kept == [{"model": "c3d", "seed": 0, "data_version": "v2"}]  # i3d is rerun; lrcn, vivit: other data
    assert "dropping 2 earlier runs" in capsys.readouterr().out
    assert _bench().kept_rows(tmp_path / "missing.json", set(), "v2") == []
