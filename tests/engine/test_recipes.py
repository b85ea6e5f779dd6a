"""The recipe sets a run up exactly as the modes' own constructions do, and checks its settings."""
from __future__ import annotations

import re

import numpy as np
import pytest

from engine.files import data
from engine.net.model import Config, Model
from engine.train.article import ArticleStepper
from engine.train.backprop import BackpropStepper
from engine.train.events import Evaluated, Finished, IterationEnd
from engine.train.recipes import ARTICLE, BACKPROP, BEST, PRESETS, RunSettings, make_run, prepare, run_events
from engine.train.training import train


@pytest.fixture(scope="module")
def sample():
    return data.load_sample("test")


def figures(events):
    """What a run's events say, without timings."""
    out = []
    for e in events:
        if isinstance(e, IterationEnd):
            out.append(("end", e.iteration, e.train_error, e.loss))
        elif isinstance(e, Evaluated):
            out.append(("test", e.iteration, e.figures.to_dict()))
        elif isinstance(e, Finished):
            out.append(("finished", e.reason, e.iterations, e.train_error, e.images))
    return out


def assert_same_params(a: Model, b: Model):
    assert a.params.keys() == b.params.keys()
    for k in a.params:
        assert a.params[k].dtype == b.params[k].dtype, k
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)


@pytest.mark.parametrize("dropout", [0.0, 1.0])
def test_article_run_is_the_seeded_article_initialisation(sample, dropout):
    settings = ARTICLE.replace(source="sample", train=300, epochs=2, tol=0.0, dropout=dropout)
    prepared = prepare(settings, sample)
    model, stepper = make_run(settings, prepared, chunk=64)
    # the seed-0 weights: K, W1, W2 drawn in that order from RandomState(0)
    assert_same_params(model, Model.article_init(Config(), np.random.RandomState(0)))
    assert model.norm == prepared.norm and model.norm.kind == "article"
    # the old direct construction: one generator, the dropout masks drawn after the weights
    rng = np.random.RandomState(0)
    direct = Model.article_init(Config(), rng, prepared.norm)
    direct_stepper = ArticleStepper(direct, prepared.Xtr, prepared.ytr, alpha=0.01,
                                    dropout=dropout > 0, rng=rng, chunk=64)
    ours = figures(run_events(settings, prepared, model, stepper))
    theirs = figures(train(direct, direct_stepper, max_iter=2, tol=None,
                           test=(prepared.Xte, prepared.yte), eval_every=2, pooled_tanh_at_test=False))
    assert ours == theirs and [f[0] for f in ours] == ["end", "end", "test", "finished"]
    assert_same_params(model, direct)


def test_backprop_run_is_the_seeded_scaled_initialisation(sample):
    settings = BACKPROP.replace(source="sample", train=500, epochs=2, seed=3, dropout=0.2,
                                augment=True, kernels=4, kernel_size=5, hidden=30, biases=True)
    prepared = prepare(settings, sample)
    model, stepper = make_run(settings, prepared)
    assert_same_params(model, Model.scaled_init(settings.config, np.random.default_rng(3),
                                                dtype=np.float32))
    assert model.norm == prepared.norm and model.norm.kind == "standard"
    direct = Model.scaled_init(settings.config, np.random.default_rng(3), prepared.norm, np.float32)
    direct_stepper = BackpropStepper(direct, prepared.Xtr, prepared.ytr, alpha=0.05, batch=64,
                                     momentum=0.9, loss="xent", schedule="cosine", dropout=0.2,
                                     augment=True, seed=3, dtype=np.float32, epochs_hint=2,
                                     weight_decay=0.0)
    ours = figures(run_events(settings, prepared, model, stepper))
    theirs = figures(train(direct, direct_stepper, max_iter=2, tol=None,
                           test=(prepared.Xte.astype(np.float32), prepared.yte)))
    assert ours == theirs and [f[0] for f in ours] == ["end", "test", "end", "test", "finished"]
    assert_same_params(model, direct)


@pytest.mark.parametrize("mode", ["article", "backprop"])
def test_continuing_a_model_trains_a_copy(sample, small_model, mode):
    settings = RunSettings.for_mode(mode).replace(source="sample", train=200, epochs=1, tol=0.0)
    prepared = prepare(settings, sample)
    given = small_model(5)
    kept = given.copy()
    model, stepper = make_run(settings, prepared, given)
    assert model is not given and all(model.params[k] is not given.params[k] for k in given.params)
    np.testing.assert_allclose(model.params["W1"], given.params["W1"].astype(settings.dtype))
    list(run_events(settings, prepared, model, stepper))
    assert_same_params(given, kept)                      # the given model is untouched
    assert not np.array_equal(model.params["W1"], kept.params["W1"].astype(model.dtype))


def test_continuing_in_the_article_mode_draws_masks_after_the_weights(sample, small_model):
    settings = ARTICLE.replace(source="sample", train=100, dropout=1.0, seed=4)
    prepared = prepare(settings, sample)
    _, stepper = make_run(settings, prepared, small_model(9))
    rng = np.random.RandomState(4)
    rng.random_sample(sum(int(np.prod(s)) for s in Config().shapes().values()))
    assert np.array_equal(stepper.rng.randint(0, 2, (3, 100)), rng.randint(0, 2, (3, 100)))


def test_continuing_another_architecture_is_refused(sample, small_model):
    settings = BACKPROP.replace(source="sample", train=100)
    with pytest.raises(ValueError, match="is not the settings' architecture"):
        make_run(settings, prepare(settings, sample), small_model(config=Config(4, 5, 20)))


@pytest.mark.parametrize("changes, message", [
    (dict(mode="fast"), "mode must be one of article, backprop, not 'fast'"),
    (dict(source="web"), "source must be one of auto, keras, local, sample, not 'web'"),
    (dict(loss="hinge"), "loss must be one of xent, mse, not 'hinge'"),
    (dict(schedule="linear"), "schedule must be one of cosine, step, constant, not 'linear'"),
    (dict(batch=0), "batch must be a whole number of at least 1, not 0"),
    (dict(epochs=2.5), "epochs must be a whole number of at least 1, not 2.5"),
    (dict(train=True), "train must be a whole number of at least 1 (or None for all), not True"),
    (dict(alpha=0.0), "alpha (the learning rate) must be above 0, not 0.0"),
    (dict(tol=float("nan")), "tol must be a finite number, 0 or more, not nan"),
    (dict(momentum=1.0), "momentum must lie in [0, 1), not 1.0"),
    (dict(mode="backprop", dropout=1.0), "dropout must lie in [0, 1), not 1.0"),
    (dict(biases=True), "the article mode has no biases"),
    (dict(kernel_size=29), "kernel_size 29 is larger than the image (28)"),
    (dict(seed="0"), "seed must be a whole number in 0..2**32-1, not '0'"),
])
def test_settings_name_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ARTICLE.replace(**changes)


def test_presets_are_the_documented_recipes():
    assert PRESETS["The article"] == ARTICLE == RunSettings()
    assert (ARTICLE.train, ARTICLE.epochs, ARTICLE.tol, ARTICLE.alpha, ARTICLE.seed) == (20000, 50, 0.1, 0.01, 0)
    assert BEST.config == Config(32, 5, 384, True) and BEST.augment and BEST.epochs == 40
    assert BEST.mode == BACKPROP.mode == "backprop" and BACKPROP.dtype == np.float32
