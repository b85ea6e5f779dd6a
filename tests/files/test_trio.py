"""The article's CSV trio with Digitlab's digitlab.json: same predictions as the .npz, and a
save interrupted between files reads as the old set or the new one, never a mix."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from engine.files import modelfile as io
from engine.files.modelfile import ModelFileError
from engine.net.model import Config, Model, Normalisation
from engine.train.record import Record


def backprop_model(seed: int, dtype=np.float64) -> Model:
    """A backprop-mode model as the recipe makes one: scaled init, standard normalisation."""
    norm = Normalisation(33.318421449829934, 78.56748998339798, "standard")
    m = Model.scaled_init(Config(4, 5, 16), np.random.default_rng(seed), norm, dtype)
    m.record = Record(mode="backprop", settings={"epochs": 2, "seed": seed}, iterations=2)
    return m


def images(n=50, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csv_round_trip_predicts_exactly_as_the_npz(tmp_path, dtype):
    m = backprop_model(1, dtype)
    via_npz = io.load_model(io.save_model(m, tmp_path / "m.npz"))
    via_csv = io.load_model(io.save_model(m, tmp_path / "trio"))
    x = images()
    expected = m.predict_proba(x)
    np.testing.assert_array_equal(via_npz.predict_proba(x), expected)
    np.testing.assert_array_equal(via_csv.predict_proba(x), expected)     # float64: exact
    assert via_csv.norm == m.norm and via_csv.dtype == m.dtype and via_csv.record == m.record


def test_the_articles_reader_ignores_digitlab_json(tmp_path):
    m = backprop_model(2)
    folder = io.save_model(m, tmp_path / "trio")
    # the article's code reads each file with pandas, as a table with a header line
    for key, name in io.CSV_FILES.items():
        np.testing.assert_array_equal(pd.read_csv(folder / name).to_numpy(), m.params[key])
    manifest = json.loads((folder / io.MANIFEST).read_text())
    assert manifest["norm"] == m.norm.to_dict() and manifest["dtype"] == "float64"


def test_a_file_changed_since_the_save_is_refused_clearly(tmp_path):
    folder = io.save_model(backprop_model(1), tmp_path / "trio")
    pd.DataFrame(backprop_model(2).params["W2"]).to_csv(folder / "weights_12.csv", index=False)
    with pytest.raises(ModelFileError, match="weights_12.csv: does not match digitlab.json: a save "
                                             "into this folder was interrupted"):
        io.load_model(folder)


def _state(model: Model) -> dict:
    return {k: v.copy() for k, v in model.params.items()}


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4])
def test_a_save_interrupted_between_files_reads_as_the_old_set_or_the_new(tmp_path, monkeypatch,
                                                                         crash_at):
    """The process 'dies' at the crash_at-th os.replace of the save (1: the manifest, the
    commit; 2-4: the three files put in place): what loads is wholly old or wholly new."""
    old, new = backprop_model(1), backprop_model(2)
    old.record, new.record = Record(mode="backprop", iterations=1), Record(mode="backprop", iterations=2)
    folder = io.save_model(old, tmp_path / "trio")
    real, calls = os.replace, []

    def crashing_replace(src, dst):
        calls.append(dst)
        if len(calls) == crash_at:
            raise OSError(5, "Input/output error (simulated crash)")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(ModelFileError):
        io.save_model(new, folder)
    monkeypatch.setattr(os, "replace", real)
    got = io.load_model(folder)
    want = old if crash_at == 1 else new
    for k, v in _state(want).items():
        np.testing.assert_array_equal(got.params[k], v)
    assert got.record == want.record
    # the article's reader: the files in place are a mix only after the commit, and the next
    # save tidies everything
    io.save_model(new, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["digitlab.json", "kernels.csv",
                                                        "weights_01.csv", "weights_12.csv"]
    for k, v in _state(new).items():
        np.testing.assert_array_equal(io.load_model(folder).params[k], v)


def test_an_interrupted_first_save_with_no_older_set(tmp_path, monkeypatch):
    real, calls = os.replace, []

    def crashing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "simulated crash")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", crashing_replace)
    m = backprop_model(3)
    with pytest.raises(ModelFileError, match="loads as saved"):
        io.save_model(m, tmp_path / "trio")
    monkeypatch.setattr(os, "replace", real)
    np.testing.assert_array_equal(io.load_model(tmp_path / "trio").params["W1"], m.params["W1"])


@pytest.mark.parametrize("edit, fault", [
    (lambda d: d.update(format="digitlab-model 9"), "format"),
    (lambda d: d["config"].update(image_size=10), "'image_size' is 10"),
    (lambda d: d["config"].update(biases=True), "biases"),
    (lambda d: d.update(dtype="int8"), "'dtype' must be float32 or float64"),
    (lambda d: d["norm"].update(scale=-1), "scale -1 must lie in"),
    (lambda d: d["record"].update(argmax_accuracy="high"), "'argmax_accuracy' must be a number"),
    (lambda d: d["files"]["kernels.csv"].update(sha256="x"), "no valid SHA-256 for kernels.csv"),
    (lambda d: d["files"]["kernels.csv"].update(staged="../../etc/passwd"), "bad staged file name"),
    (lambda d: d.pop("files"), "'files' must list"),
])
def test_a_bad_digitlab_json_is_refused_naming_it(tmp_path, edit, fault):
    folder = io.save_model(backprop_model(1), tmp_path / "trio")
    d = json.loads((folder / io.MANIFEST).read_text())
    edit(d)
    (folder / io.MANIFEST).write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match=fault) as err:
        io.load_model(folder)
    assert str(folder / io.MANIFEST) in str(err.value)
