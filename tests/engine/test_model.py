"""The batched forward pass against a plain per-image reference, and the model's contracts."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.net.evaluate import confusion_matrix, evaluate, onehot, targets
from engine.net.model import Config, Model, Normalisation, kernel_side, windows


def reference_windows(image, f):
    """Plain loop: row p = i*r + j is image[i:i+f, j:j+f] flattened."""
    r = image.shape[0] - f + 1
    out = np.zeros((r * r, f * f))
    for i in range(r):
        for j in range(r):
            out[i * r + j] = image[i:i + f, j:j + f].ravel()
    return out


def reference_forward(model, image, pooled_tanh=True):
    """One image, written for reading, following the article's steps."""
    p = model.params
    F = reference_windows(image, model.config.kernel_size).T          # (f*f, P)
    A = p["K"] @ F                                                     # (k, P)
    which = np.argmax(A, axis=0)
    l0 = A.max(axis=0)
    if pooled_tanh:
        l0 = np.tanh(l0)
    z1 = l0 @ p["W1"] + p.get("b1", 0.0)
    l1 = np.tanh(z1)
    z2 = l1 @ p["W2"] + p.get("b2", 0.0)
    l2 = np.exp(z2) / np.exp(z2).sum()
    return A, which, l0, l1, l2


@pytest.mark.parametrize("cfg", [Config(), Config(4, 5, 30), Config(2, 3, 7, biases=True)])
@pytest.mark.parametrize("pooled_tanh", [True, False])
def test_forward_matches_reference(cfg, pooled_tanh):
    rng = np.random.RandomState(1)
    m = Model.article_init(cfg, rng)
    if cfg.biases:
        m.params["b1"][:] = rng.randn(cfg.hidden)
        m.params["b2"][:] = rng.randn(10)
    X = rng.rand(3, 28, 28) * 0.05
    fw = m.forward(X, pooled_tanh=pooled_tanh)
    r = cfg.side
    for n in range(3):
        A, which, l0, l1, l2 = reference_forward(m, X[n], pooled_tanh)
        np.testing.assert_allclose(fw.maps[n].reshape(cfg.kernels, -1), A, atol=1e-12)
        assert np.array_equal(fw.winner[n].ravel(), which)
        np.testing.assert_allclose(fw.pooled[n], l0, atol=1e-12)
        np.testing.assert_allclose(fw.hidden[n], l1, atol=1e-12)
        np.testing.assert_allclose(fw.proba[n], l2, atol=1e-12)
    assert fw.maps.shape == (3, cfg.kernels, r, r) and fw.winner.shape == (3, r, r)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_without_maps_takes_the_fused_path_and_agrees(dtype):
    cfg = Config(5, 6, 20, biases=True)
    m = Model.scaled_init(cfg, np.random.default_rng(3), dtype=dtype)
    X = np.random.RandomState(4).randn(37, 28, 28).astype(dtype)
    full = m.forward(X)
    fast = m.forward(X, maps=False)
    assert fast.maps is None
    assert np.array_equal(full.winner, fast.winner)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(full[2:], fast[2:]):
        np.testing.assert_allclose(a, b, atol=tol)


@given(st.integers(1, 8), st.integers(8, 12))
@settings(max_examples=20, deadline=None)
def test_windows_match_reference(f, s):
    img = np.arange(s * s, dtype=float).reshape(1, s, s)
    assert np.array_equal(windows(img, f)[0], reference_windows(img[0], f))


def test_article_init_matches_numpy_global_seed():
    m = Model.article_init(Config(), np.random.RandomState(7))
    np.random.seed(7)
    K = 2.0 * np.random.random((9, 64)) - 1.0
    W1 = 2.0 * np.random.random((441, 100)) - 1.0
    W2 = 2.0 * np.random.random((100, 10)) - 1.0
    assert np.array_equal(m.params["K"], K) and np.array_equal(m.params["W1"], W1)
    assert np.array_equal(m.params["W2"], W2)


def test_predict_proba_applies_the_models_normalisation():
    m = Model.article_init(Config(4, 5, 20), np.random.RandomState(0),
                           Normalisation(offset=33.0, scale=6000.0, kind="article"))
    imgs = np.random.RandomState(2).rand(4, 28, 28)
    p = m.predict_proba(imgs)
    assert p.shape == (4, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, m.forward((imgs * 255 - 33.0) / 6000.0).proba)


