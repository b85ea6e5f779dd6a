"""Fuzzing the readers: any bytes give a valid result or DataError / ModelFileError, nothing else."""
from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.files import data, modelfile as io
from engine.files.data import DataError
from engine.files.modelfile import ModelFileError
from engine.net.model import Config, Model
from engine.train.record import Record, TestFigures

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="digitlab-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _model() -> Model:
    return Model.article_init(Config(kernels=2, kernel_size=25, hidden=3), np.random.RandomState(0))


def _idx_blobs() -> dict[str, bytes]:
    rs = np.random.RandomState(0)
    images = rs.randint(0, 256, (3, 28, 28)).astype(np.uint8)
    labels = rs.randint(0, 10, 3).astype(np.uint8)
    img = (0x0803).to_bytes(4, "big") + np.asarray(images.shape, ">u4").tobytes() + images.tobytes()
    lab = (0x0801).to_bytes(4, "big") + np.asarray(labels.shape, ">u4").tobytes() + labels.tobytes()
    return {"images": img, "labels": lab, "images.gz": gzip.compress(img, mtime=0),
            "labels.gz": gzip.compress(lab, mtime=0)}


IDX = _idx_blobs()


def mutations(blob: bytes):
    """A valid file cut short, with a few bytes flipped, or with bytes inserted."""
    n = len(blob)
    cut = st.integers(0, max(n - 1, 0)).map(lambda i: blob[:i])
    flips = st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1, max_size=4)

    def flip(changes):
        b = bytearray(blob)
        for i, x in changes:
            b[i] ^= x
        return bytes(b)

    insert = st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=8)).map(
        lambda t: blob[:t[0]] + t[1] + blob[t[0]:])
    return st.one_of(cut, flips.map(flip), insert)


def _write(workdir: Path, name: str, blob: bytes) -> Path:
    p = workdir / name
    p.write_bytes(blob)
    return p


# -- IDX --------------------------------------------------------------------------------
@FUZZ
@given(blob=st.one_of(st.binary(max_size=200),
                      st.binary(max_size=60).map(lambda b: b"\x00\x00\x08\x03" + b),
                      st.binary(max_size=60).map(lambda b: b"\x00\x00\x08\x01" + b),
                      st.binary(max_size=60).map(lambda b: b"\x1f\x8b" + b)))
def test_idx_arbitrary_bytes(workdir, blob):
    p = _write(workdir, "any-idx", blob)
    try:
        a = data.read_idx(p)
    except DataError as e:
        assert str(p) in str(e)
    else:
        assert a.dtype == np.uint8 and a.ndim in (1, 3)


@FUZZ
@given(st.sampled_from(sorted(IDX)).flatmap(lambda k: mutations(IDX[k])))
def test_idx_mutations(workdir, blob):
    p = _write(workdir, "mutated-idx", blob)
    try:
        a = data.read_idx(p)
    except DataError:
        return
    assert a.ndim in (1, 3)


