"""`digitlab sweep` on a local cluster of two workers: its runs equal the same runs done alone."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("distributed")

from engine.cli import main  # noqa: E402
from engine.sweep.command import read_table  # noqa: E402

SMALL = ["--source", "sample", "--train", "500", "--epochs", "2"]
FIGS = ("iterations", "train_error", "test_error", "percent_correct", "argmax_accuracy", "reason")


def _last_json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def _alone(capsys, *options) -> dict:
    assert main(["train", *SMALL, *options, "--json"]) == 0
    return _last_json(capsys)


def test_a_sweep_equals_its_runs_done_alone(tmp_path, capsys):
    table = tmp_path / "runs.csv"
    code = main(["sweep", *SMALL, "--seeds", "0-1", "--grid", "alpha=0.005,0.02", "kernels=4,9",
                 "--workers", "2", "--out", str(table), "--json"])
    sweep = _last_json(capsys)
    assert code == 0
    runs = sweep["runs"]
    assert [(r["alpha"], r["kernels"], r["seed"]) for r in runs] == [
        (a, k, s) for a in (0.005, 0.02) for k in (4, 9) for s in (0, 1)]
    for r in runs:
        alone = _alone(capsys, "--seed", str(r["seed"]), "--alpha", str(r["alpha"]),
                       "--kernels", str(r["kernels"]))
        assert {k: r[k] for k in FIGS} == {k: alone[k] for k in FIGS}
        assert r["train"] == 500 and r["epochs"] == 2 and r["mode"] == "article"
    # the table holds the same figures, to the last digit
    df = read_table(table)
    assert len(df) == 8
    for r in runs:
        row = df[(df.seed == r["seed"]) & (df.alpha == r["alpha"]) & (df.kernels == r["kernels"])]
        assert row.test_error.item() == r["test_error"]
        assert row.train_error.item() == r["train_error"]
    # a grid's summary and heat map
    cells = sweep["summary"]["grid"]
    assert len(cells) == 4 and all(c["runs"] == 2 for c in cells)
    assert sweep["plots"] == [str(tmp_path / "runs-grid.png")]
    assert (tmp_path / "runs-grid.png").read_bytes()[:4] == b"\x89PNG"


def test_an_interrupted_sweep_resumes_without_redoing_runs(tmp_path, capsys):
    table = tmp_path / "seeds.csv"
    assert main(["sweep", *SMALL, "--seeds", "0,1", "--workers", "2", "--out", str(table), "--json",
                 "--no-plots"]) == 0
    first = _last_json(capsys)["runs"]
    # the sweep grows to four seeds: only the two new ones run
    assert main(["sweep", *SMALL, "--seeds", "0-3", "--workers", "2", "--out", str(table), "--json",
                 "--no-plots"]) == 0
    second = _last_json(capsys)
    assert second["skipped"] == 2
    assert [r["seed"] for r in second["runs"]] == [0, 1, 2, 3]
    assert second["runs"][:2] == first                    # same wall time: not run again
    assert len(read_table(table)) == 4
    # everything done: nothing runs, no cluster is started, the summary is still given
    assert main(["sweep", *SMALL, "--seeds", "0-3", "--out", str(table), "--json"]) == 0
    out = capsys.readouterr().out
    assert "4 already in" in out and "running" not in out
    third = json.loads(out.strip().splitlines()[-1])
    assert third["runs"] == second["runs"] and third["skipped"] == 4
    assert third["summary"]["percent_correct"]["n"] == 4
    assert (tmp_path / "seeds-seeds.png").exists()


def test_a_backprop_sweep_equals_its_runs_done_alone(tmp_path, capsys):
    opts = ["--mode", "backprop", "--source", "sample", "--train", "300", "--epochs", "1"]
    assert main(["sweep", *opts, "--seeds", "3,4", "--workers", "2", "--out",
                 str(tmp_path / "bp.csv"), "--json", "--no-plots"]) == 0
    runs = _last_json(capsys)["runs"]
    assert [r["seed"] for r in runs] == [3, 4]
    for r in runs:
        assert main(["train", *opts, "--seed", str(r["seed"]), "--json"]) == 0
        alone = _last_json(capsys)
        assert {k: r[k] for k in FIGS} == {k: alone[k] for k in FIGS}
