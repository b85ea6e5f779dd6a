"""The article's training mode (engine.train.article) against the plain per-image oracle."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.net.evaluate import evaluate
from engine.net.model import Config, Model
from engine.train.article import ArticleStepper
from engine.train.events import Evaluated, Finished, IterationEnd
from engine.train.training import train
from tests.engine.oracle_article import oracle_epoch

TOL = 1e-9


@pytest.fixture(scope="module")
def sample(sample_article):
    """500 images of the bundled sample (article-normalised), mixed classes."""
    Xtr, ytr = sample_article[0], sample_article[1]
    return Xtr[:500], ytr[:500]


def both(small_model, config: Config, seed: int = 0):
    """Two identical seeded models, each with ``RandomState(seed)`` advanced past its weights
    (where the article's dropout masks come from)."""
    out = []
    for _ in range(2):
        rng = np.random.RandomState(seed)
        rng.random_sample(sum(int(np.prod(s)) for s in config.shapes().values()))
        out.append((small_model(seed, config), rng))
    return out


def max_difference(a: Model, b: Model) -> float:
    return max(float(np.abs(a.params[k] - b.params[k]).max()) for k in a.params)


def stepper(model, X, y, rng, dropout=False, chunk=256):
    return ArticleStepper(model, X, y, alpha=0.01, dropout=dropout, rng=rng, chunk=chunk)


@pytest.mark.parametrize("data", ["synthetic", "sample"])
@pytest.mark.parametrize("dropout", [False, True])
def test_matches_oracle_after_500_images(data, dropout, request, small_model):
    X, y = request.getfixturevalue(data)
    (fast, rng_fast), (slow, rng_slow) = both(small_model, Config())
    before = fast.copy()
    arrays = dict(fast.params)
    steps = list(stepper(fast, X, y, rng_fast, dropout, chunk=96).epoch(0))
    expected = oracle_epoch(slow.params, X, y, alpha=0.01, dropout=dropout, rng=rng_slow)
    assert max_difference(fast, slow) < TOL
    assert all(fast.params[k] is arrays[k] for k in arrays), "parameters must be updated in place"
    assert max_difference(fast, before) > 1e-3, "training changed nothing"
    done, sq, loss = steps[-1]
    assert done == 500 and sq == loss
    assert sq == pytest.approx(expected, rel=1e-12)
    assert [s[0] for s in steps] == [96, 192, 288, 384, 480, 500]
    # both drew the same number of dropout masks from the generator
    assert rng_fast.random_sample() == rng_slow.random_sample()


def test_other_configuration_matches_oracle(sample, small_model):
    X, y = sample
    config = Config(kernels=4, kernel_size=5, hidden=30)
    (fast, rng_fast), (slow, rng_slow) = both(small_model, config, seed=3)
    steps = list(stepper(fast, X, y, rng_fast, True, chunk=128).epoch(0))
    expected = oracle_epoch(slow.params, X, y, alpha=0.01, dropout=True, rng=rng_slow)
    assert max_difference(fast, slow) < TOL
    assert steps[-1][1] == pytest.approx(expected, rel=1e-12)


def test_odd_sizes_and_one_hot_targets(synthetic, small_model):
    X, y = synthetic[0][:60], synthetic[1][:60]
    config = Config(kernels=3, kernel_size=7, hidden=13)   # H not a multiple of 8
    (fast, rng_fast), (slow, rng_slow) = both(small_model, config, seed=5)
    list(stepper(fast, X, np.eye(10)[y], rng_fast, True, chunk=7).epoch(0))
    oracle_epoch(slow.params, X, y, alpha=0.01, dropout=True, rng=rng_slow)
    assert max_difference(fast, slow) < TOL


def test_batched_dropout_masks_are_the_per_image_stream():
    """The stepper draws one (chunk, H) block; the article draws (1, H) per image."""
    a, b = np.random.RandomState(7), np.random.RandomState(7)
    block = a.randint(0, 2, (37, 100))
    rows = np.concatenate([b.randint(0, 2, (1, 100)) for _ in range(37)])
    np.testing.assert_array_equal(block, rows)
    assert a.random_sample() == b.random_sample()


def test_refuses_what_it_cannot_train(synthetic, small_model):
    X, y = synthetic
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="biases"):
        stepper(Model.article_init(Config(biases=True), rng), X, y, rng)
    with pytest.raises(ValueError, match="float64"):
        stepper(small_model().astype(np.float32), X, y, rng)
    model = small_model()
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        stepper(model, X[:, :27], y, rng)
    with pytest.raises(ValueError, match="499 labels for 500 images"):
        stepper(model, X, y[:-1], rng)
    with pytest.raises(ValueError, match=r"0\.\.9, found 10\.\.10"):
        stepper(model, X, np.full(len(y), 10), rng)
    with pytest.raises(ValueError, match="whole numbers"):
        stepper(model, X, y.astype(float), rng)
    bad = X.copy()
    bad[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        stepper(model, bad, y, rng)


def test_stop_flag_is_honoured_within_one_chunk(synthetic, small_model):
    X, y = synthetic
    (fast, rng_fast), (slow, _) = both(small_model, Config(kernels=2, kernel_size=6, hidden=20))
    checks = []

    def stop():                                # set once the second chunk has finished
        checks.append(1)
        return len(checks) >= 2

    events = list(train(fast, stepper(fast, X, y, rng_fast, chunk=50), max_iter=3, tol=None,
                        stop=stop, report_seconds=1e9))
    end = events[-1]
    assert isinstance(end, Finished) and end.reason == "stopped"
    assert end.images == 100 and end.iterations == 0
    assert not any(isinstance(e, IterationEnd) for e in events)
    oracle_epoch(slow.params, X[:100], y[:100], alpha=0.01)
    assert max_difference(fast, slow) < TOL    # exactly 100 images were trained, no more


def test_through_the_training_driver(synthetic, small_model):
    X, y = synthetic[0][:80], synthetic[1][:80]
    Xt, yt = synthetic[0][80:140], synthetic[1][80:140]
    config = Config(kernels=3, kernel_size=5, hidden=16)
    (fast, rng_fast), (slow, rng_slow) = both(small_model, config)
    events = list(train(fast, stepper(fast, X, y, rng_fast, chunk=32), max_iter=2, tol=None,
                        stop=threading.Event(), test=(Xt, yt), pooled_tanh_at_test=False))
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
    assert [e.iteration for e in evaluated] == [0, 1]
    expected = evaluate(slow, Xt, yt, pooled_tanh=False)   # the article's test quirk
    assert evaluated[-1].figures.test_error == pytest.approx(expected.test_error, rel=1e-9)
    assert evaluated[-1].figures.percent_correct == expected.percent_correct

    # a tolerance above the first iteration's error converges at once
    again = list(train(fast, stepper(fast, X, y, rng_fast, chunk=32), max_iter=5, tol=10.0))
    assert again[-1].reason == "converged" and again[-1].iterations == 1
