"""The explanation engine: attributions, the back-map to the canvas, robustness,
ablation and the hidden-layer neighbours."""
from __future__ import annotations

import numpy as np
import pytest

from engine.explain.ablation import Broken, Damage, accuracy, kernel_ranking, rounded
from engine.explain.backmap import attribution_rgba, placement, to_canvas
from engine.explain.attribution import (explain, gradient_x_input, input_gradient, integrated_gradients,
                            occlusion)
from engine.explain.neighbours import HiddenIndex, HiddenPCA, hidden_layer
from engine.explain.robustness import robustness, shifted, thickened, warped
from engine.net.model import Config, Model, softmax
from engine.net.preprocess import to_mnist

CONFIG = Config(kernels=6, kernel_size=5, hidden=24, biases=True)


def make_model(seed=0, dtype=np.float64, config=CONFIG) -> Model:
    """A small float64 model with non-zero biases and a standard normalisation."""
    rng = np.random.default_rng(seed)
    m = Model.scaled_init(config, rng, dtype=dtype)
    m.params["b1"] = rng.normal(0, 0.3, config.hidden).astype(dtype)
    m.params["b2"] = rng.normal(0, 0.3, 10).astype(dtype)
    m.params["W2"] = m.params["W2"] * 3
    m.norm.offset, m.norm.scale = 33.0, 78.0
    return m


def blob_image(rng, size=28, box=(6, 22, 8, 20)) -> np.ndarray:
    """A random smooth blob of ink inside ``box`` (top, bottom, left, right), zero elsewhere."""
    img = np.zeros((size, size))
    t, b, l, r = box
    img[t:b, l:r] = rng.uniform(0.2, 1.0, (b - t, r - l))
    return img


def central_differences(model, x, target, score, eps=1e-6):
    """d score / d pixel for every pixel of ``x`` (28, 28): all 2*784 images in one batch."""
    n = x.size
    plus = np.repeat(x[None], n, 0).reshape(n, -1)
    minus = plus.copy()
    plus[np.arange(n), np.arange(n)] += eps
    minus[np.arange(n), np.arange(n)] -= eps
    pr = model.predict_proba(np.concatenate([plus, minus]).reshape(-1, 28, 28))[:, target]
    s = np.log(pr) if score == "log_proba" else pr
    return ((s[:n] - s[n:]) / (2 * eps)).reshape(x.shape)


def runner_up_gap(model, x) -> float:
    """Smallest gap between the winning kernel and the runner-up over all positions."""
    maps = model.forward(model.prepare(x[None])).maps[0]
    top2 = np.sort(maps.reshape(maps.shape[0], -1), axis=0)[-2:]
    return float((top2[1] - top2[0]).min())


@pytest.mark.parametrize("score", ["log_proba", "proba"])
@pytest.mark.parametrize("seed, temperature", [(0, 1.0), (1, 1.0), (2, 1.7)])
def test_input_gradient_matches_central_differences(score, seed, temperature):
    model = make_model(seed)
    model.temperature = temperature                # a calibrated model explains what it reads
    rng = np.random.default_rng(seed + 10)
    x = rng.uniform(0, 1, (28, 28))
    assert runner_up_gap(model, x) > 1e-4          # away from ties: the max is smooth there
    pred = int(model.predict_proba(x[None])[0].argmax())
    for target in (pred, (pred + 3) % 10):
        g, proba = input_gradient(model, x, target, score=score)
        num = central_differences(model, x, target, score)
        np.testing.assert_allclose(g[0], num, rtol=1e-5, atol=1e-6 * np.abs(num).max())
        np.testing.assert_allclose(proba[0], model.predict_proba(x[None])[0])


def test_input_gradient_of_a_batch_matches_each_image():
    model = make_model(2)
    xs = np.random.default_rng(3).uniform(0, 1, (3, 28, 28))
    g, _ = input_gradient(model, xs, [1, 4, 7])
    for i, t in enumerate([1, 4, 7]):
        np.testing.assert_allclose(g[i], input_gradient(model, xs[i], t)[0][0])


def test_gradient_x_input_is_zero_on_blank_pixels_and_gradient_times_ink_elsewhere():
    model = make_model(0)
    x = blob_image(np.random.default_rng(0))
    a, _ = gradient_x_input(model, x, 3)
    assert np.all(a[x == 0] == 0)
    np.testing.assert_allclose(a, input_gradient(model, x, 3)[0][0] * x)


def test_integrated_gradients_add_up_to_the_change_of_score_from_blank():
    model = make_model(4)
    x = blob_image(np.random.default_rng(4))
    t = int(model.predict_proba(x[None])[0].argmax())
    a, _ = integrated_gradients(model, x, t, steps=400)
    pr = model.predict_proba(np.stack([x, np.zeros_like(x)]))[:, t]
    change = np.log(pr[0]) - np.log(pr[1])
    assert abs(a.sum() - change) < 0.02 * abs(change) + 1e-3
    assert np.all(a[x == 0] == 0)


