"""Reading people's handwriting from the engine: styles, calibration, fine-tuning, the collection, the CLI."""
import json

import numpy as np
import pytest

import engine
from engine import cli
from engine.files import modelfile
from engine.files.data import load_sample
from engine.handwriting import calibration, strokes
from engine.handwriting.collection import Collection, CollectionError, load_collection, save_collection
from engine.handwriting.finetune import finetune


@pytest.fixture(scope="module")
def shipped():
    return engine.load_model()


@pytest.fixture(scope="module")
def sample():
    ds = load_sample()
    return ds.test_images / 255.0, ds.test_labels


def test_every_style_draws_its_digit_as_an_mnist_image():
    rng = np.random.default_rng(0)
    X = strokes.synthesise(list(strokes.STYLES), rng)
    assert X.shape == (len(strokes.STYLES), 28, 28) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 1
    assert (X.sum(axis=(1, 2)) > 20).all()                     # every drawing has ink
    assert set(strokes.HARD_STYLES) <= set(strokes.STYLES)
    assert all(strokes.styles_of(d) for d in range(10))


def test_the_shipped_model_reads_the_styles(shipped):
    rng = np.random.default_rng(1)
    names = [n for n in strokes.STYLES for _ in range(5)]
    X = strokes.synthesise(names, rng)
    y = np.array([int(n[0]) for n in names])
    assert (shipped.predict_proba(X).argmax(1) == y).mean() >= 0.95


def test_finetune_leaves_its_input_bit_for_bit(shipped):
    before = {k: v.copy() for k, v in shipped.params.items()}
    rng = np.random.default_rng(2)
    w = strokes.random_writer(rng)
    y = np.repeat(np.arange(10), 2)
    tuned = finetune(shipped, w.digits(y, rng), y, replay=(np.zeros((0, 28, 28)), np.zeros(0, int)), steps=5)
    for k, v in shipped.params.items():
        assert v.dtype == before[k].dtype and np.array_equal(v, before[k])
    assert tuned is not shipped and any(not np.array_equal(tuned.params[k], v) for k, v in before.items())
    assert "finetuned" not in shipped.record.notes and "finetuned" in tuned.record.notes


def test_finetune_lifts_a_writer_and_keeps_mnist(shipped, sample):
    """A writer who slants hard and writes wide: twenty corrections teach the model the rest."""
    rng = np.random.default_rng(3)
    w = strokes.Writer(("0-slashed", "1-long-flag", "2-curly", "3-flat-top", "4-open-one-stroke", "5-two-strokes",
                        "6-straight", "7-crossbar-hooked", "8-two-loops", "9-curved-tail"),
                       slant=0.6, height=0.6, aspect=1.6, brush=34.0)
    y = np.repeat(np.arange(10), 2)
    others = np.repeat(np.arange(10), 10)
    Xo = w.digits(others, rng)
    tuned = finetune(shipped, w.digits(y, rng), y)
    before = (shipped.predict_proba(Xo).argmax(1) == others).mean()
    after = (tuned.predict_proba(Xo).argmax(1) == others).mean()
    assert after >= 0.95 and after >= before
    X, labels = sample
    keep = (shipped.predict_proba(X).argmax(1) == labels).mean()
    assert (tuned.predict_proba(X).argmax(1) == labels).mean() >= keep - 0.01


def test_finetune_refuses_bad_input(shipped):
    with pytest.raises(ValueError, match="labels"):
        finetune(shipped, np.zeros((2, 28, 28)), np.array([1, 12]))
    with pytest.raises(ValueError, match="shape"):
        finetune(shipped, np.zeros((2, 20, 20)), np.array([1, 2]))
    with pytest.raises(ValueError, match="at least one"):
        finetune(shipped, np.zeros((0, 28, 28)), np.zeros(0, int))


def test_temperature_changes_confidence_not_the_reading(shipped, sample):
    X, y = sample
    hot = shipped.copy()
    hot.temperature = 3.0
    p, q = shipped.predict_proba(X), hot.predict_proba(X)
    assert np.array_equal(p.argmax(1), q.argmax(1))
    assert q.max(1).mean() < p.max(1).mean()
    assert calibration.ece(p, y) < 0.05


def test_ece_and_fit():
    y = np.array([0, 1, 2, 3])
    assert calibration.ece(np.eye(10)[y], y) == 0
    half = np.full((4, 10), 0.5 / 9)
    half[np.arange(4), y] = 0.5
    assert calibration.ece(half, y) == pytest.approx(0.5)
    conf, acc, count = calibration.reliability(half, y)
    assert count.sum() == 4 and acc[count > 0][0] == 1


def test_temperature_is_saved_and_old_files_load_with_one(shipped, tmp_path):
    m = shipped.copy()
    m.temperature = 1.7
    assert modelfile.load_model(modelfile.save_model(m, tmp_path / "t.npz")).temperature == pytest.approx(1.7)
    plain = shipped.copy()
    plain.temperature = 1.0
    assert modelfile.load_model(modelfile.save_model(plain, tmp_path / "p.npz")).temperature == 1.0
    with pytest.raises(ValueError, match="temperature"):
        m.temperature = -1.0
        m.check()


