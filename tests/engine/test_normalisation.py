"""The normalisation of byte images: the table path gives the plain formula's numbers to the bit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.net.normalisation import Normalisation, _table_sum


def plain_fit(pixels: np.ndarray, kind: str) -> Normalisation:
    """The readable reference: NumPy's mean and variance of the float64 pixels."""
    x = np.asarray(pixels, dtype=np.float64)
    if kind == "article":
        return Normalisation(float(x.mean()), float(x.var()), "article")
    x01 = x / 255.0
    return Normalisation(255.0 * float(x01.mean()), 255.0 * float(x01.std()), "standard")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), high=st.sampled_from([2, 17, 256]), seed=st.integers(0, 2**31 - 1),
       kind=st.sampled_from(["article", "standard"]))
def test_fitting_bytes_gives_the_formulas_bits(n, high, seed, kind):
    pixels = np.random.default_rng(seed).integers(0, high, (n, 28, 28)).astype(np.uint8)
    assert Normalisation.fit(pixels, kind) == plain_fit(pixels, kind)


@pytest.mark.parametrize("kind", ["article", "standard"])
def test_a_large_or_strided_set_is_fitted_to_the_bit(kind):
    rng = np.random.default_rng(3)
    pixels = (rng.random((700, 28, 28)) ** 4 * 256).astype(np.uint8)      # mostly background
    for images in (pixels, pixels[::3], pixels[:, 2:26, 2:26]):
        assert Normalisation.fit(images, kind) == plain_fit(images, kind)


def test_the_blockwise_sum_follows_numpys_order():
    rng = np.random.default_rng(5)
    table = rng.random(256) * 1e3
    for n in (1, 7, 8, 129, 65_536, 65_537, 300_007):
        index = rng.integers(0, 256, n).astype(np.uint8)
        assert _table_sum(table, index, 0, n) == np.add.reduce(table[index])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_applying_to_bytes_gives_the_formulas_bits(dtype):
    pixels = np.random.default_rng(1).integers(0, 256, (9, 28, 28)).astype(np.uint8)
    norm = Normalisation.fit(pixels, "article")
    out = norm.apply(pixels, dtype)
    plain = ((pixels.astype(np.float64) - norm.offset) / norm.scale).astype(dtype)
    assert out.dtype == np.dtype(dtype) and out.shape == pixels.shape
    assert np.array_equal(out, plain)
    assert np.array_equal(norm.apply(pixels.astype(np.float64), dtype), plain)    # floats: the formula
