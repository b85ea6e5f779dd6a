"""The command line on hostile and careless input (issue 20): one line, exit 2/1/130, no
traceback, and sizes checked before anything is trained (faults 5, 11, 12, 13, 14)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from engine import cli
from engine.history import runs

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--source", "sample", "--train", "200", "--epochs", "1"]


def _env(tmp_path) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                DIGITLAB_RUNS_DIR=str(tmp_path / "runs"))


def digitlab(tmp_path, *args, timeout=60):
    """``python -m engine ARGS`` in ``tmp_path``; every command here must end well within ``timeout``."""
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=timeout)


def one_line(r, code=2) -> str:
    """The run ended with ``code``, no traceback, and said one line on stderr; returns it."""
    assert r.returncode == code, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Fatal Python error" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def trained(r) -> bool:
    """Whether the command printed a training iteration (it should not have started)."""
    return any(ln.strip()[:1].isdigit() and "error" not in ln for ln in r.stdout.splitlines()[2:])


# -- fault 5 and 11: no upper bound, tracebacks on out-of-range numbers ----------------------
@pytest.mark.parametrize("args, words", [
    (["--kernels", "1000000"], "kernels"),
    (["--hidden", "100000000"], "parameters"),
    (["--mode", "backprop", "--batch", "1000000", "--kernels", "512"], "--batch"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**32)], "--seed"),
])
def test_train_refuses_out_of_range_settings_at_once(tmp_path, args, words):
    r = digitlab(tmp_path, "train", *SMALL, *args, timeout=60)
    assert words in r.stderr
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_sweep_over_too_many_seeds_is_refused_before_planning(tmp_path):
    pytest.importorskip("distributed")
    line = one_line(digitlab(tmp_path, "sweep", *SMALL, "--seeds", "0-20000000", "--no-plots",
                             timeout=60))
    assert "20,000,001 runs" in line and "10,000" in line
    assert not (tmp_path / "sweep.csv").exists()


@pytest.mark.parametrize("seeds", ["-1", "0,4294967296", "3-4294967299"])
def test_a_sweep_refuses_seeds_out_of_range(tmp_path, seeds):
    pytest.importorskip("distributed")
    assert "--seeds" in one_line(digitlab(tmp_path, "sweep", *SMALL, "--seeds=" + seeds, "--no-plots"))


# -- fault 12: refused only after training ---------------------------------------------------
def test_a_model_over_the_parameter_limit_is_refused_before_training(tmp_path):
    r = digitlab(tmp_path, "train", *SMALL, "--hidden", "120000", "--save", tmp_path / "m.npz")
    assert "parameters" in one_line(r) and not trained(r)
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "runs").exists()


def test_save_into_a_folder_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch,
                                                                              capsys):
    real = tempfile.TemporaryFile

    def refuse(*a, dir=None, **k):
        if dir is not None and Path(dir) == tmp_path / "ro":
            raise PermissionError(13, "Permission denied")
        return real(*a, dir=dir, **k)
    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    code = cli.main(["train", *SMALL, "--runs-dir", str(tmp_path / "runs"),
                     "--save", str(tmp_path / "ro" / "m.npz")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "cannot write in the folder" in err and "Permission denied" in err
    assert "iter" not in out                                  # the table's header: never reached
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="the superuser writes into read-only folders")
def test_save_into_a_read_only_folder_is_refused_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = digitlab(tmp_path, "train", *SMALL, "--save", ro / "m.npz")
        assert "cannot write" in one_line(r) and not trained(r)
    finally:
        ro.chmod(0o755)


def test_a_run_whose_recording_fails_leaves_no_folder(tmp_path, monkeypatch):
    from engine.files import modelfile
    from tests.history.test_runs import _recorded

    def fail(*a, **k):
        raise modelfile.ModelFileError("disk full (test)")
    monkeypatch.setattr(modelfile, "save_model", fail)
    with pytest.raises(modelfile.ModelFileError):
        _recorded(tmp_path)
    assert list(tmp_path.iterdir()) == []                      # no snapshots.npz left behind


# -- fault 13: training data whose pixels are all equal --------------------------------------
@pytest.mark.parametrize("mode", ["article", "backprop"])
def test_training_data_of_one_pixel_value_is_refused_naming_the_file(tmp_path, mode):
    flat = tmp_path / "flat.npz"
    np.savez(flat, x_train=np.full((50, 28, 28), 7, np.uint8), y_train=np.arange(50) % 10,
             x_test=np.full((20, 28, 28), 7, np.uint8), y_test=np.arange(20) % 10)
    r = digitlab(tmp_path, "train", "--source", "local", "--data", flat, "--mode", mode, "--epochs", "1",
                 "--save", tmp_path / "m.npz")
    line = one_line(r)
    assert "flat.npz" in line and "same value" in line
    assert not (tmp_path / "m.npz").exists()


# -- every other failure: one line, exit 1, the traceback with --debug -----------------------
def test_an_unforeseen_failure_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    def boom(args):
        raise RuntimeError("something unforeseen")
    monkeypatch.setattr(cli, "cmd_runs", boom)
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "something unforeseen" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        cli.main(["runs", "--runs-dir", str(tmp_path), "--debug"])


# -- fault 14: Ctrl+C in the first fraction of a second --------------------------------------
def python_start_up(err: str, returncode: int | None = None) -> bool:
    """A KeyboardInterrupt that landed in Python's own start-up, before any of Digitlab's code
    (nothing a program can catch): a few lines, or Python's own "init_import_site" failure (the
    site module, run before any program), and no frame of the project; or a process ended by the
    signal itself with nothing said (Python's own handler not yet installed)."""
    if returncode == -signal.SIGINT and not err.strip():
        return True
    if "KeyboardInterrupt" not in err or f"{os.sep}engine{os.sep}" in err or f"{os.sep}app{os.sep}" in err:
        return False
    return len(err.splitlines()) <= 8 or "Fatal Python error: init_import_site" in err


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.35, 0.6])
def test_ctrl_c_while_a_command_starts_is_one_line_and_exit_130(tmp_path, delay):
    p = subprocess.Popen([sys.executable, "-m", "engine", "train", *SMALL], cwd=tmp_path,
                         env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.wait(timeout=delay)               # the interrupt lands while the imports run
    except subprocess.TimeoutExpired:
        pass
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    if p.returncode == 0 or python_start_up(err, p.returncode):   # finished before, or Python not yet started
        return
    assert p.returncode == 130, (p.returncode, err)
    assert "Traceback" not in err and "Fatal Python error" not in err, err
    assert [ln for ln in err.splitlines() if ln.strip()] == ["digitlab: interrupted"]


@pytest.mark.parametrize("delay", [0.15, 0.4])
def test_ctrl_c_while_the_digitlab_launcher_starts(tmp_path, delay):
    p = subprocess.Popen([sys.executable, "-c", "import sys; from app.launcher import main; "
                          "sys.exit(main(sys.argv[1:]))", "train", *SMALL], cwd=tmp_path,
                         env=dict(_env(tmp_path), QT_QPA_PLATFORM="offscreen"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    if p.returncode == 0 or python_start_up(err, p.returncode):
        return
    assert p.returncode == 130, (p.returncode, err)
    assert "Traceback" not in err and "Fatal Python error" not in err, err


# -- faults 9 and 15: the runs folder's bad and unfinished runs ------------------------------
def test_runs_lists_the_good_runs_past_bad_records(tmp_path):
    from tests.history.test_runs import _recorded
    folder, _, _ = _recorded(tmp_path)
    for name, text in (("20200101-000000-article", "[]"), ("20200101-000001-article", "null"),
                       ("20200101-000002-article", '{"id": 3, "created": "x", "mode": [],'
                                                   ' "iterations": "two"}'),
                       ("20200101-000003-article", '{"id": "a", "created": 1, "mode": "article", '
                                                   '"iterations": 2, "argmax_accuracy": "high"}'),
                       ("20200101-000004-article", '{"id": "a", "created": 1, "mode": "article", '
                                                   '"iterations": 2, "curves": 5}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(text)
    r = digitlab(tmp_path, "runs", "--runs-dir", tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert folder.name in r.stdout
    assert r.stderr.count("digitlab: skipped") == 5


def test_a_run_folder_that_cannot_be_read_is_skipped_and_the_others_listed(tmp_path, monkeypatch, capsys):
    from tests.history.test_runs import _recorded
    good, _, _ = _recorded(tmp_path)
    locked = tmp_path / "20200101-000000-article"
    locked.mkdir()
    real = Path.is_file

    def is_file(self):
        if self.parent == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)
    monkeypatch.setattr(Path, "is_file", is_file)
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert good.name in out and "Permission denied" in err and locked.name in err


def test_an_unfinished_run_is_listed_as_such_and_can_be_deleted(tmp_path):
    unfinished = tmp_path / "20240101-120000-backprop"
    unfinished.mkdir()
    (unfinished / "snapshots.npz").write_bytes(b"\0" * 1000)       # what a killed run leaves
    (tmp_path / "notes").mkdir()                                    # not a run: never touched
    [info], faults = runs.list_runs(tmp_path)
    assert not info.finished and info.id == unfinished.name and faults == []
    r = digitlab(tmp_path, "runs", "--runs-dir", tmp_path)
    assert "unfinished" in r.stdout and r.returncode == 0
    r = digitlab(tmp_path, "runs", "--runs-dir", tmp_path, "--delete", unfinished.name)
    assert r.returncode == 0 and not unfinished.exists() and (tmp_path / "notes").is_dir()
    assert "no run nope" in one_line(digitlab(tmp_path, "runs", "--runs-dir", tmp_path, "--delete", "nope"))
