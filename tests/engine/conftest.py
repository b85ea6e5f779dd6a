"""Fixtures of the engine's tests: data the tests make or bundle, and runs set up by the recipe."""
from __future__ import annotations

import numpy as np
import pytest

from engine.files import data
from engine.net.model import Normalisation
from engine.train.recipes import PreparedData, make_run


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


def prepared(X: np.ndarray, y: np.ndarray, norm: Normalisation | None = None) -> PreparedData:
    """Training arrays as the recipe takes them (the test set: the first training image)."""
    return PreparedData(X, y, X[:1], y[:1], norm or Normalisation(), "test", "made by the tests")


def recipe_run(settings, X, y, model=None, norm=None, chunk=256):
    """``make_run(settings, ...)`` on the given arrays: ``(model, stepper)``."""
    return make_run(settings, prepared(X, y, norm), model, chunk=chunk)


@pytest.fixture(scope="session")
def sample_article():
    """The bundled sample, normalised the article's way: ``(Xtr, ytr, Xte, yte, norm)``."""
    return data.prepare(data.load_sample("test"), "article")


@pytest.fixture(scope="session")
def sample_standard():
    """The bundled sample, standard normalisation, float32: ``(Xtr, ytr, Xte, yte, norm)``."""
    Xtr, ytr, Xte, yte, norm = data.prepare(data.load_sample("test"), "standard")
    return Xtr.astype(np.float32), ytr, Xte.astype(np.float32), yte, norm


@pytest.fixture(scope="session")
def synthetic():
    """500 synthetic digits normalised the article's way: ``(X, y)``."""
    raw, y = synthetic_digits(500)
    return Normalisation.fit(raw, "article").apply(raw), y
