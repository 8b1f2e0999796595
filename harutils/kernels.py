"""Kernels for the series runner, each started one notebook ahead.

A notebook's first seconds go to starting its kernel and importing torch, torchvision, pandas, seaborn and harutils
(several seconds of one core). :class:`NotebookKernel` starts the next notebook's kernel and runs those imports in
it while the current notebook runs; the next notebook then starts at once. On 2 cores the imports do not run for
free: they share the cores with the current notebook's first training epoch, which they slow by about as much as
they save (on the demo, a notebook takes about as long with the warm-up as without it). The imports leave no name
behind (they run silently, outside the history, in a namespace of their own): the notebook still runs from its first
cell, in a fresh namespace, and imports what it uses itself.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from jupyter_client.manager import KernelManager

from . import runtime

# what every notebook of the series imports first (modules only: imports never change a run's numbers), in a
# namespace of its own: the notebook's namespace gets no name from it, so a notebook that forgot an import fails in
# the series as it would alone
WARM_UP = 'exec("import matplotlib.pyplot, pandas, seaborn, torch, torchvision, harutils.experiment, harutils.viz", {})'
# the kernel's log at ERROR only: its one warning (TCP on localhost without encryption) tells a user nothing
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


class _ClosingKernelManager(KernelManager):
    """A kernel manager that closes the clients it handed out when the kernel stops: papermill leaves the client of
    a kernel it did not start open."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.clients = []

    def client(self, **kwargs):
        self.clients.append(super().client(**kwargs))
        return self.clients[-1]

    def close_clients(self) -> None:
        for made in self.clients:
            if made.channels_running:
                made.stop_channels()


class NotebookKernel:
    """A python3 kernel started in ``cwd`` for one notebook, its progress lines going to ``progress_file``
    (:func:`harutils.runtime.report_progress`), importing :data:`WARM_UP` in the background.

    Use :meth:`ready` before handing :attr:`manager` to papermill, and :meth:`stop` after (it is stopped at once:
    by then every output is in and every run has closed its files; a graceful exit, the interpreter unloading
    torch, took 2-3 s).
    """

    def __init__(self, cwd: Path, progress_file: str, warm_up: str = WARM_UP):
        self.progress_file = progress_file
        self.manager = _ClosingKernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env={**os.environ, runtime.PROGRESS_FILE: progress_file},
                                  extra_arguments=KERNEL_ARGUMENTS)
        self.warm_up_error: str | None = None
        self._thread = threading.Thread(target=self._warm_up, args=(warm_up,), daemon=True)
        self._thread.start()

    def _warm_up(self, code: str) -> None:
        client = self.manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            reply = client.execute_interactive(code, silent=True, store_history=False, timeout=300)
            if reply["content"]["status"] != "ok":
                self.warm_up_error = f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
        except Exception as exc:  # a kernel that did not start or answer: the notebook's own run will say why
            self.warm_up_error = f"{type(exc).__name__}: {exc}"
        finally:
            client.stop_channels()

    def ready(self) -> bool:
        """Wait for the imports; False (with :attr:`warm_up_error`) when they failed or the kernel died."""
        self._thread.join()
        if self.warm_up_error is None and not self.manager.is_alive():
            self.warm_up_error = "the kernel died while importing"
        return self.warm_up_error is None

    def stop(self) -> None:
        self._thread.join(timeout=5)
        self.manager.close_clients()
        if self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)
