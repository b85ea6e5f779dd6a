"""Why did the net read that? Attribution maps over the 28x28 input.

Every map here has the input's shape and says, pixel by pixel, how much the ink there
pushed the score of one class up (positive) or down (negative). The score of class ``c``
is its log-probability ``log p_c`` (default) or its probability ``p_c``.

- :func:`input_gradient`: the gradient of the score with respect to the input pixels
  (in [0, 1] units), derived through the softmax, both ``tanh`` layers and the max over
  kernels (the winning kernel at each position carries the gradient);
- :func:`gradient_x_input`: that gradient times the drawing (the first-order share of
  each pixel relative to a blank image);
- :func:`integrated_gradients`: the gradient averaged along the straight path from a
  blank image to the drawing, times the drawing (its shares add up to the change of
  score from blank to the drawing, up to the path's discretisation);
- :func:`occlusion`: the drop of the score when a small square of the drawing is
  blanked, averaged over every square covering a pixel.

Everything is batched: the images of a path or of every occluded square go through one
forward pass. The network pieces (:func:`head`, :func:`pooled_pre`) build only on
:class:`engine.net.model.Model`'s public ``forward``, ``prepare`` and ``params``.
"""
from __future__ import annotations

import numpy as np

from ..net.model import Model, softmax

__all__ = ["SCORES", "head", "pooled_pre", "input_gradient", "gradient_x_input",
           "integrated_gradients", "occlusion", "explain", "METHODS"]

SCORES = ("log_proba", "proba")
"""What a class's score can be: its log-probability or its probability."""


