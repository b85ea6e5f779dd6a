"""Model files whose JSON values are out of range (issue 20, faults 7 and 8) and a fuzz test of
the reader that mutates the parsed JSON values (not the zip bytes)."""
from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.files import modelfile
from engine.files.modelfile import ModelFileError
from engine.net.model import Config, Model, Normalisation

ROOT = Path(__file__).resolve().parents[2]


def _model() -> Model:
    m = Model.article_init(Config(kernels=2, kernel_size=25, hidden=3), np.random.RandomState(0))
    m.record.iterations, m.record.train_images = 2, 300
    return m


def _members(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write(path: Path, members: dict) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **members)
    path.write_bytes(buf.getvalue())
    return path


def _with_json(path: Path, key: str, change) -> Path:
    """Rewrite the model file with ``change(d)`` applied to its parsed JSON member ``key``."""
    m = _members(path)
    d = json.loads(str(m[key][()]))
    d = change(d) or d
    m[key] = np.array(json.dumps(d))           # json.dumps writes NaN, Infinity as Python does
    return _write(path, m)


def cli(*args, cwd, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def one_clean_line(r, code=2):
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


# -- fault 7: NaN, Infinity, 1e400 in a whole-number field -----------------------------------
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_record_with_nan_or_infinity_in_a_whole_number_is_refused_naming_the_file(tmp_path, literal):
    path = modelfile.save_model(_model(), tmp_path / "m.npz")
    m = _members(path)
    text = str(m["record"][()])
    assert '"iterations": 2' in text
    m["record"] = np.array(text.replace('"iterations": 2', f'"iterations": {literal}'))
    _write(path, m)
    with pytest.raises(ModelFileError, match="iterations.*whole number"):
        modelfile.load_model(path)
    line = one_clean_line(cli("evaluate", path, "--source", "sample", cwd=tmp_path))
    assert "m.npz" in line and "iterations" in line


def test_a_digitlab_json_with_nan_in_a_whole_number_is_refused(tmp_path):
    folder = modelfile.save_model(_model(), tmp_path / "trio")
    manifest = folder / "digitlab.json"
    d = json.loads(manifest.read_text())
    d["record"]["train_images"] = math.nan
    manifest.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match="digitlab.json.*train_images"):
        modelfile.load_model(folder)


# -- fault 8: values the reader accepted that give NaN ---------------------------------------
@pytest.mark.parametrize("key, change", [
    ("norm", lambda d: d.update(scale=1e-300)),
    ("norm", lambda d: d.update(offset=1e300)),
])
def test_a_normalisation_that_overflows_is_refused(tmp_path, key, change):
    path = _with_json(modelfile.save_model(_model(), tmp_path / "m.npz"), key, change)
    with pytest.raises(ModelFileError, match="m.npz: bad normalisation"):
        modelfile.load_model(path)


def test_a_tiny_temperature_is_refused(tmp_path):
    path = modelfile.save_model(_model(), tmp_path / "m.npz")
    m = _members(path)
    m["temperature"] = np.array(1e-300)
    _write(path, m)
    with pytest.raises(ModelFileError, match="m.npz: 'temperature'"):
        modelfile.load_model(path)
    line = one_clean_line(cli("evaluate", path, "--source", "sample", cwd=tmp_path))
    assert "temperature" in line


def test_a_float32_weight_near_its_largest_is_refused(tmp_path):
    model = _model().astype(np.float32)
    path = modelfile.save_model(model, tmp_path / "m.npz")
    m = _members(path)
    m["W1"] = m["W1"].copy()
    m["W1"][0, 0] = np.float32(3e38)
    _write(path, m)
    with pytest.raises(ModelFileError, match="m.npz: 'W1' holds"):
        modelfile.load_model(path)
    assert "W1" in one_clean_line(cli("evaluate", path, "--source", "sample", cwd=tmp_path))


def test_a_model_that_overflows_is_not_saved(tmp_path):
    model = _model()
    model.params["W2"][0, 0] = 1e30
    with pytest.raises(ModelFileError, match="W2"):
        modelfile.save_model(model, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


# -- the fuzz test: mutate the parsed JSON values --------------------------------------------
_BASE = None


def _base() -> dict:
    global _BASE
    if _BASE is None:
        model = _model().astype(np.float32)
        model.temperature = 1.5
        model.norm = Normalisation(33.0, 78.0, "standard")
        model.record.settings = {"seed": 1, "alpha": 0.01, "mode": "article"}
        model.record.test = None
        arrays = {k: np.asarray(v) for k, v in model.params.items()}
        arrays.update(config=model.config.to_dict(), norm=model.norm.to_dict(),
                      record=model.record.to_dict(), temperature=model.temperature)
        arrays["record"].update(test_error=0.1, percent_correct=90.0, argmax_accuracy=91.0, images=10,
                                confusion=np.eye(10, dtype=int).tolist())
        _BASE = arrays
    return _BASE


EXTREME = st.sampled_from([1e-300, -1e300, 1e300, 1e-45, 3e38])
USUAL = st.sampled_from([0, -1, 2**31, 2**63, 0.5, 28, 10, math.nan, math.inf])
ODD = st.one_of(
    EXTREME, EXTREME, EXTREME, USUAL, st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def mutated(draw):
    base = _base()
    member = draw(st.sampled_from(["config", "norm", "norm", "record", "temperature"]))
    out = {k: (json.loads(json.dumps(v)) if k in ("config", "norm", "record") else v) for k, v in base.items()}
    if member == "temperature":
        out["temperature"] = draw(ODD)
        return out
    d = out[member]
    keys = sorted(d) + ["extra"]
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(keys))
        if key == "confusion" and draw(st.booleans()):
            row = draw(st.integers(0, 9))
            d["confusion"][row][draw(st.integers(0, 9))] = draw(ODD)
        elif key == "settings" and draw(st.booleans()):
            d["settings"][draw(st.sampled_from(["seed", "alpha", "mode", "kernels"]))] = draw(ODD)
        else:
            d[key] = draw(ODD)
    if draw(st.booleans()):
        d.pop(draw(st.sampled_from(keys)), None)
    return out


def _save(tmp: Path, members: dict) -> Path:
    arrays = {}
    for k, v in members.items():
        if k in ("config", "norm", "record"):
            arrays[k] = np.array(json.dumps(v))
        elif k == "temperature":
            try:
                arrays[k] = np.array(v, dtype=np.float64) if not isinstance(v, (str, list, dict)) \
                    and v is not None else np.array(str(v))
            except (OverflowError, ValueError, TypeError):
                arrays[k] = np.array(str(v))
        else:
            arrays[k] = v
    return _write(tmp / "fuzz.npz", arrays)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(members=mutated())
def test_fuzz_the_json_values_a_model_file_holds(tmp_path, members):
    """Any value in any JSON field: the model loads and reads images to finite probabilities
    (its record shown and saved back), or the reader refuses the file naming it."""
    path = _save(tmp_path, members)
    try:
        model = modelfile.load_model(path)
    except ModelFileError as e:
        assert "fuzz.npz" in str(e)
        return
    images = np.concatenate([np.zeros((1, 28, 28)), np.ones((1, 28, 28)),
                             np.random.RandomState(0).rand(2, 28, 28)])
    p = model.predict_proba(images)
    assert p.shape == (4, 10) and np.all(np.isfinite(p)) and np.allclose(p.sum(1), 1)
    assert isinstance(model.title, str)
    json.dumps(model.record.to_dict(), default=str)
    again = modelfile.load_model(modelfile.save_model(model, tmp_path / "again.npz"))
    assert np.array_equal(again.predict_proba(images), p)