def test_occlusion_of_blank_space_changes_nothing():
    model = make_model(5)
    x = np.zeros((28, 28))
    x[2:10, 3:9] = np.random.default_rng(5).uniform(0.3, 1, (8, 6))
    occ, _ = occlusion(model, x, 2, patch=4, stride=1)
    # squares covering any pixel from row 13 or column 12 on never reach the ink
    assert np.all(occ[13:, :] == 0) and np.all(occ[:, 12:] == 0)
    assert np.any(occ[2:10, 3:9] != 0)
    blank, _ = occlusion(model, np.zeros((28, 28)), 2)
    assert np.all(blank == 0)


def test_occlusion_is_the_drop_of_score_when_one_square_is_blanked():
    model = make_model(6)
    x = blob_image(np.random.default_rng(6))
    occ, proba = occlusion(model, x, 5, patch=28, stride=1)   # one square: the whole image
    blank = model.predict_proba(np.zeros((1, 28, 28)))[0, 5]
    np.testing.assert_allclose(occ, np.log(proba[5]) - np.log(blank))


def test_explain_names_every_method_and_rejects_unknown_ones():
    model = make_model(0)
    x = blob_image(np.random.default_rng(1))
    for method in ("gradient × input", "integrated gradients", "occlusion", "input gradient"):
        a, p = explain(model, x, 1, method)
        assert a.shape == (28, 28) and p.shape == (10,)
    with pytest.raises(ValueError, match="unknown attribution method"):
        explain(model, x, 1, "magic")
    with pytest.raises(ValueError, match="target class"):
        explain(model, x, 12)