def test_check_refuses_bad_parameters(small_model):
    m = small_model()
    with pytest.raises(ValueError, match="W1 has shape"):
        Model(m.config, {**m.params, "W1": np.zeros((10, 10))})
    bad = m.params["W2"].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Model(m.config, {**m.params, "W2": bad})


def test_config_validates():
    with pytest.raises(ValueError):
        Config(kernels=0)
    with pytest.raises(ValueError):
        Config(kernel_size=29)
    assert Config(kernel_size=5).positions == 24 * 24


def test_evaluate_names_the_two_accuracies_apart():
    """Arg-max counts a 0.4 winner as right; the article's metric needs > 0.5 and every other < 0.5."""
    class Fixed(Model):
        def forward(self, X, **kw):
            out = super().forward(X, **kw)
            proba = np.array([[0.4, 0.3, 0.3] + [0.0] * 7, [0.9, 0.1] + [0.0] * 8])
            return out._replace(proba=proba)
    m = Fixed.article_init(Config(), np.random.RandomState(0))
    r = evaluate(m, np.zeros((2, 28, 28)), np.array([0, 0]))
    assert r.argmax_accuracy == 100.0
    assert r.percent_correct == 50.0
    assert r.images == 2 and r.confusion[0, 0] == 2
    assert np.isclose(r.test_error, ((0.36 + 0.09 + 0.09) + (0.01 + 0.01)) / 2)


def test_onehot_and_confusion():
    y = np.array([0, 2, 2, 9])
    np.testing.assert_array_equal(onehot(y), np.eye(10)[y])
    c = confusion_matrix(y, np.array([0, 2, 1, 9]))
    expected = np.zeros((10, 10), int)
    expected[0, 0] = expected[2, 1] = expected[2, 2] = expected[9, 9] = 1
    np.testing.assert_array_equal(c, expected)


def test_targets_name_what_is_wrong():
    np.testing.assert_array_equal(targets(np.eye(10)[[3, 1]], count=2), np.eye(10)[[3, 1]])
    with pytest.raises(ValueError, match="whole numbers"):
        targets(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"0\.\.9, found -1\.\.4"):
        targets(np.array([-1, 4]))
    with pytest.raises(ValueError, match=r"one-hot rows \(N, 10\), not shape \(2, 3\)"):
        targets(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3 targets for 2 images"):
        targets(np.eye(10)[:3], count=2)
    with pytest.raises(ValueError, match="labels must have shape"):
        onehot(np.eye(10))
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        evaluate(Model.article_init(Config(), np.random.RandomState(0)), np.zeros((2, 28, 28)),
                 np.array([1, 2, 3]))


def test_kernel_side():
    assert kernel_side(64) == 8 and kernel_side(1) == 1
    with pytest.raises(ValueError, match="not square"):
        kernel_side(63)


def test_an_empty_batch_gives_empty_results(small_model):
    m = small_model()
    assert m.predict_proba(np.zeros((0, 28, 28))).shape == (0, 10)
    assert m.forward(np.zeros((0, 28, 28))).maps.shape == (0, 9, 21, 21)


def test_forward_refuses_images_of_another_size(small_model):
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\), not \(1, 27, 27\)"):
        small_model().forward(np.zeros((1, 27, 27)))


def test_see_keeps_the_batch_axis_and_every_intermediate(small_model):
    m = small_model(config=Config(4, 5, 20))
    fw = m.forward_one(np.random.RandomState(0).rand(28, 28))
    assert fw.maps.shape == (1, 4, 24, 24) and fw.winner.shape == (1, 24, 24)
    assert fw.pooled.shape == (1, 576) and fw.hidden.shape == (1, 20) and fw.proba.shape == (1, 10)
    np.testing.assert_array_equal(fw.winner, fw.maps.argmax(axis=1))


def test_config_from_a_file_is_checked():
    assert Config.from_dict({"kernels": 4, "kernel_size": 5, "hidden": 20, "biases": True,
                             "image_size": 28, "classes": 10, "other": "ignored"}) == Config(4, 5, 20, True)
    with pytest.raises(ValueError, match="'biases' must be true or false"):
        Config.from_dict({"biases": "false"})
    with pytest.raises(ValueError, match="'hidden' must be a whole number"):
        Config.from_dict({"hidden": 20.5})
    with pytest.raises(ValueError, match="'kernels' must be a whole number"):
        Config.from_dict({"kernels": True})
    with pytest.raises(ValueError, match="'image_size' is 10"):
        Config.from_dict({"image_size": 10, "kernel_size": 5})
