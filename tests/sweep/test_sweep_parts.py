"""The sweep's parts a user meets without a cluster: seeds, grids, the table, the summary."""
from __future__ import annotations

import math

import pytest

import pandas as pd  # noqa: E402
pytest.importorskip("distributed")

from engine.cli import main  # noqa: E402
from engine.sweep.command import SweepError, parse_grid, parse_seeds  # noqa: E402
from engine.sweep.summary import percentile_of, summarize, summary_lines  # noqa: E402

ARTICLE = {"iterations": 13, "percent_correct": 92.57}


def test_seeds_take_ranges_and_lists():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("7, 2,0-1,2") == [7, 2, 0, 1]
    with pytest.raises(SweepError, match="outside 0..4294967295"):       # numpy's seeds: 0..2**32-1
        parse_seeds("-2--1")
    for bad in ("x", "5-2", "1,,2"):
        with pytest.raises(SweepError, match="--seeds"):
            parse_seeds(bad)


def test_a_grid_takes_any_setting_with_its_type():
    g = parse_grid(["alpha=0.005,0.01", "kernel-size=5,8", "train=all,1000", "augment=on,off",
                    "loss=mse"])
    assert g == {"alpha": [0.005, 0.01], "kernel_size": [5, 8], "train": [None, 1000],
                 "augment": [True, False], "loss": ["mse"]}
    with pytest.raises(SweepError, match="'speed' is not a training setting"):
        parse_grid(["speed=1,2"])
    with pytest.raises(SweepError, match="kernels: 'four' is not a whole number"):
        parse_grid(["kernels=four"])
    with pytest.raises(SweepError, match="--seeds"):
        parse_grid(["seed=1,2"])


def test_bad_options_are_one_line_and_status_2(tmp_path, capsys):
    assert main(["sweep", "--source", "sample", "--grid", "colour=red", "--out",
                 str(tmp_path / "t.csv")]) == 2
    assert "'colour' is not a training setting" in capsys.readouterr().err
    assert main(["sweep", "--source", "sample", "--grid", "kernel_size=40", "--out",
                 str(tmp_path / "t.csv")]) == 2
    assert capsys.readouterr().err.startswith("digitlab: ")
    assert not (tmp_path / "t.csv").exists()


def test_missing_data_is_named_before_any_run(tmp_path, capsys):
    missing = tmp_path / "no-mnist"
    assert main(["sweep", "--data", str(missing), "--seeds", "0-1", "--out", str(tmp_path / "t.csv")]) == 2
    assert f"--data {missing}: no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_a_table_that_is_not_a_sweeps_is_named_and_kept(tmp_path, capsys):
    table = tmp_path / "notes.csv"
    table.write_text("name,price\napple,3\n")
    assert main(["sweep", "--source", "sample", "--seeds", "0-1", "--out", str(table)]) == 2
    err = capsys.readouterr().err
    assert str(table) in err and "not a sweep's table" in err
    assert table.read_text() == "name,price\napple,3\n"


def test_percentile_counts_ties_half():
    assert percentile_of([1, 2, 3, 4], 2.5) == 50.0
    assert percentile_of([1, 2, 2, 4], 2) == 50.0
    assert percentile_of([10, 20, math.inf], 100) == 200 / 3
    assert math.isnan(percentile_of([], 1))


def _runs(iterations, percent, reasons=None):
    n = len(iterations)
    return pd.DataFrame({"seed": range(n), "iterations": iterations,
                         "reason": reasons or ["converged"] * n, "percent_correct": percent,
                         "argmax_accuracy": percent, "test_error": [0.1] * n, "mode": ["article"] * n,
                         "train": [20000] * n, "data_source": ["local"] * n})


def test_the_summary_places_the_articles_run_among_the_seeds():
    df = _runs([12, 13, 14, 15, 50], [93.0, 92.0, 91.0, 90.0, 80.0],
               ["converged"] * 4 + ["max_iter"])
    s = summarize(df, [], article=ARTICLE)
    assert s["iterations"]["histogram"] == {12: 1, 13: 1, 14: 1, 15: 1}
    assert s["iterations"]["not_converged"] == 1
    assert (s["iterations"]["min"], s["iterations"]["median"], s["iterations"]["max"]) == (12, 13.5, 15)
    a = s["article"]
    assert (a["runs_fewer_iterations"], a["runs_same_iterations"], a["runs_more_iterations"]) == (20, 20, 60)
    assert a["iterations_percentile"] == 30.0
    assert a["runs_below_percent_correct"] == 80.0 and a["percent_correct_percentile"] == 80.0
    assert a["runs_as_good_on_both"] == 20.0              # 12 iterations and 93.0%
    text = "\n".join(summary_lines(s))
    assert "min 12, median 13.5, max 15 (4 converged, 1 did not)" in text
    assert "percentile 80" in text


def test_a_grid_summary_has_a_row_a_cell_and_a_heat_map(tmp_path):
    pytest.importorskip("matplotlib")
    from engine.sweep.summary import save_plots
    df = _runs([13, 14, 15, 16], [90.0, 91.0, 92.0, 93.0])
    df["alpha"] = [0.01, 0.01, 0.02, 0.02]
    df["kernels"] = [4, 9, 4, 9]
    s = summarize(df, ["alpha", "kernels"], article=ARTICLE)
    assert [(c["alpha"], c["kernels"], c["percent_correct_mean"]) for c in s["grid"]] == [
        (0.01, 4, 90.0), (0.01, 9, 91.0), (0.02, 4, 92.0), (0.02, 9, 93.0)]
    assert any("0.02" in line and "93.00" in line for line in summary_lines(s))
    paths = save_plots(df, ["alpha", "kernels"], s, str(tmp_path / "g"), article=ARTICLE)
    assert paths == [str(tmp_path / "g-grid.png")]
    seeds = save_plots(df, [], summarize(df, [], article=ARTICLE), str(tmp_path / "s"), article=ARTICLE)
    assert seeds == [str(tmp_path / "s-seeds.png")]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in paths + seeds)