# -- back to the canvas ---------------------------------------------------------------
def canvas_digit(seed=0, size=280) -> np.ndarray:
    """A 28x28 blob drawn on a larger canvas off its centre."""
    small = np.zeros((28, 28))
    small[4:14, 3:11] = np.random.default_rng(seed).uniform(0.5, 1, (10, 8))
    return np.kron(small, np.ones((size // 28, size // 28)))


@pytest.mark.parametrize("preprocess", [True, False])
def test_the_input_drawn_back_on_the_canvas_lands_on_the_ink(preprocess):
    canvas = canvas_digit()
    x28 = to_mnist(canvas, preprocess)
    back = to_canvas(x28, canvas, preprocess)
    assert back.shape == canvas.shape
    ink, blank = canvas > 0.1, canvas == 0
    assert back[ink].mean() > 0.4 and back[blank].mean() < 0.05
    assert np.corrcoef(back.ravel(), canvas.ravel())[0, 1] > 0.9


def test_placement_without_preprocessing_is_the_plain_scale_and_none_for_a_blank_drawing():
    pl = placement(np.zeros((280, 140)), preprocess=False)
    assert (pl.scale, pl.scale_x) == (0.1, 0.2)
    assert placement(np.zeros((280, 280))) is None
    assert np.all(to_canvas(np.ones((28, 28)), np.zeros((280, 280))) == 0)


def test_attribution_colours_are_transparent_at_zero_and_red_or_blue_by_sign():
    rgba = attribution_rgba(np.array([[0.0, 2.0, -1.0]]))
    assert rgba.shape == (1, 3, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] > rgba[0, 2, 3] > 0
    assert rgba[0, 1, 0] > rgba[0, 1, 2] and rgba[0, 2, 2] > rgba[0, 2, 0]


# -- robustness -------------------------------------------------------------------------
def test_shifts_move_the_drawing_and_bring_in_blank():
    img = np.arange(16.0).reshape(4, 4)
    s = shifted(img, np.array([-1, 0, 2]))
    assert s.shape == (3, 3, 4, 4)
    np.testing.assert_array_equal(s[1, 1], img)
    np.testing.assert_array_equal(s[2, 1][2:], img[:2])          # two rows down
    assert np.all(s[2, 1][:2] == 0)
    np.testing.assert_array_equal(s[1, 0][:, :3], img[:, 1:])    # one column left


def test_a_quarter_turn_anticlockwise_takes_a_dot_right_of_centre_above_it():
    img = np.zeros((21, 21))
    img[10, 15] = 1.0
    out = warped(img, [90.0, 0.0], [1.0, 2.0], (10.0, 10.0))
    assert np.unravel_index(out[0].argmax(), img.shape) == (5, 10)
    assert out[1][10, 20] == pytest.approx(1.0)                  # scaled twice as far out


def test_thicker_strokes_have_more_ink_and_thinner_less():
    img = np.zeros((40, 40))
    img[10:30, 18:22] = 1.0
    t = thickened(img, [-2, 0, 2, 4])
    ink = t.sum(axis=(1, 2))
    assert ink[0] < ink[1] < ink[2] < ink[3]
    np.testing.assert_array_equal(t[1], img)


def test_robustness_reads_every_variation_and_preprocessing_undoes_shifts():
    model = make_model(7, np.float32)
    canvas = canvas_digit(3)
    canvas = np.roll(canvas, (60, 80), axis=(0, 1))             # well inside: shifts lose no ink
    on = robustness(model, canvas, True)
    np.testing.assert_allclose(on.proba, model.predict_proba(to_mnist(canvas)[None])[0], rtol=1e-4)
    c = len(on.shifts) // 2
    np.testing.assert_allclose(on.shift_proba[c, c], on.proba, rtol=1e-4)
    np.testing.assert_allclose(on.shift_proba, np.broadcast_to(on.proba, on.shift_proba.shape), rtol=1e-4)
    off = robustness(model, canvas, False)
    moved = to_mnist(np.roll(canvas, 20, axis=1), False)          # two MNIST pixels right
    np.testing.assert_allclose(off.shift_proba[c, c + 2], model.predict_proba(moved[None])[0], rtol=1e-4)
    assert on.angle_proba.shape == (len(on.angles), 10) and on.thickness_proba.shape[1] == 10
    assert 0.0 <= off.kept() <= 1.0


# -- break it ---------------------------------------------------------------------------
def test_switching_off_every_kernel_gives_the_bias_only_output():
    model = make_model(8)
    p = model.params
    xs = np.random.default_rng(8).uniform(0, 1, (4, 28, 28))
    out = Broken(model, Damage(kernels_off=tuple(range(CONFIG.kernels)))).predict_proba(xs)
    bias_only = softmax(np.tanh(p["b1"]) @ p["W2"] + p["b2"])
    np.testing.assert_allclose(out, np.broadcast_to(bias_only, out.shape), rtol=1e-12)


def test_a_kernel_switched_off_is_the_model_without_that_kernel():
    model = make_model(9)
    xs = np.random.default_rng(9).uniform(0, 1, (5, 28, 28))
    c = CONFIG
    reduced = Model(Config(c.kernels - 1, c.kernel_size, c.hidden, c.biases),
                    {**model.params, "K": np.delete(model.params["K"], 2, axis=0)}, model.norm)
    np.testing.assert_allclose(Broken(model, Damage(kernels_off=(2,))).predict_proba(xs),
                               reduced.predict_proba(xs), rtol=1e-10)


def test_a_hidden_unit_switched_off_is_its_outgoing_weights_zeroed():
    model = make_model(10)
    xs = np.random.default_rng(10).uniform(0, 1, (3, 28, 28))
    zeroed = model.copy()
    zeroed.params["W2"][[1, 5]] = 0
    np.testing.assert_allclose(Broken(model, Damage(hidden_off=(1, 5))).predict_proba(xs),
                               zeroed.predict_proba(xs), rtol=1e-10)
    with pytest.raises(ValueError, match="no hidden unit 99"):
        Broken(model, Damage(hidden_off=(99,)))


def test_noise_and_rounding_change_the_weights_but_never_the_model():
    model = make_model(11)
    before = {k: v.copy() for k, v in model.params.items()}
    b = Broken(model, Damage(noise=0.5, bits=3, seed=1))
    for k in before:
        np.testing.assert_array_equal(model.params[k], before[k])
        assert len(np.unique(b.model.params[k])) <= 7
    assert not np.allclose(b.model.params["W1"], model.params["W1"])
    r = rounded({"a": np.array([-1.0, -0.4, 0.1, 0.6, 1.0])}, 2)["a"]
    np.testing.assert_array_equal(r, [-1.0, 0.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="bits"):
        Damage(bits=0)


def test_kernel_ranking_is_the_accuracy_without_each_kernel():
    model = make_model(12, config=Config(kernels=4, kernel_size=5, hidden=24, biases=True))
    rng = np.random.default_rng(12)
    xs = rng.uniform(0, 1, (60, 28, 28))
    labels = model.predict_proba(xs).argmax(axis=1)             # the intact model is always right
    r = kernel_ranking(model, xs, labels, chunk=25)
    assert r.accuracy == 1.0
    for i in range(4):
        assert r.without[i] == accuracy(Broken(model, Damage(kernels_off=(i,))).predict_proba, xs, labels)
    assert list(r.drop[r.order]) == sorted(r.drop, reverse=True)


# -- looks like -------------------------------------------------------------------------
def test_nearest_neighbours_of_a_training_image_include_itself():
    model = make_model(13, np.float32)
    rng = np.random.default_rng(13)
    train = rng.uniform(0, 1, (50, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    index = HiddenIndex(model, train, labels)
    idx, dist = index.nearest(train[[7, 21]], k=5)
    assert list(idx[:, 0]) == [7, 21]
    assert np.all(dist[:, 0] < 1e-3) and np.all(np.diff(dist, axis=1) >= 0)
    one, _ = index.nearest(train[30], k=3)
    assert one.shape == (3,) and one[0] == 30


def test_the_pca_map_projects_the_fitted_images_onto_their_points():
    model = make_model(14, np.float32)
    rng = np.random.default_rng(14)
    xs = rng.uniform(0, 1, (40, 28, 28))
    pca = HiddenPCA.fit(model, xs, rng.integers(0, 10, 40))
    np.testing.assert_allclose(pca.project(hidden_layer(model, xs)), pca.points, atol=1e-9)
    assert pca.points.shape == (40, 2) and pca.explained[0] >= pca.explained[1] > 0
    np.testing.assert_allclose(pca.points.mean(axis=0), 0, atol=1e-9)
