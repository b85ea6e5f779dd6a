"""Sweeps that hang, lose rows or trip on bad input (issue 20, faults 1, 3, 4, 11, 12, 17, 18)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from engine.cli import main  # noqa: E402
from engine.sweep.recorded import SWEEP_FILE, SWEEPS, list_sweeps  # noqa: E402
from engine.sweep.table import add_rows, read_table  # noqa: E402
from tests.sweep.test_sweep_scheduler import _free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--source", "sample", "--train", "200", "--epochs", "1", "--no-plots", "--no-record"]


def _row(seed: int) -> dict:
    return {"seed": seed, "iterations": 1, "reason": "max_iter", "train_error": 0.5, "test_error": 0.4,
            "percent_correct": 50.0, "argmax_accuracy": 60.0, "train_seconds": 1.0,
            "images_per_second": 100.0, "train_images": 200, "data_source": "sample", "wall_seconds": 1.0,
            "key": json.dumps({"seed": seed, "mode": "article"}, sort_keys=True)}


# -- fault 1: two sweeps, one table ----------------------------------------------------------
def test_two_processes_adding_to_one_table_keep_every_row(tmp_path):
    table = tmp_path / "t.csv"
    code = ("import sys; from engine.sweep.table import add_rows; from tests.sweep.test_sweep_faults import _row\n"
            "start = int(sys.argv[1])\n"
            "for s in range(start, start + 25): add_rows(sys.argv[2], [_row(s)])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(start), str(table)], cwd=ROOT, env=env)
             for start in (0, 1000)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    df = read_table(table)
    assert sorted(df["seed"]) == list(range(25)) + list(range(1000, 1025))


def test_a_row_of_the_same_run_replaces_the_old_one(tmp_path):
    table = tmp_path / "t.csv"
    add_rows(table, [_row(1), _row(2)])
    again = dict(_row(2), test_error=0.1)
    df = add_rows(table, [again])
    assert len(df) == 2 and float(df.loc[df.seed == 2, "test_error"].iloc[0]) == 0.1


# -- fault 3: a scheduler address where something accepts but never answers -------------------
@pytest.mark.timeout(120)                      # before the fix: no output for minutes
def test_a_silent_scheduler_is_refused_within_the_wait(tmp_path, capsys):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)                       # accepts connections (the kernel does), never answers
        port = silent.getsockname()[1]
        code = main(["sweep", *SMALL, "--seeds", "0-1", "--scheduler", f"tcp://127.0.0.1:{port}",
                     "--wait", "2", "--out", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "nothing answered within 2 s" in err, err


@pytest.mark.parametrize("address", ["garbage://x", "tcp://no-port", "tcp://127.0.0.1:notaport"])
def test_a_bad_scheduler_address_is_one_line(tmp_path, capsys, address):
    code = main(["sweep", *SMALL, "--scheduler", address, "--wait", "2", "--out", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--scheduler" in err, err


# -- fault 4: a cluster with no workers --------------------------------------------------------
@pytest.fixture
def lonely_scheduler(tmp_path):
    """`dask scheduler` on 127.0.0.1 with no worker; stopped after the test."""
    port = _free_port()
    p = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                          str(port), "--no-dashboard"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the scheduler did not start"
                p.wait(timeout=0.2) if p.poll() is not None else time.sleep(0.2)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.timeout(180)                      # before the fix: waited with no message for minutes
def test_a_cluster_with_no_workers_is_noticed_and_the_runs_left_named(lonely_scheduler, tmp_path, capsys):
    code = main(["sweep", *SMALL, "--seeds", "3-4", "--scheduler", lonely_scheduler, "--wait", "3",
                 "--out", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "no worker for 3 s" in err and "2 runs left (seeds 3, 4)" in err
    assert "run the same command again" in err


# -- faults 11, 12: a bad table, a table that cannot be written -------------------------------
def test_resuming_a_table_with_a_non_numeric_cell_is_one_line_and_leaves_it(tmp_path, capsys):
    table = tmp_path / "t.csv"
    add_rows(table, [_row(0)])
    text = table.read_text().replace("0.4", "lots", 1)
    table.write_text(text)
    code = main(["sweep", *SMALL, "--seeds", "0-1", "--out", str(table)])
    err = capsys.readouterr().err
    assert code == 2 and "row 1, column test_error: 'lots' is not a number" in err, err
    assert table.read_text() == text


def test_a_parquet_table_without_pyarrow_is_refused_before_any_run(tmp_path, capsys):
    try:
        import pyarrow  # noqa: F401
        pytest.skip("pyarrow is installed")
    except ImportError:
        pass
    code = main(["sweep", *SMALL, "--seeds", "0-1", "--out", str(tmp_path / "t.parquet")])
    out, err = capsys.readouterr()
    assert code == 2 and "pyarrow" in err and "running" not in out


# -- fault 17: a plot named outside the sweep's folder ----------------------------------------
@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "..", "notes.txt", 5])
def test_a_sweep_record_naming_a_plot_elsewhere_is_refused(tmp_path, name):
    folder = tmp_path / SWEEPS / "s-1"
    folder.mkdir(parents=True)
    (folder / SWEEP_FILE).write_text(json.dumps({"id": "s-1", "created": 1, "plots": [name]}))
    sweeps, faults = list_sweeps(tmp_path)
    assert sweeps == [] and len(faults) == 1 and "plot" in faults[0]


def test_a_sweep_record_that_is_not_an_object_is_skipped(tmp_path):
    folder = tmp_path / SWEEPS / "s-1"
    folder.mkdir(parents=True)
    (folder / SWEEP_FILE).write_text("[]")
    assert list_sweeps(tmp_path)[0] == []


# -- fault 18: the local cluster opens no dashboard -------------------------------------------
def test_the_local_cluster_serves_no_dashboard_on_a_public_port():
    from engine.sweep.cluster import local_cluster
    with local_cluster(1) as cluster:
        http = cluster.scheduler.http_server
        assert cluster.scheduler.http_server.port != 8787
        assert all(s.getsockname()[0] == "127.0.0.1" for s in http._sockets.values())
        assert not any("status" in str(r.matcher.regex.pattern) for r in
                       cluster.scheduler.http_application.wildcard_router.rules)



# -- fault 14: Ctrl+C in the terminal reaches the sweep and its local workers -----------------
def test_ctrl_c_to_the_whole_process_group_during_a_sweep_is_one_line(tmp_path):
    """The terminal sends SIGINT to every process of its group: the sweep and the workers of its
    local cluster. The sweep says one line and exits 130; no worker prints a traceback."""
    import signal
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-c", _AS_FROM_A_TERMINAL, "sweep", *SMALL, "--train", "2000", "--epochs", "30",
                          "--seeds", "0-3", "--workers", "1", "--out", str(tmp_path / "t.csv")],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        for line in p.stdout:           # the first run is done (the cluster is up, its loops compiled),
            if line.startswith("[1/"):  # three runs of 30 iterations are left
                break
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 130, (signal.getsignal(signal.SIGINT), err)
    assert [ln for ln in err.splitlines() if ln.strip()] == ["digitlab: interrupted"], err


#: ``digitlab`` with Ctrl+C as a terminal's program gets it: an ignored SIGINT is inherited across
#: exec, and the suite's process may have had it ignored by then (the sweep then ran to its end).
_AS_FROM_A_TERMINAL = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                       "runpy.run_module('engine', run_name='__main__')")


@pytest.mark.parametrize("text", ['{"id": "s", "created": 1, "runs": Infinity}', '"text"', "null",
                                  '{"id": "s", "created": "soon"}'])
def test_a_bad_sweep_record_is_named_and_the_others_listed(tmp_path, text):
    for sid, body in (("bad", text), ("good", json.dumps({"id": "good", "created": 1, "runs": 2}))):
        (tmp_path / SWEEPS / sid).mkdir(parents=True)
        (tmp_path / SWEEPS / sid / SWEEP_FILE).write_text(body)
    sweeps, faults = list_sweeps(tmp_path)
    assert [s.id for s in sweeps] == ["good"] and len(faults) == 1 and "bad" in faults[0]
