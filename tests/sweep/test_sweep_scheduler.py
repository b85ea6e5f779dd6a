"""A sweep through ``--scheduler`` on `dask scheduler` and `dask worker` processes."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from engine.cli import main  # noqa: E402
from engine.history.runs import list_runs  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """`dask scheduler` and one `dask worker` on 127.0.0.1; always stopped after the test."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1",
             "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
             "--local-directory", str(tmp_path)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address
    finally:
        for p in reversed(procs):             # SIGTERM lets the worker's nanny stop its process
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_sweep_runs_on_an_existing_cluster(dask_cluster, tmp_path, capsys):
    small = ["--source", "sample", "--train", "300", "--epochs", "1"]
    table = tmp_path / "remote.csv"
    code = main(["sweep", *small, "--seeds", "5-6", "--scheduler", dask_cluster, "--workers", "1",
                 "--out", str(table), "--json", "--no-plots", "--runs-dir", str(tmp_path / "history")])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert f"the cluster at {dask_cluster}" in "\n".join(out)
    runs = json.loads(out[-1])["runs"]
    assert [r["seed"] for r in runs] == [5, 6]
    # the client recorded both runs in its runs folder, the final models sent back by the worker
    recorded, _ = list_runs(tmp_path / "history")
    assert sorted(r.settings["seed"] for r in recorded) == [5, 6]
    assert {r.sweep for r in recorded} == {json.loads(out[-1])["sweep"]}
    assert all((r.path / "model.npz").is_file() for r in recorded)
    assert main(["train", *small, "--seed", "6", "--json"]) == 0
    alone = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert runs[1]["percent_correct"] == alone["percent_correct"]
    assert runs[1]["test_error"] == alone["test_error"]
    assert runs[1]["train_error"] == alone["train_error"]
    assert table.exists()
