"""The collection file (strokes, old files, the limit) and the fine-tuning's check, from the engine."""
import numpy as np
import pytest

from engine.handwriting import collection as collection_file
from engine.handwriting import strokes
from engine.handwriting.collection import Collection, CollectionError, InkStroke, load_collection, save_collection
from engine.handwriting.finetune_guard import fold_ids, guarded_finetune


@pytest.fixture(scope="module")
def shipped():
    import engine
    return engine.load_model()


def test_strokes_round_trip_and_old_files_still_load(tmp_path):
    c = Collection()
    pen = [np.array([[10.0, 20.0], [30.5, 40.25], [50, 60]]), np.array([[5.0, 5.0]])]
    c.add(np.full((28, 28), 0.5), 3, [InkStroke(pen[0], 20.0), InkStroke(pen[1], 8.0, erase=True)])
    c.add(np.full((28, 28), 0.25), 7)                            # an image only
    back = load_collection(save_collection(c, tmp_path / "c.npz"))
    assert list(back.labels) == [3, 7] and list(back.has_strokes()) == [True, False]
    a, b = back.strokes[0]
    np.testing.assert_allclose(a.points, pen[0])
    assert (a.width, a.erase, b.width, b.erase) == (20.0, False, 8.0, True)
    # a file of format 1 (images and labels only), as earlier versions wrote it
    np.savez_compressed(tmp_path / "old.npz", images=np.full((2, 28, 28), 200, np.uint8),
                        labels=np.array([1, 9], np.uint8), format=np.array("digitlab-collection 1"))
    old = load_collection(tmp_path / "old.npz")
    assert list(old.labels) == [1, 9] and not old.has_strokes().any()


