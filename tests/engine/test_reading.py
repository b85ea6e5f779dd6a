"""engine.read: the one rule that gives the digit, the probabilities and the verdict; the detector behind it."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.handwriting import negatives, nondigit, strokes
from engine.net import reading


def _drawings(n, seed=0):
    rng = np.random.default_rng(seed)
    digits = strokes.synthesise([str(s) for s in rng.choice(list(strokes.STYLES), n)], rng)
    others, _ = negatives.make_nondigits(n, rng, kinds=("scribble", "dots", "line"))
    return digits, others


def test_engine_exports_the_public_reading_surface():
    assert engine.read is reading.read and engine.Reading is reading.Reading
    from engine.net.preprocess import to_mnist
    assert engine.to_mnist is to_mnist


def test_read_gives_the_digit_the_probabilities_and_a_verdict(small_model):
    m = small_model(3)
    digits, _ = _drawings(12)
    images = np.concatenate([digits, np.zeros((1, 28, 28), np.float32)])
    r = engine.read(m, images)
    assert r.digit.shape == (13,) and r.proba.shape == (13, 10) and r.verdict.shape == (13,)
    np.testing.assert_allclose(r.proba, m.predict_proba(images), rtol=1e-6)
    np.testing.assert_array_equal(r.digit, r.proba.argmax(1))
    assert set(r.verdict) <= set(reading.VERDICTS)
    assert r.verdict[-1] == "not a digit"                         # a blank drawing
    one = engine.read(m, images[0])                               # one image (28, 28)
    assert len(one) == 1 and one.verdict[0] == r.verdict[0]


def test_the_verdict_follows_the_detector_then_the_top_probability(small_model):
    m = small_model(1)
    digits, others = _drawings(60, seed=1)
    m.record.notes["nondigit"] = nondigit.fit_detector(m, digits[:40], others[:40], check=digits[40:],
                                                       keep=0.9, steps=60)
    images = np.concatenate([digits, others])
    r = engine.read(m, images)
    ok = nondigit.is_digit(m, images)
    top = r.proba.max(1)
    np.testing.assert_array_equal(r.verdict == "not a digit", ~ok)
    np.testing.assert_array_equal(r.verdict == "not sure", ok & (top < reading.NOT_SURE_BELOW))
    np.testing.assert_array_equal(r.verdict == "digit", ok & (top >= reading.NOT_SURE_BELOW))
    np.testing.assert_array_equal(r.flagged(), r.verdict != "digit")
    # the fitted detector tells these apart on drawings it did not see
    assert (r.verdict[100:] == "not a digit").mean() > (r.verdict[40:60] == "not a digit").mean()


def test_reading_in_batches_is_reading_at_once(small_model, monkeypatch):
    m = small_model(2)
    digits, others = _drawings(9, seed=2)
    images = np.concatenate([digits, others])
    whole = engine.read(m, images)
    monkeypatch.setattr(reading, "_BATCH", 4)
    parts = engine.read(m, images)
    for k in ("digit", "proba", "verdict"):
        np.testing.assert_array_equal(getattr(parts, k), getattr(whole, k))


def test_the_detectors_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    F, H, N = 6, 4, 9
    params = [rng.normal(0, 0.7, (F, H)), rng.normal(0, 0.3, H), rng.normal(0, 0.7, H), rng.normal(0, 0.3, 1)]
    Z = rng.normal(0, 1, (N, F))
    y = (rng.random(N) < 0.5).astype(float)
    w = rng.uniform(0.05, 0.2, N)
    _, grads = nondigit.loss_and_grad(params, Z, y, w, decay=0.03)
    eps = 1e-6
    for p, g in zip(params, grads):
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = nondigit.loss_and_grad(params, Z, y, w, decay=0.03)[0]
            p[i] = old - eps
            down = nondigit.loss_and_grad(params, Z, y, w, decay=0.03)[0]
            p[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)


def test_an_older_models_linear_detector_still_judges(small_model):
    m = small_model(4)
    digits, others = _drawings(10, seed=4)
    hidden = m.config.hidden
    m.record.notes["nondigit"] = {"w": [0.0] * (hidden + 4), "b": 5.0, "mean": [0.0] * (hidden + 4),
                                  "scale": [1.0] * (hidden + 4), "threshold": 0.5}
    assert nondigit.is_digit(m, digits).all()
    m.record.notes["nondigit"]["b"] = -5.0
    assert (engine.read(m, others).verdict == "not a digit").all()


def _augmented(m):
    m.record.settings = dict(m.record.settings or {}, augment=True)
    return m


def test_a_model_trained_with_augmentation_reads_the_mean_over_the_same_fixed_distortions(small_model):
    from engine.net.conv_loops import warp
    m = small_model(4)
    digits, _ = _drawings(5, seed=4)
    plain = engine.read(m, digits)
    assert not reading.averages_distortions(m)
    np.testing.assert_allclose(plain.proba, m.predict_proba(digits), rtol=1e-6)    # the image alone
    r = engine.read(_augmented(m), digits)
    assert reading.averages_distortions(m)
    maps, widths = reading._maps()
    assert maps.shape == (reading.DISTORTIONS, 2, 3) and widths.shape == (reading.DISTORTIONS,)
    for i, x in enumerate(digits):           # by hand: the drawing and each of its distortions, averaged
        looks = [x] + [warp(x[None], maps[j:j + 1], widths[j:j + 1], 0.0)[0] for j in range(len(widths))]
        np.testing.assert_allclose(r.proba[i], m.predict_proba(np.stack(looks)).mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(r.proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(r.digit, r.proba.argmax(1))
    assert not np.allclose(r.proba, plain.proba)                 # the distortions do count


def test_an_image_reads_the_same_alone_or_in_any_batch(small_model):
    m = _augmented(small_model(5))
    digits, others = _drawings(6, seed=5)
    images = np.concatenate([digits, others])
    whole = engine.read(m, images)
    for i in (0, 7, len(images) - 1):
        alone = engine.read(m, images[i])
        np.testing.assert_allclose(alone.proba[0], whole.proba[i], rtol=1e-6)
        assert alone.verdict[0] == whole.verdict[i]
    np.testing.assert_allclose(engine.read(m, images[::-1]).proba, whole.proba[::-1], rtol=1e-6)


def test_one_drawing_s_distortions_are_read_without_the_thread_pool():
    from engine.net.conv_loops import PARALLEL_MIN
    assert reading.DISTORTIONS < PARALLEL_MIN      # the window's reading stays on its own thread
