"""The Keras twin computes what our network computes, and learns as ours does."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402  (a hard dependency: its absence must fail, not skip)

from engine.train.backprop import gradients  # noqa: E402
from tests.engine.keras_twin import from_keras, to_keras  # noqa: E402
from engine.net.model import Config, Model, Normalisation  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CONFIGS = [Config(), Config(kernels=4, kernel_size=5, hidden=16, biases=True)]
IDS = ["article", "k4f5h16-biases"]


def _model_and_batch(config, n=8, seed=0):
    rng = np.random.default_rng(seed)
    model = Model.scaled_init(config, rng, dtype=np.float32)
    for k in ("b1", "b2"):
        if k in model.params:
            model.params[k] = rng.normal(0, 0.2, model.params[k].shape).astype(np.float32)
    X = rng.normal(0, 1, (n, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n)
    return model, X, y


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_forward_pass_matches(config):
    model, X, _ = _model_and_batch(config)
    km = to_keras(model)
    theirs = np.asarray(km(X[..., None], training=False))
    ours = model.forward(X, maps=False).proba
    np.testing.assert_allclose(theirs, ours, atol=1e-5)


def test_one_sgd_step_gives_the_same_weights():
    config = CONFIGS[1]
    model, X, y = _model_and_batch(config, seed=1)
    lr = 0.1
    km = to_keras(model)
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.0),
               loss="categorical_crossentropy")
    km.train_on_batch(X[..., None], np.eye(10, dtype=np.float32)[y])
    theirs = from_keras(km)
    _, g = gradients(model.params, X, y, "xent", config)
    for k, v in model.params.items():
        expected = v - lr * g[k]
        np.testing.assert_allclose(theirs.params[k], expected, atol=1e-5, err_msg=k)
        assert not np.allclose(theirs.params[k], v)          # the step did change the weights


def test_round_trip_keeps_every_weight():
    model, _, _ = _model_and_batch(Config(kernels=3, kernel_size=7, hidden=5, biases=True))
    back = from_keras(to_keras(model), Normalisation(10.0, 50.0))
    assert back.config == model.config and back.name == "from-keras"
    assert back.record.notes == {"converted_from": "keras"}
    for k, v in model.params.items():
        np.testing.assert_array_equal(back.params[k], v)
    assert back.norm.offset == 10.0
