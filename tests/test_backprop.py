"""The backprop mode: exact gradients (against central differences), the fused
convolution against the model's forward pass, the stepper, and augmentation."""
from __future__ import annotations

import numpy as np
import pytest

from engine.augment import augment_batch
from engine.backprop import (DEFAULTS, BackpropStepper, conv_max, gradients, learning_rate,
                             loss_and_proba, train_backprop)
from engine.events import Evaluated, Finished, IterationEnd
from engine.model import Config, Model, Normalisation

CONFIGS = [
    (Config(), "xent"),                                                      # the article's shape
    (Config(), "mse"),
    (Config(kernels=3, kernel_size=5, hidden=7, biases=True), "xent"),
    (Config(kernels=4, kernel_size=6, hidden=12, biases=True), "mse"),
    (Config(kernels=1, kernel_size=3, hidden=5), "xent"),
    (Config(kernels=16, kernel_size=9, hidden=20, biases=True), "xent"),
]


def _problem(config: Config, n: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    model = Model.scaled_init(config, rng, dtype=np.float64)
    for k in ("b1", "b2"):
        if k in model.params:
            model.params[k] = rng.normal(0, 0.3, model.params[k].shape)
    X = rng.normal(0, 1, (n, 28, 28))
    y = rng.integers(0, 10, n)
    return model, X, y, rng


@pytest.mark.parametrize("config,loss", CONFIGS,
                         ids=[f"k{c.kernels}f{c.kernel_size}h{c.hidden}{'b' if c.biases else ''}-{l}"
                              for c, l in CONFIGS])
def test_gradients_match_central_differences(config, loss):
    model, X, y, rng = _problem(config)
    p = model.params
    value, grads = gradients(p, X, y, loss, config)
    assert set(grads) == set(p)
    eps = 1e-6
    for key, arr in p.items():
        assert grads[key].shape == arr.shape and grads[key].dtype == np.float64
        # every entry of a small array, a random sample of a large one (plus its largest gradient)
        flat = np.arange(arr.size) if arr.size <= 40 else np.unique(np.concatenate(
            [rng.choice(arr.size, 25, replace=False), [np.abs(grads[key]).argmax()]]))
        for i in flat:
            ix = np.unravel_index(i, arr.shape)
            old = arr[ix]
            arr[ix] = old + eps
            up, _ = gradients(p, X, y, loss, config)
            arr[ix] = old - eps
            down, _ = gradients(p, X, y, loss, config)
            arr[ix] = old
            numeric = (up - down) / (2 * eps)
            assert grads[key][ix] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (key, ix)
    # the loss itself is the mean per-image loss
    losses, proba = loss_and_proba(p, X, y, loss, config)
    assert value == pytest.approx(losses.mean())
    onehot = np.eye(10)[y]
    expected = (-np.log(proba[np.arange(len(y)), y]) if loss == "xent"
                else ((proba - onehot) ** 2).sum(axis=1))
    np.testing.assert_allclose(losses, expected, rtol=1e-10)


def test_gradients_with_dropout_mask():
    config = Config(kernels=2, kernel_size=4, hidden=6, biases=True)
    model, X, y, rng = _problem(config, n=3)
    mask = (rng.random((3, 6)) < 0.5) * 2.0
    p = model.params
    _, g = gradients(p, X, y, "xent", config, dropout_mask=mask)
    for key in ("W1", "b1", "W2"):
        arr = p[key]
        ix = np.unravel_index(np.abs(g[key]).argmax(), arr.shape)
        old = arr[ix]
        arr[ix] = old + 1e-6
        up, _ = gradients(p, X, y, "xent", config, dropout_mask=mask)
        arr[ix] = old - 1e-6
        down, _ = gradients(p, X, y, "xent", config, dropout_mask=mask)
        arr[ix] = old
        assert g[key][ix] == pytest.approx((up - down) / 2e-6, rel=1e-5)
    # a dropped hidden unit gets no gradient into its outgoing weights
    dropped = np.where((mask == 0).all(axis=0))[0]
    for h in dropped:
        assert np.all(g["W2"][h] == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_convolution_matches_the_forward_pass(dtype):
    config = Config(kernels=7, kernel_size=6, hidden=10)
    model = Model.scaled_init(config, np.random.default_rng(3), dtype=dtype)
    X = np.random.default_rng(4).normal(0, 1, (11, 28, 28)).astype(dtype)
    val, win = conv_max(X, model.params["K"], config.kernel_size)
    fw = model.forward(X)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.tanh(val), fw.pooled, atol=tol)
    assert (win == fw.winner.reshape(11, -1)).mean() > 0.999


def test_ties_go_to_the_first_kernel():
    K = np.ones((3, 16))
    X = np.random.default_rng(0).normal(size=(2, 28, 28))
    _, win = conv_max(X, K, 4)
    assert (win == 0).all()


def test_float32_gradients_agree_with_float64():
    config = Config()
    model, X, y, _ = _problem(config, n=8)
    _, g64 = gradients(model.params, X, y, "xent", config)
    p32 = {k: v.astype(np.float32) for k, v in model.params.items()}
    _, g32 = gradients(p32, X.astype(np.float32), y, "xent", config)
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=2e-3, atol=2e-3 * np.abs(g64[k]).max())


