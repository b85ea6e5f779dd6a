"""Weight files: npz and the article's CSV trio, round trips, bad files, atomic and durable writes."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.files import modelfile as io
from engine.files.modelfile import ModelFileError
from engine.net.model import Config, Model, Normalisation
from engine.train.record import Record, TestFigures


def small_model(biases=False, dtype=np.float64, seed=0) -> Model:
    m = Model.article_init(Config(kernels=3, kernel_size=5, hidden=7, biases=biases),
                           np.random.RandomState(seed), Normalisation(33.5, 6221.3, "article"))
    m.params = {k: v.astype(dtype) for k, v in m.params.items()}
    if biases:
        m.params["b1"] = np.linspace(-1, 1, 7).astype(dtype)
        m.params["b2"] = np.linspace(0, 1, 10).astype(dtype)
    return m


def article_model(seed=0) -> Model:
    return Model.article_init(Config(), np.random.RandomState(seed))


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- round trips ------------------------------------------------------------------------
@pytest.mark.parametrize("biases, dtype", [(False, np.float64), (True, np.float32)])
def test_npz_round_trip_is_exact(tmp_path, biases, dtype):
    m = small_model(biases, dtype)
    m.record = Record(mode="backprop", settings={"epochs": 12, "loss": "xent"}, iterations=12,
                      train_error=0.25, reason="max_iter", train_images=4000, data_source="sample",
                      test=TestFigures(0.1, 90.5, 95.25, 1000, np.arange(100).reshape(10, 10)),
                      notes={"history": [0.5, 0.25], "note": "ok"})
    m.name = "whatever"
    path = io.save_model(m, tmp_path / "digits.npz")
    assert path == tmp_path / "digits.npz" and files_in(tmp_path) == ["digits.npz"]
    got = io.load_model(path)
    assert got.config == m.config
    assert got.norm == m.norm
    assert set(got.params) == set(m.params)
    for k, v in m.params.items():
        assert got.params[k].dtype == v.dtype
        np.testing.assert_array_equal(got.params[k], v)
    assert got.record == m.record
    np.testing.assert_array_equal(got.record.test.confusion, np.arange(100).reshape(10, 10))
    assert got.name == "digits"                       # the file's stem


def test_csv_round_trip_is_exact(tmp_path):
    m = article_model()
    m.norm = io.article_normalisation()
    m.record = Record(mode="article", iterations=13, train_error=0.0986, data_source="local")
    folder = io.save_model(m, tmp_path / "run1")
    assert files_in(folder) == ["digitlab.json", "kernels.csv", "weights_01.csv", "weights_12.csv"]
    got = io.load_model(folder)
    assert got.config == Config()
    for k in ("K", "W1", "W2"):
        assert got.params[k].dtype == np.float64
        np.testing.assert_array_equal(got.params[k], m.params[k])
    assert got.norm == m.norm
    assert got.record == m.record
    assert got.name == "run1"


def test_a_trio_without_digitlab_json_is_the_articles(tmp_path):
    m = article_model()
    m.norm = Normalisation(10.0, 70.0, "standard")
    folder = io.save_model(m, tmp_path / "run1")
    (folder / io.MANIFEST).unlink()
    got = io.load_model(folder)
    assert got.norm == Normalisation(io.ARTICLE_MEAN, io.ARTICLE_VARIANCE, "article")
    assert got.record == Record(mode="article", data_source="csv")
    np.testing.assert_array_equal(got.params["W1"], m.params["W1"])


def test_csv_files_look_like_pandas_to_csv(tmp_path):
    m = small_model()
    folder = io.save_model(m, tmp_path / "trio")
    for key, name in io.CSV_FILES.items():
        expected = pd.DataFrame(m.params[key]).to_csv(index=False)
        assert (folder / name).read_text() == expected
    lines = (folder / "kernels.csv").read_text().splitlines()
    assert lines[0] == ",".join(str(i) for i in range(25)) and len(lines) == 4


def test_float32_model_to_csv_keeps_its_values_and_dtype(tmp_path):
    m = small_model(dtype=np.float32)
    folder = io.save_model(m, tmp_path / "f32")
    got = io.load_model(folder)
    for k in ("K", "W1", "W2"):
        assert got.params[k].dtype == np.float32
        np.testing.assert_array_equal(got.params[k], m.params[k])
    (folder / io.MANIFEST).unlink()                     # as the article reads it: float64
    for k in ("K", "W1", "W2"):
        np.testing.assert_array_equal(io.load_model(folder).params[k], m.params[k].astype(np.float64))


def test_article_written_trio_loads_from_folder_or_any_file(tmp_path):
    """The article's own way of writing: DataFrame(a).to_csv('kernels.csv', index=False)."""
    folder = tmp_path / "article_run"
    folder.mkdir()
    rs = np.random.RandomState(7)
    K, W1, W2 = 2 * rs.random_sample((9, 64)) - 1, 2 * rs.random_sample((441, 100)) - 1, \
        2 * rs.random_sample((100, 10)) - 1
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        pd.DataFrame(K).to_csv("kernels.csv", index=False)
        pd.DataFrame(W1).to_csv("weights_01.csv", index=False)
        pd.DataFrame(W2).to_csv("weights_12.csv", index=False)
    finally:
        os.chdir(cwd)
    for where in (folder, folder / "kernels.csv", folder / "weights_12.csv"):
        m = io.load_model(where)
        assert m.name == "article_run" and m.config == Config()
        np.testing.assert_array_equal(m.params["W1"], W1)
    # it predicts: ten probabilities a digit
    p = m.predict_proba(np.zeros((2, 28, 28)))
    assert p.shape == (2, 10) and np.allclose(p.sum(axis=1), 1)


