"""Run the notebook series headless and render the report.

``python -m harutils.series [--profile demo|full] [--ucf101 DIR] [--hmdb51 DIR] [--device cuda] [--only 03,07]
[--failfast]`` executes ``notebooks/NN_*.ipynb`` with papermill into ``reports/executed/``, renders each to
``reports/NN_*.html`` with nbconvert (the parameters cells hidden), and writes ``reports/index.html``: the results
table, each notebook's status, run time and key metrics, and links. ``run_all.sh`` calls it after setting up.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from . import runtime
from .index_page import write_index
from .kernels import KERNEL_ARGUMENTS, NotebookKernel
from .recipes import RECIPES
from .results import REPO

HIDDEN_TAGS = {"parameters", "injected-parameters", "hide-input"}


def discover(only: list[str] | None = None) -> list[Path]:
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        notebooks = [nb for nb in notebooks if nb.name[:2] in only]
    return notebooks


def declared_parameters(nb: Path) -> set[str]:
    """Names assigned in a notebook's ``parameters`` cell (papermill's own inspection misses ``int | None``)."""
    for cell in nbformat.read(nb, as_version=4).cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return set(re.findall(r"^(\w+)\s*(?::[^=]*)?=", cell.source, re.M))
    return set()


def _parameters_for(nb: Path, args) -> dict:
    declared = declared_parameters(nb)
    wanted = {"profile": args.profile, "recipe": getattr(args, "recipe", None),
              "weights_dir": getattr(args, "weights", None), "device": args.device, "epochs": args.epochs,
              "out_dir": args.out_dir,
              "data_dir": args.data_dir, "reports_dir": str(Path(args.reports).resolve()),
              "reference_csv": str(Path(args.reference).resolve()) if getattr(args, "reference", None) else None}
    if args.ucf101:
        wanted["data_root"] = args.ucf101
    if args.hmdb51:
        wanted["joint_root"] = args.hmdb51
    return {k: v for k, v in wanted.items() if k in declared and v is not None}


def render_html(executed: Path, out: Path) -> Path:
    """nbconvert HTML of an executed notebook, hiding the parameters cells' code, titled by the notebook's first
    heading, with links to the report's index and to the previous and next notebooks of the series."""
    exporter = HTMLExporter()
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags=HIDDEN_TAGS, enabled=True), True)
    notebook = nbformat.read(executed, as_version=4)
    heading = notebook.cells[0].source.splitlines()[0].lstrip("# ") if notebook.cells else executed.stem
    notebook.metadata.pop("widgets", None)  # no widget renderer to fetch: the pages are static
    for cell in notebook.cells:  # progress-bar widgets belong on the console, not in the report
        cell["outputs"] = [o for o in cell.get("outputs", []) if WIDGET_VIEW not in o.get("data", {})]
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": heading}})
    body = offline(body)
    out.write_text(re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _navigation(executed.stem), body, count=1),
                   encoding="utf-8")
    return out


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def offline(page: str) -> str:
    """A rendered page without the scripts nbconvert's template fetches from the network (require.js, MathJax,
    mermaid, the widget renderer): the series' pages use none of them, and offline they would leave gaps."""
    return _SCRIPT.sub(lambda m: "" if re.search(r"https?://", m.group(0)) else m.group(0), page)


def _navigation(stem: str) -> str:
    """A line of links: the index, the previous and the next notebook of the series."""
    stems = [nb.stem for nb in discover()]
    links = ['<a href="index.html">report index</a>']
    if stem in stems:
        i = stems.index(stem)
        if i > 0:
            links.insert(0, f'<a href="{stems[i - 1]}.html">&larr; {html.escape(stems[i - 1])}</a>')
        if i + 1 < len(stems):
            links.append(f'<a href="{stems[i + 1]}.html">{html.escape(stems[i + 1])} &rarr;</a>')
    return f'<nav class="series" style="margin:1rem 2rem;font-family:sans-serif">{" | ".join(links)}</nav>'



def _earlier_entries(reports: Path, profile: str, rerun: set[str]) -> list[dict]:
    """Entries of the last run log for notebooks not being rerun, when they ran on the same profile."""
    path = reports / "run_log.json"
    if not path.is_file():
        return []
    return [e for e in json.loads(path.read_text())
            if e["notebook"] not in rerun and e.get("parameters", {}).get("profile") == profile]