def test_inconsistent_strokes_are_refused_by_name(tmp_path):
    c = Collection()
    c.add(np.full((28, 28), 0.5), 3, [np.array([[1.0, 2.0], [3.0, 4.0]])])
    save_collection(c, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as z:
        parts = dict(z)
    parts["stroke_points"] = np.array([5], np.int32)              # says 5 points, holds 2
    np.savez(tmp_path / "bad.npz", **parts)
    with pytest.raises(CollectionError, match="bad.npz"):
        load_collection(tmp_path / "bad.npz")


def test_relabel_and_the_limit(monkeypatch):
    monkeypatch.setattr(collection_file, "MAX_DRAWINGS", 3)
    c = Collection(np.zeros((2, 28, 28)), [1, 2])
    assert c.relabel([0, 1], 2) == 1 and list(c.labels) == [2, 2]
    other = Collection(np.random.default_rng(0).random((4, 28, 28)), [0, 1, 2, 3])
    assert c.room() == 1 and c.extend(other) == 1 and len(c) == 3     # never past the limit
    with pytest.raises(ValueError, match="full"):
        c.add(np.zeros((28, 28)), 5)
    with pytest.raises(CollectionError, match="more than"):
        save_collection(Collection(np.zeros((4, 28, 28)), [0, 1, 2, 3]), "never.npz")


def test_folds_are_stratified_by_digit():
    y = np.repeat(np.arange(10), 2)
    ids = fold_ids(y, 4)
    assert np.bincount(ids).tolist() == [5, 5, 5, 5]
    for d in range(10):                       # the two drawings of a digit are in different folds
        assert len(set(ids[y == d])) == 2


def harmful():
    """Fine-tuning settings that teach the model wrong digits: replayed MNIST digits labelled one off."""
    from engine.handwriting.finetune import default_replay
    Xr, yr = default_replay()
    return {"replay": (Xr, (yr + 1) % 10), "alpha": 0.05, "steps": 40, "own": 8, "replayed": 96}


def two_of_each_with_a_misread(model, w, rng, pool: int = 8):
    """Two drawings of each digit by the writer ``w``, ``(20, 28, 28)`` and labels, at least one
    of them misread by ``model`` as the window reads (a collection that has something to teach)."""
    import engine
    y_pool = np.repeat(np.arange(10), pool)
    X_pool = w.digits(y_pool, rng)
    wrong = engine.read(model, X_pool).digit != y_pool
    assert wrong.any(), "the writer's drawings are all read right: nothing to teach"
    first = int(np.flatnonzero(wrong)[0])
    pick = [i for d in range(10) for i in np.flatnonzero(y_pool == d)[:2]]
    if not wrong[pick].any():                      # one misread drawing in place of its digit's first
        pick[pick.index(int(np.flatnonzero(y_pool == y_pool[first])[0]))] = first
    return X_pool[pick], y_pool[pick]


def test_a_collection_read_all_right_is_not_tuned(shipped):
    """Nothing to learn: the model reads every drawing right, so no tuning runs (it could only lose)."""
    import engine
    from engine.files.data import load_sample
    ds = load_sample()
    X, y = ds.test_images[:60] / 255.0, ds.test_labels[:60]
    right = engine.read(shipped, X).digit == y
    X, y = X[right][:20], y[right][:20]
    calls = []
    g = guarded_finetune(shipped, X, y, progress=lambda d, t: calls.append(d))
    assert not g.keep and g.model is None and g.before == len(y) == 20 and g.folds == 0
    assert "already reads all 20" in g.reason and calls == []         # no tuning ran


def test_the_check_refuses_a_tuning_that_harms(shipped):
    settings = harmful()
    rng = np.random.default_rng(0)
    w = slanted_writer()
    X, y = two_of_each_with_a_misread(shipped, w, rng)
    g = guarded_finetune(shipped, X, y, **settings)
    assert not g.keep and g.model is None and g.held_out < g.before and g.reason.startswith("not kept")
    one = guarded_finetune(shipped, X[:1], y[:1])
    assert not one.keep and one.folds == 0 and "at least two" in one.reason


def test_pen_recordings_export_and_import(tmp_path):
    """The strokes go out as a UNIPEN recording and come back rendered as the canvas draws them."""
    from engine.handwriting.collection_pen import export_pen, import_pen
    from engine.handwriting.pen import render_sample
    from engine.handwriting.unipen import PenSample, read_unipen, write_unipen
    rng = np.random.default_rng(0)
    c = Collection()
    for d in (3, 7):
        drawn = strokes.draw(strokes.styles_of(d)[0], rng)
        c.add(strokes.synthesise([strokes.styles_of(d)[0]], rng)[0], d, [InkStroke(s) for s in drawn])
    c.add(np.zeros((28, 28)), 1)                                         # an image only: left out
    assert export_pen(c, tmp_path / "me.unipen.gz") == (2, 1)
    samples = read_unipen(tmp_path / "me.unipen.gz")
    assert [s.label for s in samples] == ["3", "7"] and samples[0].writer == "digitlab-user"
    np.testing.assert_allclose(samples[0].strokes[0], np.round(c.strokes[0][0].points, 2))
    # a recording with a letter among the digits: the digits come in, rendered, with their strokes
    write_unipen(samples + [PenSample("A", "someone", (np.array([[0.0, 0], [5, -9], [10, 0]]),), "CHAR")],
                 tmp_path / "mixed.unipen")
    back, skipped = import_pen(tmp_path / "mixed.unipen")
    assert skipped == 1 and list(back.labels) == [3, 7] and back.has_strokes().all()
    np.testing.assert_allclose(back.images[0], render_sample(samples[0]), atol=1e-6)
    with pytest.raises(ValueError, match="nothing to write"):
        export_pen(Collection(np.zeros((1, 28, 28)), [1]), tmp_path / "none.unipen")


def slanted_writer():
    """A writer who slants hard and writes wide (the model misreads some of their digits)."""
    return strokes.Writer(("0-slashed", "1-long-flag", "2-curly", "3-flat-top", "4-open-one-stroke", "5-two-strokes",
                           "6-straight", "7-crossbar-hooked", "8-two-loops", "9-curved-tail"),
                          slant=0.6, height=0.6, aspect=1.6, brush=34.0)


def forgetting_trap(model, w, rng):
    """A forgetting set that a tuning which learns the writer must 'forget': the writer's other
    drawings labelled as ``model`` reads them (so every misread it corrects counts as a digit lost)."""
    others = np.repeat(np.arange(10), 10)
    Xo = w.digits(others, rng)
    import engine
    said = engine.read(model, Xo).digit                # as the window (and the guard) reads them
    assert (said != others).sum() >= 3              # the trap holds some misreads to correct
    return Xo, said


def test_a_tuning_that_forgets_is_softened_then_not_kept(shipped):
    rng = np.random.default_rng(3)
    w = slanted_writer()
    X, y = two_of_each_with_a_misread(shipped, w, rng)
    trap = forgetting_trap(shipped, w, rng)
    g = guarded_finetune(shipped, X, y, forget=trap, forget_limit=0.0)
    assert g.held_out >= g.before                   # the collection's check alone would keep it
    assert not g.keep and g.model is None and g.forgot and g.softened
    assert g.forget_before == 1.0 and g.forget_after < 1.0
    assert "forgets" in g.reason and "softer recipe" in g.reason
    # the same tuning, allowed to lose every digit of that set, is kept at the first try
    kept = guarded_finetune(shipped, X, y, forget=trap, forget_limit=1.0)
    assert kept.keep and kept.model is not None and not kept.softened and not kept.forgot
    assert "forgetting set" in kept.model.record.notes["finetune_check"]


def test_the_default_forgetting_set_is_not_replayed():
    from engine.handwriting.finetune import default_replay
    from engine.handwriting.finetune_guard import FORGET_LIMIT, default_forget_set
    Xf, yf = default_forget_set()
    Xr, _ = default_replay()
    assert Xf.shape == (1000, 28, 28) and 0 < FORGET_LIMIT <= 0.005
    seen = {x.tobytes() for x in Xr}
    assert not any(x.tobytes() in seen for x in Xf)