def test_csv_config_inferred_from_shapes(tmp_path):
    m = small_model()
    got = io.load_model(io.save_model(m, tmp_path / "small"))
    assert got.config == Config(kernels=3, kernel_size=5, hidden=7)


def test_loading_gives_a_new_model_each_time(tmp_path):
    path = io.save_model(small_model(), tmp_path / "m.npz")
    a, b = io.load_model(path), io.load_model(path)
    a.params["K"][0, 0] = 123.0
    assert b.params["K"][0, 0] != 123.0
    assert engine.load_model(path).params["K"][0, 0] != 123.0


# -- refusals ---------------------------------------------------------------------------
def test_biases_cannot_go_in_the_csv_trio(tmp_path):
    with pytest.raises(ModelFileError, match="biases.*npz"):
        io.save_model(small_model(biases=True), tmp_path / "trio")
    assert not (tmp_path / "trio").exists()


def test_a_model_for_other_images_is_neither_saved_nor_loaded(tmp_path):
    """A file for 10x10 images (or 9 classes), consistent in itself, would load and then
    make every 28x28 drawing raise."""
    for config, fault in ((Config(3, 5, 7, image_size=10), "'image_size' is 10"),
                          (Config(3, 5, 7, classes=9), "'classes' is 9")):
        m = Model.article_init(config, np.random.RandomState(0))
        with pytest.raises(ModelFileError, match=fault):
            io.save_model(m, tmp_path / "m.npz")
        np.savez(tmp_path / "old.npz", **m.params, config=np.array(json.dumps(m.config.to_dict())),
                 norm=np.array(json.dumps(m.norm.to_dict())))
        with pytest.raises(ModelFileError, match=fault) as err:
            io.load_model(tmp_path / "old.npz")
        assert str(tmp_path / "old.npz") in str(err.value)


def test_shipped_model_missing_is_clear(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "SHIPPED_MODEL", tmp_path / "resources" / "model.npz")
    with pytest.raises(ModelFileError, match="model.npz: the shipped model is missing"):
        io.load_model()


def test_shipped_model_loads_and_reads_the_sample_digits():
    """Measured, not the figure the file records: the shipped model on the bundled sample."""
    from engine.files.data import load_sample
    m = io.load_model()
    assert m.name == "shipped model"
    assert io.load_model(io.SHIPPED_MODEL).name == "model"      # by path: named after the file
    ds = load_sample()
    images = np.concatenate([ds.train_images, ds.test_images])
    labels = np.concatenate([ds.train_labels, ds.test_labels])
    accuracy = 100 * np.mean(m.predict_proba(images / 255.0).argmax(axis=1) == labels)
    assert accuracy >= 98.5


def test_not_a_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="absent.npz: no such file"):
        io.load_model(tmp_path / "absent.npz")
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(ModelFileError, match="notes.txt: not a model file"):
        io.load_model(p)


def _trio(tmp_path) -> Path:
    """An article's trio (no digitlab.json): the files are read as they are."""
    folder = io.save_model(small_model(), tmp_path / "trio")
    (folder / io.MANIFEST).unlink()
    return folder


def _edit(path: Path, fn):
    path.write_text(fn(path.read_text()))


