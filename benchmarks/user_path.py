"""What the speed benchmarks share: the user's path (``digitlab train`` in a fresh process),
the machine's GEMM peak, and the flops of one training image.

- :func:`cli_train` runs ``python -m engine train ... --json`` as a user would (recording the
  run into a temporary runs folder) and returns the figures of its JSON line.
- :func:`gemm_peak` measures this machine's matrix-product speed through NumPy's BLAS, on one
  thread or on all of them: the "peak" the engine's figures are compared with.
- :func:`training_flops` counts the floating-point operations of one training image.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["cli_train", "data_arguments", "gemm_peak", "training_flops", "load_line"]


def load_line() -> str:
    """The machine's load averages and core count, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def data_arguments(path: str | None) -> list[str]:
    """The command line's data options: ``--data path``, or the bundled sample without one."""
    return ["--data", path] if path else ["--source", "sample"]


def cli_train(arguments: list[str], timeout: float = 3600) -> dict:
    """Run ``digitlab train`` (``python -m engine train``) with ``arguments`` in a fresh process.

    The run is recorded into a temporary runs folder (snapshots, run record and tests on, as
    for a user). Returns the JSON object of its last line with ``process_seconds`` added
    (the whole process, start-up and data loading included) and ``max_rss_mb`` (its peak
    resident memory).

    Raises
    ------
    RuntimeError
        When the command fails (its last lines of output are in the message).
    """
    with tempfile.TemporaryDirectory(prefix="digitlab-bench-") as runs:
        cmd = [sys.executable, "-c", _CHILD, "train", *arguments, "--json", "--runs-dir", runs]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - t0
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"digitlab train {' '.join(arguments)} failed ({done.returncode}):\n{tail}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_seconds"] = seconds
    out["max_rss_mb"] = float(done.stderr.strip().splitlines()[-1].split()[-1]) / 1024
    return out


#: The child process: the command line, then its peak memory (KiB) on the last line of stderr.
_CHILD = ("import resource, sys\n"
          "from engine.cli import main\n"
          "status = main(sys.argv[1:])\n"
          "print('max_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
          "sys.exit(status)\n")


def gemm_peak(dtype, threads: int | None = None, n: int = 1536, repeats: int = 5) -> float:
    """GFLOP/s of NumPy's ``n x n`` matrix product in ``dtype`` (best of ``repeats``).

    ``threads``: BLAS threads (None: BLAS's default, every core), limited through
    threadpoolctl (one of the project's dependencies).
    """
    rng = np.random.default_rng(0)
    a = rng.random((n, n)).astype(dtype)
    b = rng.random((n, n)).astype(dtype)
    from threadpoolctl import threadpool_limits
    limit = threadpool_limits(limits=threads, user_api="blas") if threads else None
    try:
        a @ b
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    finally:
        if limit is not None:
            limit.restore_original_limits()
    return 2.0 * n ** 3 / best / 1e9


def training_flops(kernels: int = 9, kernel_size: int = 8, hidden: int = 100, classes: int = 10,
                   image: int = 28) -> dict:
    """Floating-point operations (a multiply-add is 2) of one image's forward and backward pass.

    ``model``: the usual count, the convolution's kernel gradient taken as a full
    convolution (what a framework computes); ``needed``: only the winning kernel at each
    position gets a gradient after the maximum over kernels, so only its windows are
    multiplied (what the engine computes). The convolution's input gradient is not needed.
    """
    P = (image - kernel_size + 1) ** 2
    conv = 2 * kernels * P * kernel_size ** 2
    dense = 2 * P * hidden + 2 * hidden * classes
    return {"forward": conv + dense,
            "model": 2 * conv + 3 * dense,
            "needed": conv + 2 * P * kernel_size ** 2 + 3 * dense}
