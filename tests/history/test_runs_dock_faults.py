"""The Runs dock with bad and unfinished run folders beside a good one (issue 20, faults 9, 15)."""
from __future__ import annotations

from app.history.runs_view import RunsView
from tests.history.test_runs import _recorded


def test_the_runs_dock_lists_the_good_run_past_bad_records_and_deletes_an_unfinished_one(
        qtbot, window, tmp_path):
    folder = tmp_path / "runs"
    good, _, _ = _recorded(folder)
    for name, text in (("20200101-000000-article", "[]"), ("20200101-000001-article", "null"),
                       ("20200101-000002-article", '{"id": "x", "created": 1, "mode": "article", '
                                                   '"iterations": 2, "argmax_accuracy": "high"}')):
        (folder / name).mkdir()
        (folder / name / "run.json").write_text(text)
    unfinished = folder / "20200102-000000-backprop"
    unfinished.mkdir()
    (unfinished / "snapshots.npz").write_bytes(b"\0" * 100)
    view = RunsView(window, folder)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.reading() and len(view.runs) == 2, timeout=20000)
    assert {r.id for r in view.runs} == {good.name, unfinished.name}
    assert "3 unreadable" in view.note.text()
    row = [r.id for r in view.runs].index(unfinished.name)
    assert "unfinished" in view.table.item(row, 2).text()
    view.select([row])
    window.prompts.answers["confirm"] = True
    assert view.delete_selected() == 1
    qtbot.waitUntil(lambda: not view.reading() and len(view.runs) == 1, timeout=20000)
    assert not unfinished.exists() and good.is_dir()
    view.shutdown()