def test_collection_round_trip_and_merge(tmp_path):
    rng = np.random.default_rng(4)
    c = Collection()
    for d in range(10):
        c.add(strokes.synthesise([strokes.styles_of(d)[0]], rng)[0], d)
    path = save_collection(c, tmp_path / "mine.npz")
    back = load_collection(path)
    assert len(back) == 10 and np.array_equal(back.labels, np.arange(10))
    assert np.abs(back.images - c.images).max() <= 0.5 / 255 + 1e-6
    assert back.extend(c) == 0                     # the same drawings are not added twice
    back.remove([0, 1])
    assert list(back.counts()) == [0, 0] + [1] * 8


def test_a_damaged_collection_is_refused_by_name(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK not really")
    with pytest.raises(CollectionError, match="bad.npz"):
        load_collection(bad)
    other = tmp_path / "other.npz"
    np.savez(other, images=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(CollectionError, match="not a Digitlab collection"):
        load_collection(other)


def test_cli_finetune_and_evaluate_ece(tmp_path, capsys, monkeypatch):
    import engine
    from tests.handwriting.test_collection_engine import slanted_writer, two_of_each_with_a_misread
    monkeypatch.delenv("DIGITLAB_MNIST", raising=False)
    rng = np.random.default_rng(5)
    w = slanted_writer()
    X, y = two_of_each_with_a_misread(engine.load_model(), w, rng)
    save_collection(Collection(X, y), tmp_path / "mine.npz")
    rc = cli.main(["finetune", "--digits", str(tmp_path / "mine.npz"), "--save", str(tmp_path / "me.npz"),
                   "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["drawings"] == 20 and out["held_out"] >= out["before"]
    assert (tmp_path / "me.npz").exists()
    rc = cli.main(["evaluate", str(tmp_path / "me.npz"), "--source", "sample", "--json"])
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and 0 <= res["ece"] < 0.1 and res["temperature"] > 0
    assert out["kept"] is True and out["folds"] == 4 and out["saved"] == str(tmp_path / "me.npz")
    rc = cli.main(["finetune", "--digits", str(tmp_path / "nothing.npz"), "--save", str(tmp_path / "x.npz")])
    assert rc == 2 and "nothing.npz" in capsys.readouterr().err


def test_cli_finetune_runs_the_guard_and_saves_nothing_it_did_not_keep(tmp_path, capsys, monkeypatch, shipped):
    """The command line refuses, like the window, a tuning that forgets: it says so, saves nothing, exits 1."""
    from engine.handwriting import finetune_guard
    from tests.handwriting.test_collection_engine import forgetting_trap, slanted_writer, two_of_each_with_a_misread
    rng = np.random.default_rng(3)
    w = slanted_writer()
    X, y = two_of_each_with_a_misread(shipped, w, rng)
    save_collection(Collection(X, y), tmp_path / "mine.npz")
    trap = forgetting_trap(shipped, w, rng)
    monkeypatch.setattr(finetune_guard, "default_forget_set", lambda: trap)
    monkeypatch.setattr(finetune_guard, "FINETUNE_SOFTER", {"steps": 20})       # the retry forgets too
    rc = cli.main(["finetune", "--digits", str(tmp_path / "mine.npz"), "--save", str(tmp_path / "me.npz"),
                   "--json"])
    text = capsys.readouterr().out
    out = json.loads(text.strip().splitlines()[-1])
    assert rc == 1 and out["kept"] is False and out["saved"] is None and out["softened"] is True
    assert "NOT kept" in text and "forgets" in out["reason"]
    assert not (tmp_path / "me.npz").exists()


def test_a_run_can_include_the_personal_collection(tmp_path):
    from engine.train.recipes import BACKPROP, load_data, prepare
    rng = np.random.default_rng(6)
    y = np.repeat(np.arange(10), 3)
    save_collection(Collection(strokes.random_writer(rng).digits(y, rng), y), tmp_path / "mine.npz")
    s = BACKPROP.replace(source="sample", train=500)
    plain = prepare(s, load_data(s))
    mixed = prepare(s.replace(collection=str(tmp_path / "mine.npz")), load_data(s))
    assert len(mixed.ytr) == len(plain.ytr) + 30 and np.array_equal(mixed.ytr[-30:], y)
    assert "personal collection" in mixed.description
    with pytest.raises(CollectionError, match="missing.npz"):
        prepare(s.replace(collection=str(tmp_path / "missing.npz")), load_data(s))


def test_temperature_travels_in_the_csv_trio(small_model, tmp_path):
    m = small_model()
    m.temperature = 2.5
    back = modelfile.load_model(modelfile.save_model(m, tmp_path / "trio"))
    assert back.temperature == pytest.approx(2.5)
    assert np.allclose(back.predict_proba(np.zeros((1, 28, 28))), m.predict_proba(np.zeros((1, 28, 28))))