def _replace_line(n, new):
    def fn(text):
        lines = text.split("\n")
        lines[n] = new(lines[n])
        return "\n".join(lines)
    return fn


CSV_FAULTS = {
    "missing file": ("weights_12.csv", None, "missing file"),
    "text for a number": ("weights_01.csv", _replace_line(3, lambda s: "abc" + s[s.index(","):]),
                          r"line 4, column 1: 'abc' is not a number"),
    "nan": ("kernels.csv", _replace_line(2, lambda s: "nan" + s[s.index(","):]), "NaN or infinity"),
    "infinity": ("weights_12.csv", _replace_line(1, lambda s: s[:s.rindex(",")] + ",inf"),
                 "NaN or infinity"),
    "cut short": ("weights_01.csv", lambda t: t[: len(t) // 2], "cut short"),
    "row missing": ("weights_01.csv", lambda t: t[: t.rindex("\n", 0, len(t) - 1) + 1],
                    r"575 rows, expected 576"),
    "wrong header": ("kernels.csv", _replace_line(0, lambda s: "a,b," + s[4:]), "header"),
    "header/rows disagree": ("kernels.csv", _replace_line(0, lambda s: s[: s.rindex(",")]),
                             "line 2 has 25 values, the header says 24"),
    "not square": ("kernels.csv", lambda t: "\n".join(",".join(ln.split(",")[:-1])
                                                         for ln in t.split("\n")),
                   "24 columns is not a square"),
    "W2 not 10 columns": ("weights_12.csv", lambda t: "\n".join(",".join(ln.split(",")[:-1])
                                                                 for ln in t.split("\n")),
                          r"shape 7 x 9, expected 7 x 10"),
    "empty": ("weights_12.csv", lambda t: "", "empty file"),
    "binary": ("kernels.csv", None, "not a text file"),
}


@pytest.mark.parametrize("case", list(CSV_FAULTS))
def test_bad_csv_files_are_refused_naming_the_file(tmp_path, case):
    name, edit, fault = CSV_FAULTS[case]
    folder = _trio(tmp_path)
    target = folder / name
    if case == "missing file":
        target.unlink()
    elif case == "binary":
        target.write_bytes(b"\x00\xff\xfe" * 20)
    else:
        _edit(target, edit)
    with pytest.raises(ModelFileError, match=fault) as err:
        io.load_model(folder)
    assert str(target) in str(err.value)


def _rewrite_npz(src: Path, dst: Path, **changes):
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    np.savez(dst, **arrays)


NPZ_FAULTS = {
    "missing arrays": ({"W2": None, "config": None}, "missing arrays: W2, config"),
    "wrong shape": ({"W1": np.zeros((576, 6))}, r"'W1' has shape \(576, 6\), expected \(576, 7\)"),
    "nan": ({"K": np.full((3, 25), np.nan)}, "NaN or infinity"),
    "whole numbers": ({"K": np.zeros((3, 25), np.int64)}, "expected floating-point"),
    "bad config values": ({"config": np.array(json.dumps({"kernels": -1, "kernel_size": 5, "hidden": 7}))},
                          "bad config: 'kernels' must be a whole number of at least 1, not -1"),
    "image size": ({"config": np.array(json.dumps({"kernels": 3, "kernel_size": 5, "hidden": 7,
                                                    "image_size": 10}))}, "'image_size' is 10; .*28x28"),
    "classes": ({"config": np.array(json.dumps({"kernels": 3, "kernel_size": 5, "hidden": 7,
                                                 "classes": 9}))}, "'classes' is 9; .*10 digits"),
    "biases as text": ({"config": np.array(json.dumps({"kernels": 3, "kernel_size": 5, "hidden": 7,
                                                        "biases": "false"}))},
                       "'biases' must be true or false, not 'false'"),
    "kernels as text": ({"config": np.array(json.dumps({"kernels": "3", "kernel_size": 5, "hidden": 7}))},
                        "'kernels' must be a whole number"),
    "kernels fractional": ({"config": np.array(json.dumps({"kernels": 3.5, "kernel_size": 5, "hidden": 7}))},
                           "'kernels' must be a whole number"),
    "too many parameters": ({"config": np.array(json.dumps({"kernels": 3, "kernel_size": 5,
                                                             "hidden": 10**9}))}, "more than the"),
    "unexpected biases": ({"b1": np.zeros(7)}, "unexpected arrays b1"),
    "norm offset as text": ({"norm": np.array(json.dumps({"offset": "33.5", "scale": 6221.3}))},
                            "'offset' must be a finite number"),
    "norm scale nan": ({"norm": np.array('{"offset": 0, "scale": NaN}')}, "'scale' must be a finite number"),
    "record field": ({"record": np.array(json.dumps({"mode": "article", "argmax_accuracy": "high"}))},
                     r"bad record: 'argmax_accuracy' must be a number, not 'high'"),
    "record mode": ({"record": np.array(json.dumps({"mode": 3}))}, "bad record: 'mode' must be text"),
    "record settings": ({"record": np.array(json.dumps({"settings": {"epochs": [1, 2]}}))},
                        "bad record: setting 'epochs'"),
    "record confusion": ({"record": np.array(json.dumps({"argmax_accuracy": 90,
                                                         "confusion": [[1, 2], [3, 4]]}))},
                         "bad record: 'confusion' must be a 10 x 10"),
    "record accuracy range": ({"record": np.array(json.dumps({"argmax_accuracy": 190}))},
                              "'argmax_accuracy' must lie in 0..100"),
    "newer format": ({"format": np.array("digitlab-model 7")}, "newer Digitlab"),
    "object array": ({"record": np.array([{"a": 1}], dtype=object)}, None),
    "config not json": ({"config": np.array("{kernels: 3")}, "'config' is not valid JSON"),
    "config not text": ({"config": np.zeros(3)}, "'config' is not text"),
    "bad norm": ({"norm": np.array(json.dumps({"offset": 0, "scale": 0}))}, "bad normalisation"),
    "norm kind": ({"norm": np.array(json.dumps({"offset": 0, "scale": 1, "kind": "odd"}))},
                  "unknown normalisation kind"),
    "record not an object": ({"record": np.array("[1, 2]")}, "a record must be a JSON object"),
}


@pytest.mark.parametrize("case", list(NPZ_FAULTS))
def test_bad_npz_files_are_refused_naming_the_file(tmp_path, case):
    good = io.save_model(small_model(), tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    changes, fault = NPZ_FAULTS[case]
    if fault is None:           # saved with pickling: numpy's own writer, then refused unread
        with np.load(good) as z:
            arrays = {k: z[k] for k in z.files}
        arrays.update(changes)
        np.savez(bad, **arrays)
        fault = "'record' holds Python objects"
    else:
        _rewrite_npz(good, bad, **changes)
    with pytest.raises(ModelFileError, match=fault) as err:
        io.load_model(bad)
    assert str(bad) in str(err.value)


@pytest.mark.parametrize("mangle", ["truncated", "flipped", "not a zip", "empty"])
def test_corrupt_npz_is_refused(tmp_path, mangle):
    blob = io.save_model(small_model(), tmp_path / "good.npz").read_bytes()
    if mangle == "truncated":
        blob = blob[: len(blob) * 2 // 3]
    elif mangle == "flipped":
        i = blob.index(b"\x93NUMPY") + 200          # inside the first array's data
        blob = blob[:i] + bytes([blob[i] ^ 0x55]) + blob[i + 1:]
    elif mangle == "not a zip":
        blob = b"hello, I am not a zip" * 10
    else:
        blob = b""
    bad = tmp_path / "bad.npz"
    bad.write_bytes(blob)
    with pytest.raises(ModelFileError) as err:
        io.load_model(bad)
    assert str(bad) in str(err.value)


# -- atomic writes ----------------------------------------------------------------------
def test_failed_npz_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = io.save_model(small_model(seed=1), tmp_path / "m.npz")
    before = path.read_bytes()

    def failing_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(ModelFileError, match="m.npz: writing failed"):
        io.save_model(small_model(seed=2), path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["m.npz"]


def test_failed_csv_write_leaves_the_old_trio(tmp_path, monkeypatch):
    folder = io.save_model(small_model(seed=1), tmp_path / "trio")
    before = {n: (folder / n).read_bytes() for n in files_in(folder)}
    real = pd.DataFrame.to_csv
    calls = []

    def flaky(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    with pytest.raises(ModelFileError, match="trio: writing the CSV files failed"):
        io.save_model(small_model(seed=2), folder)
    assert {n: (folder / n).read_bytes() for n in files_in(folder)} == before


def test_save_overwrites_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.npz"
    io.save_model(small_model(seed=1), path)
    io.save_model(small_model(seed=2), path)
    np.testing.assert_array_equal(io.load_model(path).params["K"], small_model(seed=2).params["K"])
    io.save_model(small_model(seed=3), tmp_path / "trio" / "kernels.csv")    # a file of the trio: its folder
    assert files_in(tmp_path) == ["m.npz", "trio"]
    assert files_in(tmp_path / "trio") == ["digitlab.json", "kernels.csv", "weights_01.csv", "weights_12.csv"]
    assert zipfile.is_zipfile(path)


def test_saved_files_are_readable_like_any_new_file(tmp_path):
    import os
    import stat
    from engine.net.model import Config, Model
    m = Model.article_init(Config(2, 5, 4), np.random.RandomState(0))
    umask = os.umask(0o022)
    try:
        out = io.save_model(m, tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


def test_saves_are_flushed_to_disk_before_they_replace_the_old_file(tmp_path, monkeypatch):
    """Durable, not only atomic: fsync of the new file before os.replace, of the folder after."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        import stat
        events.append(("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"))
        return real_fsync(fd)

    def replace(a, b):
        events.append(("replace", Path(b).name))
        return real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.save_model(small_model(), tmp_path / "m.npz")
    assert events == ["fsync-file", ("replace", "m.npz"), "fsync-dir"]
    events.clear()
    io.save_model(small_model(), tmp_path / "trio")
    # three staged files flushed, their folder flushed, the manifest written durably (the
    # commit), then each file put in place and the folder flushed
    assert events == ["fsync-file"] * 3 + ["fsync-dir", "fsync-file", ("replace", "digitlab.json"),
                                           "fsync-dir", ("replace", "kernels.csv"),
                                           ("replace", "weights_01.csv"), ("replace", "weights_12.csv"),
                                           "fsync-dir"]


# -- files written before Record existed -------------------------------------------------
OLD_FLAT_RECORD = {
    "mode": "backprop", "config": {"kernels": 3, "kernel_size": 5, "hidden": 7, "biases": False},
    "epochs": 3, "seed": 5, "alpha": 0.05, "batch": 64, "momentum": 0.9, "loss": "xent",
    "schedule": "cosine", "dropout": 0.0, "augment": False, "normalisation": "standard",
    "dtype": "float32", "data_source": "sample", "data": "data: bundled sample", "train_images": 4000,
    "test_images": 1000, "argmax_accuracy": 91.5, "test_error": 0.125, "percent_correct": 88.25,
    "train_error": 0.2, "train_seconds": 12.5, "made_by": "benchmarks/train_shipped.py"}


def test_a_model_file_with_the_old_flat_record_still_loads(tmp_path):
    """As the old writer did: numpy.savez of the arrays and the flat record as JSON text."""
    m = small_model(dtype=np.float32)
    path = tmp_path / "old.npz"
    np.savez(path, **m.params, config=np.array(json.dumps(m.config.to_dict())),
             norm=np.array(json.dumps({"offset": 33.3, "scale": 78.6, "kind": "standard"})),
             record=np.array(json.dumps(OLD_FLAT_RECORD)), name=np.array("old"),
             format=np.array("digitlab-model 1"))
    got = io.load_model(path)
    r = got.record
    assert (r.mode, r.iterations, r.train_images, r.data_source) == ("backprop", 3, 4000, "sample")
    assert r.settings == {"epochs": 3, "seed": 5, "alpha": 0.05, "batch": 64, "momentum": 0.9,
                          "loss": "xent", "schedule": "cosine", "dropout": 0.0, "augment": False,
                          "train": 4000, "kernels": 3, "kernel_size": 5, "hidden": 7, "biases": False}
    assert (r.test.argmax_accuracy, r.test.test_error, r.test.percent_correct, r.test.images) == \
        (91.5, 0.125, 88.25, 1000)
    assert r.train_error == 0.2 and r.train_seconds == 12.5
    assert r.notes == {"normalisation": "standard", "made_by": "benchmarks/train_shipped.py"}
    assert got.title == "old (91.50% test accuracy)"
    # the settings it names are a run the recipe can make again
    from engine.train.recipes import RunSettings
    s = RunSettings.from_dict({"mode": r.mode, **r.settings})
    assert (s.epochs, s.seed, s.train, s.kernels) == (3, 5, 4000, 3)
    # saved again, it is written in today's shape and reads back the same
    again = io.load_model(io.save_model(got, tmp_path / "new.npz"))
    assert again.record == r
    with np.load(tmp_path / "new.npz") as z:
        assert set(json.loads(str(z["record"]))) >= {"settings", "iterations", "test_error"}
