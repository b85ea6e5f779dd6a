"""Without the optional extra, `digitlab sweep` says how to get it (no importorskip here)."""
from __future__ import annotations

import sys

from engine.cli import main


def test_without_dask_the_sweep_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)     # import distributed fails
    assert main(["sweep", "--source", "sample", "--seeds", "0-1", "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[sweep]"' in err and 'pip install "digitlab[sweep]"' in err
    assert not (tmp_path / "t.csv").exists()
