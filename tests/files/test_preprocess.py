"""MNIST-style preprocessing of drawings (engine.net.preprocess)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.net.preprocess import (MNIST_CENTRE, area_weights, centre_of_mass, ink_box, resample,
                               to_mnist)


def test_empty_image_gives_zeros():
    out = to_mnist(np.zeros((280, 280), np.float32))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert not out.any()
    assert not to_mnist(np.zeros((280, 280)), preprocess=False).any()


def test_tall_bar_is_scaled_to_20_rows_and_centred():
    img = np.zeros((280, 280))
    img[30:230, 200:240] = 1.0          # 200 high, 40 wide, far right of the canvas
    out = to_mnist(img)
    top, bottom, left, right = ink_box(out, 0.01)
    assert bottom - top == 20            # the longer side becomes 20 pixels
    assert right - left == 4             # 40 * 20/200 = 4: the aspect ratio is kept
    cy, cx = centre_of_mass(out)
    # MNIST's convention: centre of mass at (14, 14) within a whole-pixel shift
    assert abs(cy - MNIST_CENTRE) <= 0.5 and abs(cx - MNIST_CENTRE) <= 0.5
    assert out.max() == pytest.approx(1.0)


def test_wide_shape_keeps_aspect_ratio():
    img = np.zeros((200, 300))
    img[90:120, 20:280] = 1.0            # 30 high, 260 wide
    out = to_mnist(img)
    top, bottom, left, right = ink_box(out, 0.01)
    assert right - left == 20
    assert bottom - top == int(np.ceil(30 * 20 / 260))   # 2.3 -> spans 3 rows
    assert out.sum() == pytest.approx(30 * 260 * (20 / 260) ** 2, rel=1e-6)  # area preserved


def test_centre_of_mass_not_bounding_box():
    # An "L": most mass in the vertical bar on the left, so the box is shifted right of centre
    img = np.zeros((100, 100))
    img[10:90, 10:20] = 1.0
    img[80:90, 10:60] = 1.0
    out = to_mnist(img)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    top, bottom, left, right = ink_box(out, 0.01)
    assert (left + right) / 2 > 14.5      # the box itself is not centred


def test_small_faint_fringe_is_not_ink():
    img = np.zeros((280, 280))
    img[100:180, 130:150] = 1.0
    img[0:5, 0:5] = 0.05                 # anti-aliasing dust below the threshold
    out = to_mnist(img)
    assert ink_box(out, 0.01)[1] - ink_box(out, 0.01)[0] == 20


def test_without_preprocessing_only_downsamples():
    img = np.zeros((280, 280))
    img[0:140, 0:140] = 1.0
    out = to_mnist(img, preprocess=False)
    assert np.all(out[:14, :14] == 1.0) and not out[14:, :].any() and not out[:, 14:].any()
    img2 = np.zeros((280, 280))
    img2[5:15, 0:10] = 1.0               # straddles two output rows: half each
    out2 = to_mnist(img2, preprocess=False)
    assert out2[0, 0] == pytest.approx(0.5) and out2[1, 0] == pytest.approx(0.5)


def test_area_weights_rows_sum_to_one_and_resample_preserves_mean():
    W = area_weights(280, 28)
    assert W.shape == (28, 280)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    rng = np.random.default_rng(0)
    img = rng.random((90, 60))
    small = resample(img, (30, 20))
    assert small.mean() == pytest.approx(img.mean())


def test_rejects_non_2d():
    with pytest.raises(ValueError, match="2-D"):
        to_mnist(np.zeros((3, 28, 28)))


images = arrays(np.float32, st.tuples(st.integers(1, 120), st.integers(1, 120)),
                elements=st.floats(-0.5, 1.5, width=32))


@settings(max_examples=60, deadline=None)
@given(images, st.booleans())
def test_output_always_28x28_in_unit_range(img, pre):
    out = to_mnist(img, preprocess=pre)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    if pre and (np.clip(img, 0, 1) > 0.1).any():
        top, bottom, left, right = ink_box(out, 0.0)
        assert max(bottom - top, right - left) <= 20


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.integers(20, 80), st.integers(20, 80))
def test_translation_invariant_and_nearly_idempotent(y, x, h, w):
    img = np.zeros((280, 280))
    img[y:y + h, x:x + w] = 1.0
    img[y + h // 2:y + h, x:x + w // 3] = 0.6
    a = to_mnist(img)
    b = to_mnist(np.roll(np.roll(img, 280 - y - h, axis=0), 280 - x - w, axis=1))   # moved
    np.testing.assert_allclose(a, b, atol=1e-6)
    # the digit is already MNIST-like: preprocessing it again barely moves it
    again = to_mnist(a)
    cy, cx = centre_of_mass(again)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert abs(float(again.sum()) - float(a.sum())) <= 0.15 * float(a.sum()) + 1