class _DeclaredParametersOnly(logging.Filter):
    """Drops papermill's "Passed unknown parameter" warning: its inspection cannot read annotations such as
    ``int | None`` and so warns about parameters the notebook does declare (``epochs``), while
    :func:`_parameters_for` passes only the names a notebook's parameters cell assigns."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter")


def quiet_papermill_parameter_warnings() -> None:
    log = logging.getLogger("papermill")
    if not any(isinstance(f, _DeclaredParametersOnly) for f in log.filters):
        log.addFilter(_DeclaredParametersOnly())


def run_series(args) -> int:
    quiet_papermill_parameter_warnings()

    reports = (REPO / args.reports).resolve()
    executed_dir = reports / "executed"
    executed_dir.mkdir(parents=True, exist_ok=True)
    out_dir = Path(args.out_dir).resolve() if args.out_dir else REPO / "artifacts"
    notebooks = discover(args.only)
    if not notebooks:
        print("run_all: no notebooks to run")
        return 0
    # kernels inherit this environment: inline figures (not a headless Agg backend) and no text progress bars,
    # which would fill the rendered HTML with walls of carriage-return lines
    os.environ.pop("MPLBACKEND", None)
    os.environ["TQDM_DISABLE"] = "1"
    # --only reruns some notebooks: the others keep their last entry (same profile), so the index still lists all
    log = _earlier_entries(reports, args.profile, {nb.name for nb in notebooks}) if args.only else []
    previous = _last_times(reports)
    failed = []
    upcoming = None
    try:
        for n, nb in enumerate(notebooks, 1):
            # the machine's speed while no kernel of ours starts (a kernel importing beside it took it from 9 to 2)
            speed = runtime.reference_speed()
            # the next notebook's kernel starts and imports while this one runs
            kernel = upcoming if upcoming is not None else _start_kernel(nb)
            upcoming = _start_kernel(notebooks[n]) if n < len(notebooks) else None
            print(f"run_all: [{n}/{len(notebooks)}] {nb.stem} ...{_time_left(previous, notebooks[n - 1:])} "
                  f"(machine: {speed:.1f} reference steps/s)", flush=True)
            entry = {**_execute(nb, args, executed_dir / nb.name, reports, kernel), "reference_steps_per_s": speed}
            print(f"run_all: [{n}/{len(notebooks)}] {nb.stem} {entry['status']} in {entry['seconds']:.0f} s",
                  flush=True)
            if entry["status"] != "ok":
                failed.append(nb.name)
            log = sorted([e for e in log if e["notebook"] != nb.name] + [entry], key=lambda e: e["notebook"])
            (reports / "run_log.json").write_text(json.dumps(log, indent=2) + "\n")
            if failed and args.failfast:
                break
    finally:
        if upcoming is not None:
            _stop_kernel(upcoming)
    index = write_index(reports, log, out_dir, args.profile)
    print("run_all: summary (machine speed before each notebook: reference steps/s)\n"
          + "\n".join(f"  {e['notebook']:32s} {e['status']:7s} {e['seconds']:6.0f} s  {_speed(e)}" for e in log)
          + f"\nrun_all: report at {index}")
    if failed:
        print(f"run_all: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _speed(entry: dict) -> str:
    speed = entry.get("reference_steps_per_s")  # absent from logs written before it was measured
    return f"{speed:5.1f}" if speed is not None else "    -"


def _last_times(reports: Path) -> dict[str, float]:
    """Each notebook's run time in the last run log (for the estimate of what is left)."""
    path = reports / "run_log.json"
    return {e["notebook"]: e["seconds"] for e in json.loads(path.read_text())} if path.is_file() else {}


def _time_left(previous: dict[str, float], remaining: list[Path]) -> str:
    known = [previous[nb.name] for nb in remaining if nb.name in previous]
    if not known or len(known) < len(remaining):
        return ""
    return f" (about {sum(known) / 60:.0f} min left, from the last run's times)"


def _start_kernel(nb: Path) -> NotebookKernel:
    """A kernel for ``nb``, started now, with a fresh progress file (see :func:`_console_progress`)."""
    fd, path = tempfile.mkstemp(prefix="harutils_progress_", suffix=".log")
    os.close(fd)
    return NotebookKernel(nb.parent, path)


def _stop_kernel(kernel: NotebookKernel) -> None:
    kernel.stop()
    Path(kernel.progress_file).unlink(missing_ok=True)


