"""Size limits and file kinds: small files that expand to gigabytes are refused from their
headers, with little memory; FIFOs and devices are refused before they are opened."""
from __future__ import annotations

import os
import threading
import tracemalloc

import numpy as np
import pytest

from engine.files import data, modelfile as io
from engine.files.data import DataError
from engine.files.modelfile import ModelFileError
from engine.net.model import Config, Model

from .bombs import gzip_idx_bomb, npz_bomb

MB = 1 << 20


def _model() -> Model:
    return Model.article_init(Config(), np.random.RandomState(0))


def _refused_with_little_memory(fn, error, match):
    """Call fn: it must raise ``error`` matching ``match``; returns the peak traced memory."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match) as err:
            fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return err.value, peak


def test_a_model_file_with_an_array_swapped_for_3_gb_of_zeros(tmp_path):
    good = io.save_model(_model(), tmp_path / "good.npz")
    bomb = npz_bomb(good, tmp_path / "bomb.npz", "W1", 400_000_000)
    assert bomb.stat().st_size < 8 * MB
    err, peak = _refused_with_little_memory(lambda: io.load_model(bomb), ModelFileError,
                                            r"'W1' has shape \(400000000,\), expected \(441, 100\)")
    assert str(bomb) in str(err)
    assert peak < 16 * MB


def test_a_model_file_whose_array_holds_more_than_its_header_says(tmp_path):
    """The right header, then gigabytes: reading stops one byte past the declared data."""
    import zipfile
    import zlib

    from .bombs import _deflate_zeros, _write_zip
    good = io.save_model(_model(), tmp_path / "good.npz")
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(good) as z:
        members = [(i.filename, z.read(i.filename), 0, 0, i.file_size) for i in z.infolist()
                   if i.filename != "K.npy"]
        head = z.read("K.npy")[:128]          # the right header (shape (9, 64)), then 1 GB
    members = [(n, d, 0, zlib.crc32(d), s) for n, d, _, _, s in members]
    body, _ = _deflate_zeros(head, 1_000_000_000, crc=False)
    members.append(("K.npy", body, 8, 0, len(head) + 1_000_000_000))
    _write_zip(bomb, members)
    err, peak = _refused_with_little_memory(lambda: io.load_model(bomb), ModelFileError,
                                            "'K' holds more data than its shape")
    assert str(bomb) in str(err) and peak < 16 * MB


def test_a_config_declaring_a_billion_parameters_is_refused_unread(tmp_path):
    import json
    good = io.save_model(_model(), tmp_path / "good.npz")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["config"] = np.array(json.dumps({"kernels": 9, "kernel_size": 8, "hidden": 3_000_000}))
    np.savez(tmp_path / "big.npz", **arrays)
    with pytest.raises(ModelFileError, match="more than the 50,000,000 a model file may hold"):
        io.load_model(tmp_path / "big.npz")


def test_a_gzip_idx_file_decompressing_past_its_header_is_refused(tmp_path):
    bomb = gzip_idx_bomb(tmp_path / "train-images-idx3-ubyte.gz", images=10, zeros=1_000_000_000)
    assert bomb.stat().st_size < 2 * MB
    err, peak = _refused_with_little_memory(lambda: data.read_idx(bomb), DataError,
                                            "more bytes than the header declares")
    assert str(bomb) in str(err) and peak < 16 * MB


def test_an_idx_header_declaring_too_many_pixels_is_refused_unread(tmp_path):
    head = (0x0803).to_bytes(4, "big") + np.asarray((200_000, 28, 28), ">u4").tobytes()
    p = tmp_path / "t10k-images-idx3-ubyte"
    p.write_bytes(head + bytes(1000))
    with pytest.raises(DataError, match=r"200000 x 28 x 28 = 156,800,000 values, more than the "
                                        r"100,000,000"):
        data.read_idx(p)


def test_a_data_npz_declaring_too_many_images_is_refused_unread(tmp_path):
    good = tmp_path / "good.npz"
    rs = np.random.RandomState(0)
    np.savez(good, x_train=rs.randint(0, 256, (3, 28, 28)).astype(np.uint8), y_train=np.arange(3),
             x_test=rs.randint(0, 256, (2, 28, 28)).astype(np.uint8), y_test=np.arange(2))
    bomb = npz_bomb(good, tmp_path / "mnist.npz", "x_train", 200_000 * 784, np.uint8)
    # the bomb declares a flat array: refused for its shape; and a 3-D one for its size
    with pytest.raises(DataError, match=r"'x_train' images of shape \(156800000,\)"):
        data.load_local(bomb)


def test_a_csv_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    folder = io.save_model(_model(), tmp_path / "trio")
    size = (folder / "weights_01.csv").stat().st_size
    monkeypatch.setattr(io, "MAX_CSV_BYTES", size - 1)
    with pytest.raises(ModelFileError, match=r"weights_01.csv: .* bytes, more than the"):
        io.load_model(folder)
    with pytest.raises(ModelFileError, match="save it as a .npz file"):
        io.save_model(_model(), tmp_path / "new" / "other")
    assert not (tmp_path / "new").exists()          # the folders made for the save: gone again


# -- not regular files ---------------------------------------------------------------------
def _never_blocks(fn):
    """Run fn on a thread; a FIFO opened for reading would block it until a writer comes."""
    out = {}

    def run():
        try:
            fn()
        except Exception as e:      # noqa: BLE001 - handed to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    if t.is_alive():                # unblock it: open the FIFO for writing, then fail
        pytest.fail("reading blocked on a FIFO")
    return out.get("error")


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


@needs_fifo
def test_a_fifo_named_like_a_model_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.npz"
    os.mkfifo(fifo)
    try:
        err = _never_blocks(lambda: io.load_model(fifo))
        assert isinstance(err, ModelFileError) and "x.npz: is a FIFO" in str(err)
    finally:
        _unblock(fifo)


@needs_fifo
def test_a_fifo_in_a_csv_trio_or_an_idx_folder_is_refused_without_blocking(tmp_path):
    folder = io.save_model(_model(), tmp_path / "trio")
    (folder / "weights_12.csv").unlink()
    os.mkfifo(folder / "weights_12.csv")
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    for name, a in (("train-images-idx3-ubyte", np.zeros((2, 28, 28))), ("train-labels-idx1-ubyte", [1, 2]),
                    ("t10k-images-idx3-ubyte", np.zeros((1, 28, 28))), ("t10k-labels-idx1-ubyte", [3])):
        data.write_idx(mnist / name, np.asarray(a, np.uint8))
    (mnist / "t10k-labels-idx1-ubyte").unlink()
    os.mkfifo(mnist / "t10k-labels-idx1-ubyte")
    try:
        err = _never_blocks(lambda: io.load_model(folder))
        assert isinstance(err, ModelFileError) and "weights_12.csv: is a FIFO" in str(err)
        err = _never_blocks(lambda: data.load_local(mnist))
        assert isinstance(err, DataError) and "t10k-labels-idx1-ubyte: is a FIFO" in str(err)
        (folder / io.MANIFEST).unlink()          # the article's trio, read as it is
        err = _never_blocks(lambda: io.load_model(folder))
        assert isinstance(err, ModelFileError) and "weights_12.csv: is a FIFO" in str(err)
    finally:
        _unblock(folder / "weights_12.csv")
        _unblock(mnist / "t10k-labels-idx1-ubyte")


def _unblock(fifo):
    """Release a reader blocked on ``fifo`` (only when a test failed)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return                      # no reader waiting
    os.close(fd)
