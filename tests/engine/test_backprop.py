"""The backprop mode: exact gradients (against central differences), the fused
convolution against the model's forward pass, the stepper, and augmentation."""
from __future__ import annotations

import numpy as np
import pytest

from engine.net import conv_loops as kernels
from engine.net.conv_loops import conv_max
from engine.net.model import Config, Model
from engine.train.augment import augment_batch
from engine.train.backprop import gradients, learning_rate, loss_and_proba
from engine.train.events import Evaluated, Finished, IterationEnd
from engine.train.recipes import BACKPROP, PreparedData, make_run, run_events
from tests.engine.conftest import recipe_run

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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_serial_loops_give_the_parallel_loops_numbers(dtype):
    """While another thread holds the pool, a batch runs serially, to the same bits."""
    config = Config(kernels=5, kernel_size=6, hidden=12, biases=True)
    model, X, y, _ = _problem(config, n=40)
    p = {k: v.astype(dtype) for k, v in model.params.items()}
    X = X.astype(dtype)
    parallel = conv_max(X, p["K"], 6), gradients(p, X, y, "xent", config)
    bg = float(X.min())
    warped = augment_batch(X, np.random.default_rng(3), background=bg)
    with kernels.POOL_LOCK:
        serial = conv_max(X, p["K"], 6), gradients(p, X, y, "xent", config)
        warped_serial = augment_batch(X, np.random.default_rng(3), background=bg)
    for a, b in zip(parallel[0], serial[0]):
        np.testing.assert_array_equal(a, b)
    assert parallel[1][0] == serial[1][0]
    for k in p:
        np.testing.assert_array_equal(parallel[1][1][k], serial[1][1][k])
    np.testing.assert_array_equal(warped, warped_serial)


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
    with pytest.raises(ValueError, match="1 labels for 2 images"):
        gradients(model.params, X, y[:1], "xent", config)
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        recipe_run(BACKPROP.replace(kernels=2, kernel_size=4, hidden=3), X[:, :20], y, model)
    with pytest.raises(ValueError, match="1 labels for 2 images"):
        recipe_run(BACKPROP.replace(kernels=2, kernel_size=4, hidden=3), X, y[:1], model)


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
def sample(sample_standard):
    return sample_standard


def test_stepper_reports_errors_taken_before_each_update(sample):
    Xtr, ytr, _, _, norm = sample
    X, y = Xtr[:300], ytr[:300]
    before = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    model, st = recipe_run(BACKPROP.replace(batch=300, seed=1), X, y, before, norm)
    (done, sq, loss), = list(st.epoch(0))        # one batch: the whole set
    assert done == 300
    proba = before.forward(X, maps=False).proba.astype(np.float64)
    assert sq == pytest.approx(((proba - np.eye(10)[y]) ** 2).sum(), rel=1e-4)
    assert loss == pytest.approx(-np.log(proba[np.arange(300), y]).sum(), rel=1e-4)
    assert not np.allclose(model.params["W1"], before.params["W1"])   # and then it learned


def test_first_batch_is_one_sgd_step_on_the_drawn_batch(sample):
    """Shuffling, augmentation and dropout are drawn from ``default_rng(seed)`` in this order,
    and the first update is ``-lr * gradient`` (momentum starts at zero)."""
    Xtr, ytr, _, _, norm = sample
    X, y = Xtr[:500], ytr[:500]
    settings = BACKPROP.replace(kernels=4, kernel_size=5, hidden=30, biases=True, batch=64, seed=7,
                                dropout=0.3, augment=True, float64=True)
    model, st = recipe_run(settings, X.astype(np.float64), y, norm=norm)
    start = model.copy()
    done, _, _ = next(st.epoch(0))
    assert done == 64
    rng = np.random.default_rng(7)
    idx = np.sort(rng.permutation(500)[:64])
    xb = augment_batch(X[idx].astype(np.float64), rng, background=float(norm.apply(np.zeros(1))[0]))
    mask = (rng.random((64, 30)) < 0.7) / 0.7
    _, g = gradients(start.params, xb, y[idx], "xent", settings.config, dropout_mask=mask)
    for k, v in start.params.items():
        np.testing.assert_allclose(model.params[k], v - settings.alpha * g[k], rtol=1e-12, atol=1e-15,
                                   err_msg=k)


def test_stepper_is_cumulative(sample):
    Xtr, ytr, _, _, norm = sample
    settings = BACKPROP.replace(kernels=4, kernel_size=5, hidden=30, batch=64, seed=7, dropout=0.3,
                                augment=True)
    _, st = recipe_run(settings, Xtr[:500], ytr[:500], norm=norm)
    out = list(st.epoch(0))
    assert [d for d, _, _ in out] == [min(64 * (i + 1), 500) for i in range(len(out))]
    assert all(a[1] <= b[1] and a[2] <= b[2] for a, b in zip(out, out[1:]))


def test_training_learns_to_read_digits(sample):
    Xtr, ytr, Xte, yte, norm = sample
    settings = BACKPROP.replace(epochs=3)
    data = PreparedData(Xtr, ytr, Xte, yte, norm)
    model, stepper = make_run(settings, data)
    events = list(run_events(settings, data, model, stepper))
    assert isinstance(events[-1], Finished) and events[-1].reason == "max_iter"
    ends = [e for e in events if isinstance(e, IterationEnd)]
    assert len(ends) == 3 and ends[-1].train_error < ends[0].train_error
    acc = [e for e in events if isinstance(e, Evaluated)][-1].figures.argmax_accuracy
    assert acc > 85.0     # 4,000 training digits, 3 epochs
    assert model.dtype == np.float32


def test_mse_loss_and_float64_training_run(sample):
    Xtr, ytr, _, _, norm = sample
    settings = BACKPROP.replace(kernels=4, kernel_size=5, hidden=40, biases=True, loss="mse",
                                alpha=0.2, float64=True, schedule="step", epochs=2, weight_decay=1e-4)
    model, st = recipe_run(settings, Xtr[:2000], ytr[:2000], norm=norm)
    first = last = None
    for it in range(2):
        for done, sq, loss in st.epoch(it):
            pass
        first = first or sq / done
        last = sq / done
        assert loss == pytest.approx(sq)       # for "mse" the loss is the squared error
    assert last < first and model.dtype == np.float64


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


@pytest.mark.parametrize("dtype,f,k", [(np.float32, 8, 9), (np.float64, 5, 32), (np.float64, 3, 1)])
def test_the_winners_kernel_gradient_matches_a_plain_loop(dtype, f, k):
    """The compiled kernel gradient (each position's window added to the kernel that won
    there, times its gradient) against the same sum written plainly, serial and parallel."""
    rng = np.random.default_rng(7)
    n, r = 20, 28 - f + 1
    X = rng.normal(size=(n, 28, 28)).astype(dtype)
    G = rng.normal(size=(n, r, r)).astype(dtype)
    win = rng.integers(0, k, (n, r, r)).astype(np.int32)
    plain = np.zeros((k, f * f))
    for m in range(n):
        for i in range(r):
            for j in range(r):
                plain[win[m, i, j]] += G[m, i, j] * X[m, i:i + f, j:j + f].astype(np.float64).ravel()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    fast = kernels.winner_grad(X, G, win, f, k)
    assert fast.dtype == dtype and fast.shape == (k, f * f)
    np.testing.assert_allclose(fast, plain, rtol=tol, atol=tol * np.abs(plain).max())
    with kernels.POOL_LOCK:                     # the serial loop: the same bits
        np.testing.assert_array_equal(kernels.winner_grad(X, G, win, f, k), fast)