@FUZZ
@given(role=st.sampled_from(["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]), data_=st.data())
def test_idx_folder_with_a_mutated_file(workdir, role, data_):
    folder = workdir / "idxfolder"
    folder.mkdir(exist_ok=True)
    for name, key in (("train-images-idx3-ubyte", "images"), ("train-labels-idx1-ubyte", "labels"),
                      ("t10k-images-idx3-ubyte", "images"), ("t10k-labels-idx1-ubyte", "labels")):
        (folder / name).write_bytes(IDX[key])
    key = "images" if "images" in role else "labels"
    (folder / role).write_bytes(data_.draw(mutations(IDX[key])))
    try:
        ds = data.load_local(folder)
    except DataError:
        return
    assert ds.train_images.shape[1:] == (28, 28)
    assert len(ds.train_images) == len(ds.train_labels)
    assert ds.train_labels.min() >= 0 and ds.train_labels.max() <= 9


# -- data npz ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_npz(workdir) -> bytes:
    rs = np.random.RandomState(1)
    p = workdir / "mnist-source.npz"
    np.savez(p, x_train=rs.randint(0, 256, (2, 28, 28)).astype(np.uint8), y_train=np.array([1, 2], np.uint8),
             x_test=rs.randint(0, 256, (1, 28, 28)).astype(np.uint8), y_test=np.array([3], np.uint8))
    return p.read_bytes()


@FUZZ
@given(data_=st.data())
def test_data_npz_mutations_and_bytes(workdir, data_npz, data_):
    blob = data_.draw(st.one_of(mutations(data_npz), st.binary(max_size=300),
                                st.binary(max_size=100).map(lambda b: b"PK\x03\x04" + b)))
    p = _write(workdir, "mnist.npz", blob)
    try:
        ds = data.load_local(p)
    except DataError as e:
        assert str(p) in str(e)
        return
    assert ds.train_images.dtype == np.uint8


# -- model CSV --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def csv_trio(workdir) -> dict[str, bytes]:
    """The article's trio (the files alone: a digitlab.json would refuse any change)."""
    folder = io.save_model(_model(), workdir / "trio-source")
    return {name: (folder / name).read_bytes() for name in io.CSV_FILES.values()}


def _load_trio(workdir: Path, trio: dict[str, bytes], name: str, blob: bytes):
    folder = workdir / "trio"
    folder.mkdir(exist_ok=True)
    for n, b in trio.items():
        (folder / n).write_bytes(blob if n == name else b)
    try:
        m = io.load_model(folder)
    except ModelFileError as e:
        assert str(folder) in str(e)
        return None
    m.check()
    return m


@FUZZ
@given(name=st.sampled_from(sorted(io.CSV_FILES.values())), data_=st.data())
def test_csv_mutations(workdir, csv_trio, name, data_):
    _load_trio(workdir, csv_trio, name, data_.draw(mutations(csv_trio[name])))


_csv_text = st.text(alphabet=st.sampled_from(list("0123456789,.-+eE\n\r naifNIF_x")), max_size=200)


@FUZZ
@given(name=st.sampled_from(sorted(io.CSV_FILES.values())),
       blob=st.one_of(st.binary(max_size=200), _csv_text.map(str.encode)))
def test_csv_arbitrary_content(workdir, csv_trio, name, blob):
    _load_trio(workdir, csv_trio, name, blob)


# -- model npz --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_npz(workdir) -> bytes:
    m = _model()
    m.record = Record(mode="article", iterations=3,
                      test=TestFigures(0.2, 80.0, 85.0, 100, np.eye(10, dtype=int)))
    return io.save_model(m, workdir / "model-source.npz").read_bytes()


@FUZZ
@given(data_=st.data())
def test_model_npz_mutations_and_bytes(workdir, model_npz, data_):
    blob = data_.draw(st.one_of(mutations(model_npz), st.binary(max_size=300),
                                st.binary(max_size=100).map(lambda b: b"PK\x03\x04" + b)))
    p = _write(workdir, "model.npz", blob)
    try:
        m = io.load_model(p)
    except ModelFileError as e:
        assert str(p) in str(e)
        return
    m.check()


# -- a CSV trio's digitlab.json ------------------------------------------------------------
@pytest.fixture(scope="module")
def trio_with_manifest(workdir) -> dict[str, bytes]:
    folder = io.save_model(_model(), workdir / "manifest-source")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@FUZZ
@given(data_=st.data())
def test_manifest_mutations(workdir, trio_with_manifest, data_):
    folder = workdir / "manifest-trio"
    folder.mkdir(exist_ok=True)
    blob = data_.draw(mutations(trio_with_manifest[io.MANIFEST]))
    for n, b in trio_with_manifest.items():
        (folder / n).write_bytes(blob if n == io.MANIFEST else b)
    try:
        m = io.load_model(folder)
    except ModelFileError as e:
        assert str(folder) in str(e)
        return
    m.check()
