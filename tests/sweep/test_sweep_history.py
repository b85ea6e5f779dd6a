"""A sweep's runs and plots go to the runs folder, each run once, as `digitlab runs` lists them."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("distributed")

from engine.cli import main  # noqa: E402
from engine.history import runs as eruns  # noqa: E402

SMALL = ["--source", "sample", "--train", "300", "--epochs", "2"]


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _listed(capsys, runs_dir) -> dict:
    assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == 0
    return _last_json(capsys)


def test_a_sweeps_runs_are_recorded_once_with_its_plots(tmp_path, capsys):
    table, runs_dir = tmp_path / "seeds.csv", tmp_path / "history"
    assert main(["sweep", *SMALL, "--seeds", "0,1", "--workers", "2", "--out", str(table),
                 "--runs-dir", str(runs_dir), "--json"]) == 0
    sweep = _last_json(capsys)
    assert sweep["recorded"] == 2 and sweep["sweep"]
    listed = _listed(capsys, runs_dir)
    assert len(listed["runs"]) == 2
    assert {r["sweep"] for r in listed["runs"]} == {sweep["sweep"]}
    assert all(r["snapshots"] == 0 and r["iterations"] == 2 for r in listed["runs"])
    # each recorded run holds the sweep's figures and its final model
    by_seed = {r["seed"]: r for r in sweep["runs"]}
    for info in eruns.list_runs(runs_dir)[0]:
        row = by_seed[info.settings["seed"]]
        assert info.percent_correct == row["percent_correct"]
        assert info.test_error == row["test_error"]
        assert [c["iteration"] for c in info.curves] == [1, 2]
        assert info.curves[-1]["train_error"] == row["train_error"]
        assert not (info.path / "snapshots.npz").exists()
        model = eruns.load_run_model(info)
        assert model.record.test.test_error == row["test_error"]
        [point] = eruns.load_timeline(info).points          # the final model is its timeline
        np.testing.assert_array_equal(point.model.params["K"], model.params["K"])
    # the sweep's plot, a copy in the runs folder under its id
    [sw] = listed["sweeps"]
    assert sw["id"] == sweep["sweep"] and sw["runs"] == 2
    [plot] = sw["plots"]
    assert plot.endswith("seeds-seeds.png") and str(runs_dir) in plot
    assert open(plot, "rb").read(4) == b"\x89PNG"

    # resumed with more seeds: only the new one is recorded
    assert main(["sweep", *SMALL, "--seeds", "0-2", "--workers", "2", "--out", str(table),
                 "--runs-dir", str(runs_dir), "--json"]) == 0
    second = _last_json(capsys)
    assert second["skipped"] == 2 and second["recorded"] == 1
    listed = _listed(capsys, runs_dir)
    assert sorted(i.settings["seed"] for i in eruns.list_runs(runs_dir)[0]) == [0, 1, 2]
    assert len(listed["runs"]) == 3 and listed["sweeps"][0]["runs"] == 3
    # everything done: nothing runs, nothing is recorded
    assert main(["sweep", *SMALL, "--seeds", "0-2", "--out", str(table), "--runs-dir", str(runs_dir),
                 "--json"]) == 0
    assert _last_json(capsys)["recorded"] == 0
    # the table lost (a crash before it was written): the run is done again, not recorded again
    table.unlink()
    assert main(["sweep", *SMALL, "--seeds", "1", "--workers", "1", "--out", str(table),
                 "--runs-dir", str(runs_dir), "--json", "--no-plots"]) == 0
    assert _last_json(capsys)["recorded"] == 0
    assert len(_listed(capsys, runs_dir)["runs"]) == 3


def test_no_record_leaves_the_runs_folder_alone(tmp_path, capsys):
    runs_dir = tmp_path / "history"
    assert main(["sweep", *SMALL, "--seeds", "4", "--workers", "1", "--out", str(tmp_path / "t.csv"),
                 "--runs-dir", str(runs_dir), "--no-record", "--no-plots", "--json"]) == 0
    out = _last_json(capsys)
    assert out["recorded"] == 0 and out["sweep"] is None
    assert not runs_dir.exists()