@contextmanager
def _console_progress(path: str, every: float = 0.5):
    """While a notebook runs, print on this console the lines its kernel appends to ``path``
    (``runtime.report_progress``: one per training epoch), indented under the notebook's ``[n/N]`` line."""
    stop = threading.Event()

    def tail():
        with open(path, encoding="utf-8") as f:
            while True:
                line = f.readline()
                if line:
                    print(f"    {line.rstrip()}", flush=True)
                elif stop.is_set():
                    return
                else:
                    time.sleep(every)

    reader = threading.Thread(target=tail, daemon=True)
    reader.start()
    try:
        yield
    finally:
        stop.set()
        reader.join(timeout=5)


def _execute(nb: Path, args, target: Path, reports: Path, kernel: NotebookKernel) -> dict:
    """Execute one notebook with papermill on ``kernel`` (started ahead) and render it; the run-log entry says how
    it went. The notebook's time counts from here: a kernel still importing is waited for within it."""
    params = _parameters_for(nb, args)
    start = time.perf_counter()
    entry = {"notebook": nb.name, "executed": str(target), "parameters": params}
    own_kernel = {"km": kernel.manager} if kernel.ready() else {}
    if not own_kernel:
        kernel.stop()
        print(f"run_all: {nb.name}: the kernel started ahead is not usable ({kernel.warm_up_error}); papermill starts "
              "another", file=sys.stderr)
    try:
        with _console_progress(kernel.progress_file), \
                runtime.environment_variable(runtime.PROGRESS_FILE, kernel.progress_file):
            papermill.execute_notebook(str(nb), str(target), parameters=params, cwd=str(nb.parent),
                                       kernel_name="python3", progress_bar=False, log_output=False,
                                       extra_arguments=KERNEL_ARGUMENTS, shutdown_kernel="immediate", **own_kernel)
        entry["status"] = "ok"
    except Exception as exc:  # papermill raises PapermillExecutionError with the failing cell
        entry["status"] = "failed"
        entry["error"] = "".join(traceback.format_exception_only(type(exc), exc))[-2000:]
        print(f"run_all: {nb.name} FAILED; partial output in {target}\n{entry['error']}", file=sys.stderr)
    finally:
        _stop_kernel(kernel)
    entry["seconds"] = time.perf_counter() - start
    if target.is_file():
        entry["html"] = render_html(target, reports / f"{nb.stem}.html").name
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_all.sh", description="Run the notebook series and render the report.")
    parser.add_argument("--profile", choices=("demo", "full"), default="demo")
    parser.add_argument("--ucf101", default=None, help="UCF101 root (default: the synthetic dataset)")
    parser.add_argument("--hmdb51", default=None, help="HMDB51 root (default: the synthetic dataset)")
    parser.add_argument("--recipe", default=None, choices=RECIPES,
                        help="the full profile's recipe (default: reference, the report as published)")
    parser.add_argument("--weights", default=None,
                        help="folder of pretrained weight files (default: $HARUTILS_WEIGHTS)")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: the profile's)")
    parser.add_argument("--only", default=None, help="comma-separated notebook numbers, e.g. 03,07")
    parser.add_argument("--failfast", action="store_true", help="stop at the first failing notebook")
    parser.add_argument("--epochs", type=int, default=None, help="override every training's epochs (smoke runs)")
    parser.add_argument("--out-dir", default=None, help="artifacts folder (default: artifacts/)")
    parser.add_argument("--data-dir", default=None, help="generated data and caches (default: data/)")
    parser.add_argument("--reports", default="reports", help="where executed notebooks and HTML go")
    parser.add_argument("--reference", default=None,
                        help="CSV of the reference report's table (model,dataset,training,test top-1), shown in 10")
    args = parser.parse_args(argv)
    if args.only is not None:
        args.only = [x.strip().zfill(2) for x in args.only.split(",") if x.strip()]
        known = [nb.name[:2] for nb in discover()]
        unknown = [x for x in args.only if x not in known]
        if not args.only or unknown:
            parser.error(f"--only takes notebook numbers among {', '.join(known)}; got {unknown or 'none'}")
    # every path is taken relative to where the user typed it: the notebooks run inside notebooks/
    for name in ("out_dir", "data_dir", "reports", "ucf101", "hmdb51", "reference", "weights"):
        if getattr(args, name):
            setattr(args, name, str(Path(getattr(args, name)).resolve()))
    return run_series(args)


if __name__ == "__main__":
    sys.exit(main())