def _batch(images01) -> np.ndarray:
    x = np.asarray(images01, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected images (N, 28, 28) or one image (28, 28), got shape {x.shape}")
    return x


def _input_scale(model: Model) -> float:
    """d(network input) / d(pixel in [0, 1]): ``prepare`` is ``(255*x - offset)/scale``."""
    return 255.0 / float(model.norm.scale)


def pooled_pre(model: Model, images01) -> tuple[np.ndarray, np.ndarray]:
    """The pooled layer before its ``tanh`` and the winning kernel at each position.

    Parameters
    ----------
    model : Model
    images01 : ndarray, (N, 28, 28) in [0, 1]

    Returns
    -------
    m : ndarray, (N, P)
        ``max_k`` of the feature maps at each position, in the model's dtype.
    winner : ndarray of int, (N, P)
    """
    fwd = model.forward(model.prepare(_batch(images01)), pooled_tanh=False, maps=True)
    return fwd.pooled, fwd.winner.reshape(len(fwd.pooled), -1)


def head(model: Model, m: np.ndarray, hidden_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The layers after the pooling: ``tanh``, hidden layer, softmax at the model's
    temperature (so ``proba`` is :meth:`Model.predict_proba`'s).

    Parameters
    ----------
    model : Model
    m : ndarray, (..., P)
        The pooled layer before its ``tanh`` (see :func:`pooled_pre`).
    hidden_mask : ndarray, (H,), optional
        Multiplies the hidden layer (0 switches a unit off).

    Returns
    -------
    hidden : ndarray, (..., H)
    proba : ndarray, (..., 10)
    """
    p = model.params
    z1 = np.tanh(m) @ p["W1"]
    if "b1" in p:
        z1 = z1 + p["b1"]
    hidden = np.tanh(z1)
    if hidden_mask is not None:
        hidden = hidden * hidden_mask
    z2 = hidden @ p["W2"]
    if "b2" in p:
        z2 = z2 + p["b2"]
    if model.temperature != 1:
        z2 = z2 / z2.dtype.type(model.temperature)
    return hidden, softmax(z2)


def _targets(target, proba: np.ndarray) -> np.ndarray:
    """Class per image ``(N,)``: the predicted one for None, else ``target`` broadcast."""
    if target is None:
        return proba.argmax(axis=1)
    t = np.broadcast_to(np.asarray(target, dtype=np.intp), (proba.shape[0],))
    if np.any((t < 0) | (t >= proba.shape[1])):
        raise ValueError(f"target class must be 0 to {proba.shape[1] - 1}, got {target!r}")
    return t


def _score(proba: np.ndarray, t: np.ndarray, score: str) -> np.ndarray:
    pc = proba[np.arange(len(t)), t]
    if score == "log_proba":
        return np.log(np.maximum(pc, np.finfo(proba.dtype).tiny))
    if score == "proba":
        return pc
    raise ValueError(f"unknown score {score!r}: use one of {', '.join(SCORES)}")


def input_gradient(model: Model, images01, target=None, *, score: str = "log_proba"
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of a class's score with respect to the input pixels.

    Parameters
    ----------
    model : Model
        Computed in the model's dtype (use ``model.astype(np.float64)`` for checks).
    images01 : ndarray, (N, 28, 28) or (28, 28), in [0, 1]
    target : int or array of int (N,), optional
        The class whose score is differentiated; by default each image's predicted class.
    score : {"log_proba", "proba"}

    Returns
    -------
    grad : ndarray, (N, 28, 28)
        ``d score / d pixel``, pixels in [0, 1] units.
    proba : ndarray, (N, 10)
        The class probabilities of the images.

    Notes
    -----
    At a position where two kernels tie for the maximum the pooling is not differentiable;
    the gradient taken is the one of the first winning kernel (the forward pass's choice).
    """
    x = _batch(images01)
    c = model.config
    p = model.params
    f, r = c.kernel_size, c.side
    m, winner = pooled_pre(model, x)                         # (N, P), (N, P)
    l0 = np.tanh(m)
    hidden, proba = head(model, m)                            # (N, H), (N, 10)
    n = x.shape[0]
    t = _targets(target, proba)
    dz2 = -proba.copy()                                       # d log p_t / d (z2 / T)
    dz2[np.arange(n), t] += 1.0
    if model.temperature != 1:
        dz2 /= dz2.dtype.type(model.temperature)              # d log p_t / d z2
    if score == "proba":
        dz2 *= proba[np.arange(n), t][:, None]
    elif score != "log_proba":
        raise ValueError(f"unknown score {score!r}: use one of {', '.join(SCORES)}")
    dz1 = (dz2 @ p["W2"].T) * (1.0 - hidden * hidden)         # (N, H)
    dm = (dz1 @ p["W1"].T) * (1.0 - l0 * l0)                  # (N, P)
    dwin = dm[..., None] * p["K"][winner]                     # (N, P, f*f)
    dwin = dwin.reshape(n, r, r, f, f)
    grad = np.zeros((n, c.image_size, c.image_size), dtype=dwin.dtype)
    for i in range(f):                                        # col2im: f*f shifted adds
        for j in range(f):
            grad[:, i:i + r, j:j + r] += dwin[:, :, :, i, j]
    return grad * _input_scale(model), proba


def gradient_x_input(model: Model, image01, target=None, *, score: str = "log_proba"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient times input: each pixel's first-order share relative to a blank image.

    Parameters
    ----------
    model : Model
    image01 : ndarray, (28, 28) in [0, 1]
    target : int, optional
        By default the predicted class.
    score : {"log_proba", "proba"}

    Returns
    -------
    attribution : ndarray, (28, 28)
        Zero wherever the drawing is blank.
    proba : ndarray, (10,)
    """
    x = np.asarray(image01, dtype=np.float64)
    g, proba = input_gradient(model, x, target, score=score)
    return g[0] * x, proba[0]


def integrated_gradients(model: Model, image01, target=None, *, steps: int = 32,
                         score: str = "log_proba", baseline=None) -> tuple[np.ndarray, np.ndarray]:
    """Integrated gradients from ``baseline`` (blank by default) to the drawing.

    The gradient is averaged at the midpoints of ``steps`` equal segments of the straight
    path (all ``steps`` images in one batch) and multiplied by ``image - baseline``.

    Parameters
    ----------
    model : Model
    image01 : ndarray, (28, 28) in [0, 1]
    target : int, optional
        By default the class predicted for the drawing.
    steps : int
    score : {"log_proba", "proba"}
    baseline : ndarray, (28, 28), optional

    Returns
    -------
    attribution : ndarray, (28, 28)
        Sums to about ``score(image) - score(baseline)``; zero where the drawing equals
        the baseline.
    proba : ndarray, (10,)
        The drawing's class probabilities.
    """
    x = np.asarray(image01, dtype=np.float64)
    x0 = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float64)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    alphas = (np.arange(steps) + 0.5) / steps
    path = x0[None] + alphas[:, None, None] * (x - x0)[None]          # (steps, 28, 28)
    batch = np.concatenate([x[None], path])
    if target is None:
        target = int(model.predict_proba(x[None])[0].argmax())
    g, proba = input_gradient(model, batch, target, score=score)
    return g[1:].mean(axis=0) * (x - x0), proba[0]


def occlusion(model: Model, image01, target=None, *, patch: int = 4, stride: int = 1,
              score: str = "log_proba", fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Occlusion: how much the score drops when a ``patch x patch`` square is blanked.

    Every square position (``stride`` apart) is set to ``fill`` in its own copy of the
    image; all copies go through one forward pass. A pixel's value is the mean drop over
    the squares that cover it (positive: the ink there supported the class).

    Parameters
    ----------
    model : Model
    image01 : ndarray, (28, 28) in [0, 1]
    target : int, optional
        By default the predicted class.
    patch, stride : int
    score : {"log_proba", "proba"}
    fill : float
        The value the square is set to (0: blank).

    Returns
    -------
    attribution : ndarray, (28, 28)
        Exactly zero where every covering square was already ``fill`` (blank space).
    proba : ndarray, (10,)
    """
    x = np.asarray(image01, dtype=np.float64)
    S = x.shape[0]
    if not 1 <= patch <= S or stride < 1:
        raise ValueError(f"patch must be 1 to {S} and stride at least 1, got {patch}, {stride}")
    starts = np.arange(0, S - patch + 1, stride)
    if starts[-1] != S - patch:
        starts = np.append(starts, S - patch)
    oy, ox = np.meshgrid(starts, starts, indexing="ij")
    oy, ox = oy.ravel(), ox.ravel()                                    # (Q,)
    rows = np.arange(S)
    inside_y = (rows[None, :] >= oy[:, None]) & (rows[None, :] < oy[:, None] + patch)   # (Q, S)
    inside_x = (rows[None, :] >= ox[:, None]) & (rows[None, :] < ox[:, None] + patch)
    mask = inside_y[:, :, None] & inside_x[:, None, :]                 # (Q, S, S)
    batch = np.where(mask, fill, x[None])                              # (Q, S, S)
    # squares that change nothing need no forward pass: their drop is exactly zero
    changed = np.any(batch != x[None], axis=(1, 2))
    proba0 = model.predict_proba(x[None])                              # (1, 10)
    t = _targets(target, proba0)
    s0 = _score(proba0, t, score)[0]
    drop = np.zeros(len(oy))
    if changed.any():
        pr = model.predict_proba(batch[changed])
        drop[changed] = s0 - _score(pr, np.full(int(changed.sum()), t[0]), score)
    total = np.tensordot(drop, mask, axes=1)                           # (S, S)
    count = mask.sum(axis=0)
    return total / np.maximum(count, 1), proba0[0]


METHODS = {
    "gradient × input": gradient_x_input,
    "integrated gradients": integrated_gradients,
    "occlusion": occlusion,
    "input gradient": lambda model, x, target=None, **kw: _plain_gradient(model, x, target, **kw),
}
"""The attribution methods by display name; each ``(model, image01, target) -> (map, proba)``."""


def _plain_gradient(model, image01, target=None, **kw):
    g, proba = input_gradient(model, image01, target, **kw)
    return g[0], proba[0]


def explain(model: Model, image01, target=None, method: str = "gradient × input", **kw
            ) -> tuple[np.ndarray, np.ndarray]:
    """The attribution map of ``method`` (a key of :data:`METHODS`) for one image.

    Returns
    -------
    attribution : ndarray, (28, 28), float64
    proba : ndarray, (10,)
    """
    try:
        fn = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown attribution method {method!r}: use one of {', '.join(METHODS)}") from None
    a, proba = fn(model, image01, target, **kw)
    return np.asarray(a, dtype=np.float64), np.asarray(proba, dtype=np.float64)