def test_bad_inputs_are_named():
    config = Config(kernels=2, kernel_size=4, hidden=3)
    model, X, y, _ = _problem(config, n=2)
    with pytest.raises(ValueError, match="unknown loss"):
        gradients(model.params, X, y, "hinge", config)
    with pytest.raises(ValueError, match="labels"):
        gradients(model.params, X, np.array([0, 10]), "xent", config)
    with pytest.raises(ValueError, match="schedule"):
        BackpropStepper(model, X, y, schedule="linear")
    with pytest.raises(ValueError, match="shape"):
        BackpropStepper(model, X[:, :20], y)
    with pytest.raises(ValueError, match="labels"):
        BackpropStepper(model, X, y[:1])


def test_learning_rate_schedules():
    assert learning_rate(0.1, "constant", 0.7) == 0.1
    assert learning_rate(0.1, "cosine", 0.0) == pytest.approx(0.1)
    assert learning_rate(0.1, "cosine", 1.0) == pytest.approx(0.001)
    assert learning_rate(0.1, "cosine", 5.0) == pytest.approx(0.001)   # past the plan: kept low
    assert learning_rate(0.1, "step", 0.6) == pytest.approx(0.01)


# ---------------------------------------------------------------------------------------
# the stepper on real digits (the bundled sample)
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    from engine import data
    ds = data.load_sample("test")
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "standard")
    return Xtr.astype(np.float32), ytr, Xte.astype(np.float32), yte, norm


def test_stepper_reports_errors_taken_before_each_update(sample):
    Xtr, ytr, _, _, norm = sample
    X, y = Xtr[:300], ytr[:300]
    model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    before = model.copy()
    st = BackpropStepper(model, X, y, batch=300, seed=1)
    (done, sq, loss), = list(st.epoch(0))        # one batch: the whole set
    assert done == 300
    proba = before.forward(X, maps=False).proba.astype(np.float64)
    assert sq == pytest.approx(((proba - np.eye(10)[y]) ** 2).sum(), rel=1e-4)
    assert loss == pytest.approx(-np.log(proba[np.arange(300), y]).sum(), rel=1e-4)
    assert not np.allclose(model.params["W1"], before.params["W1"])   # and then it learned


