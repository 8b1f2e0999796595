"""Time to generate the default synthetic datasets (both layouts) on this machine.

    .venv/bin/python benchmarks/bench_synthetic.py   # writes benchmarks/results/synthetic.json
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from harutils import results
from harutils.data import synthetic as S


def main() -> int:
    figures = {"layouts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("ucf101", "hmdb51"):
            start = time.perf_counter()
            root = S.generate(layout, Path(tmp) / layout, progress=False, **S.DEFAULTS[layout])
            seconds = time.perf_counter() - start
            videos = list(root.rglob("*.avi"))
            figures["layouts"][layout] = {
                "seconds": round(seconds, 1), "videos": len(videos), "classes": len(S.LAYOUTS[layout]["classes"]),
                "megabytes": round(sum(v.stat().st_size for v in videos) / 2**20, 1), **S.DEFAULTS[layout]}
            print(layout, figures["layouts"][layout])
    out = Path(__file__).parent / "results" / "synthetic.json"
    results.write_benchmark(out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
