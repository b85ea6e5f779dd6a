"""The runs folder: record, list, open, export, delete; and `digitlab runs`."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine import cli
from engine.files import data
from engine.history import runs
from engine.train.recipes import make_run
from engine.train.tracker import RunTracker
from tests.app.conftest import small_settings, synthetic_data


def _recorded(tmp_path, epochs=2):
    s = small_settings(train=None, epochs=epochs)
    d = synthetic_data(n_train=200, n_test=40)
    model, stepper = make_run(s, d, chunk=64)
    run = RunTracker(s, d, model, stepper).run(eval_every=1)
    return run.save(tmp_path), model, run.timeline


def test_a_recorded_run_lists_and_opens_as_it_was(tmp_path):
    folder, model, tl = _recorded(tmp_path)
    [info], faults = runs.list_runs(tmp_path)
    assert faults == [] and info.path == folder and info.mode == "article"
    assert info.iterations == 2 and info.snapshots == len(tl)
    assert info.argmax_accuracy == model.record.test.argmax_accuracy
    back = runs.load_timeline(info)
    assert [p.images for p in back] == [p.images for p in tl]
    for a, b in zip(back, tl):
        for k in a.model.params:
            np.testing.assert_array_equal(a.model.params[k], b.model.params[k])
    np.testing.assert_array_equal(back[-1].test.confusion, tl[-1].test.confusion)
    m = runs.load_run_model(info)
    np.testing.assert_array_equal(m.params["K"], model.params["K"])


def test_exports_and_delete(tmp_path):
    folder, model, tl = _recorded(tmp_path / "runs")
    [info], _ = runs.list_runs(tmp_path / "runs")
    csv = runs.export_curves_csv(info, tmp_path / "curves.csv")
    df = pd.read_csv(csv)
    assert list(df["iteration"]) == [1, 2] and df["argmax_accuracy"].notna().all()
    png = runs.export_kernel_strip(tl, tmp_path / "k.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs.delete_run(info)
    assert not folder.exists() and runs.list_runs(tmp_path / "runs") == ([], [])


def test_a_broken_run_record_is_named_and_left_alone(tmp_path):
    bad = tmp_path / "20260101-000000-article"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    found, faults = runs.list_runs(tmp_path)
    assert found == [] and len(faults) == 1 and "run.json" in faults[0]
    assert (bad / "run.json").exists()


def test_the_default_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_RUNS_DIR", str(tmp_path / "x"))
    assert runs.default_runs_dir() == tmp_path / "x"
    monkeypatch.delenv("DIGITLAB_RUNS_DIR")
    assert runs.default_runs_dir().parts[-2:] == ("Digitlab", "runs")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MNIST", raising=False)

    def no_keras(*a, **k):
        raise data.DataError("no network (test)")
    monkeypatch.setattr(data, "load_keras", no_keras)


def test_cli_records_runs_and_lists_them(offline, capsys, tmp_path):
    where = tmp_path / "myruns"
    for seed in ("0", "1"):
        assert cli.main(["train", "--train", "300", "--epochs", "2", "--seed", seed,
                         "--runs-dir", str(where)]) == 0
    capsys.readouterr()
    assert cli.main(["runs", "--runs-dir", str(where), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(out["runs"]) == 2
    for r in out["runs"]:
        assert {"id", "mode", "iterations", "argmax_accuracy", "percent_correct", "snapshots",
                "path"} <= set(r)
        assert r["mode"] == "article" and r["iterations"] == 2 and r["snapshots"] >= 4
        assert (where / r["id"] / "model.npz").is_file()


def test_cli_runs_on_an_empty_folder(capsys, tmp_path):
    assert cli.main(["runs", "--runs-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"runs": [], "sweeps": []}