def test_stepper_is_cumulative_and_repeatable(sample):
    Xtr, ytr, _, _, norm = sample
    X, y = Xtr[:500], ytr[:500]
    runs = []
    for _ in range(2):
        model = Model.scaled_init(Config(kernels=4, kernel_size=5, hidden=30), np.random.default_rng(5), norm)
        st = BackpropStepper(model, X, y, batch=64, seed=7, dropout=0.3, augment=True)
        out = list(st.epoch(0))
        assert [d for d, _, _ in out] == [min(64 * (i + 1), 500) for i in range(len(out))]
        assert all(a[1] <= b[1] and a[2] <= b[2] for a, b in zip(out, out[1:]))
        runs.append(model.params["W1"].copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_training_learns_to_read_digits(sample):
    Xtr, ytr, Xte, yte, norm = sample
    model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    events = list(train_backprop(model, Xtr, ytr, max_iter=3, test=(Xte, yte)))
    assert isinstance(events[-1], Finished) and events[-1].reason == "max_iter"
    ends = [e for e in events if isinstance(e, IterationEnd)]
    assert len(ends) == 3 and ends[-1].train_error < ends[0].train_error
    acc = [e for e in events if isinstance(e, Evaluated)][-1].argmax_accuracy
    assert acc > 85.0     # 4,000 training digits, 3 epochs
    assert model.dtype == np.float32


def test_mse_loss_and_float64_training_run(sample):
    Xtr, ytr, Xte, yte, norm = sample
    model = Model.scaled_init(Config(kernels=4, kernel_size=5, hidden=40, biases=True),
                              np.random.default_rng(1), norm, np.float64)
    st = BackpropStepper(model, Xtr[:2000], ytr[:2000], loss="mse", alpha=0.2, dtype=np.float64,
                         schedule="step", epochs_hint=2, weight_decay=1e-4)
    first = last = None
    for it in range(2):
        for done, sq, loss in st.epoch(it):
            pass
        first = first or sq / done
        last = sq / done
        assert loss == pytest.approx(sq)       # for "mse" the loss is the squared error
    assert last < first and model.dtype == np.float64


def test_defaults_are_complete():
    for key in ("epochs", "alpha", "batch", "momentum", "loss", "schedule", "dropout", "augment"):
        assert key in DEFAULTS


# ---------------------------------------------------------------------------------------
# augmentation
# ---------------------------------------------------------------------------------------
def test_augment_without_distortion_is_the_identity(sample):
    X = sample[0][:10]
    out = augment_batch(X, np.random.default_rng(0), shift=0, rotate=0, scale=(1, 1), aspect=0,
                        shear=0, thickness=0)
    np.testing.assert_allclose(out, X, atol=1e-5)


def test_augment_keeps_the_background_and_the_digit(sample):
    Xtr, _, _, _, norm = sample
    bg = float(norm.apply(np.zeros(1))[0])
    X = Xtr[:200]
    out = augment_batch(X, np.random.default_rng(0), background=bg)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert out.min() >= bg - 1e-4 and out.max() <= X.max() + 1e-4
    assert (out[:, 0, :] - bg).mean() < 0.02 * (X.max() - bg)   # the border stays mostly blank
    ink = (X - bg).sum(axis=(1, 2))
    ratio = (out - bg).sum(axis=(1, 2)) / ink
    assert 0.5 < np.median(ratio) < 2.0                        # the digit is still there
    assert not np.allclose(out, X)
    again = augment_batch(X, np.random.default_rng(0), background=bg)
    np.testing.assert_array_equal(out, again)


def test_thicker_strokes_have_more_ink():
    X = np.zeros((1, 28, 28), np.float32)
    X[0, 5:23, 13] = 255.0
    kw = dict(shift=0, rotate=0, scale=(1, 1), aspect=0, shear=0)
    thick = augment_batch(X, np.random.default_rng(0), thickness=(1.0, 1.0), **kw)
    thin = augment_batch(X, np.random.default_rng(0), thickness=(-1.0, -1.0), **kw)
    assert thick.sum() > 2.5 * X.sum() and thin.sum() < 0.5 * X.sum()
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment_batch(X, np.random.default_rng(0), blur=1)
