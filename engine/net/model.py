"""The network: configuration, parameters, normalisation and the batched forward pass.

The network is the article's family: ``k`` square kernels of side ``f`` slide over a
28x28 image with stride 1 and no padding (``r = 28 - f + 1`` positions a side,
``P = r*r`` positions); the "pooling" takes, at each position, the maximum over the
kernels; then ``tanh``, a fully connected hidden layer with ``tanh``, and a softmax
over the ten classes.

Shapes used throughout (``N`` images in a batch):

- images ``X``: ``(N, 28, 28)``, already normalised (see :class:`Normalisation`);
- kernels ``K``: ``(k, f*f)``, each row a kernel flattened row-major;
- ``W1``: ``(P, H)``, ``W2``: ``(H, 10)``; optional biases ``b1``: ``(H,)``, ``b2``: ``(10,)``;
- positions ``p = i*r + j`` (row-major), windows flattened row-major.

:func:`forward_pass` is the one forward pass: :meth:`Model.forward` shows it, and the
backprop mode (:mod:`engine.train.backprop`) differentiates it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from ..train.record import Record
from .normalisation import Normalisation

__all__ = ["Config", "Normalisation", "Forward", "Pass", "Model", "softmax", "windows", "kernel_side",
           "forward_pass"]


def kernel_side(width: int) -> int:
    """The side ``f`` of square kernels flattened to rows of ``width = f*f`` values.

    Raises ValueError when ``width`` is not a square.
    """
    f = math.isqrt(int(width))
    if f < 1 or f * f != width:
        raise ValueError(f"kernels of {width} values are not square (f*f values a kernel)")
    return f


@dataclass(frozen=True)
class Config:
    """Architecture of a network of the article's family.

    Parameters
    ----------
    kernels : int
        Number of convolution kernels ``k`` (the article: 9).
    kernel_size : int
        Side ``f`` of each square kernel (the article: 8).
    hidden : int
        Size ``H`` of the hidden layer (the article: 100).
    biases : bool
        Whether the dense layers have biases ``b1`` (H,) and ``b2`` (10,). The article has none.
    image_size : int
        Side of the input images (28 for MNIST).
    classes : int
        Number of output classes (10).
    """

    kernels: int = 9
    kernel_size: int = 8
    hidden: int = 100
    biases: bool = False
    image_size: int = 28
    classes: int = 10

    def __post_init__(self):
        for name in ("kernels", "kernel_size", "hidden", "image_size", "classes"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, not {value!r}")
        if self.kernel_size > self.image_size:
            raise ValueError(
                f"kernel_size {self.kernel_size} is larger than the image ({self.image_size})")

    @property
    def side(self) -> int:
        """Positions a side, ``r = image_size - kernel_size + 1``."""
        return self.image_size - self.kernel_size + 1

    @property
    def positions(self) -> int:
        """Number of window positions ``P = r*r``."""
        return self.side * self.side

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter array, by name."""
        s = {
            "K": (self.kernels, self.kernel_size * self.kernel_size),
            "W1": (self.positions, self.hidden),
            "W2": (self.hidden, self.classes),
        }
        if self.biases:
            s["b1"] = (self.hidden,)
            s["b2"] = (self.classes,)
        return s

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        """The configuration a file recorded (unknown keys ignored). Raises ValueError on a
        value of the wrong kind, or on images or classes other than MNIST's 28x28 and 10."""
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k, v in known.items():
            if k == "biases":
                if not isinstance(v, (bool, np.bool_)):
                    raise ValueError(f"'biases' must be true or false, not {v!r}")
                known[k] = bool(v)
            elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"'{k}' must be a whole number, not {v!r}")
            else:
                known[k] = int(v)
        for k in ("image_size", "classes"):
            if k in known and known[k] != cls.__dataclass_fields__[k].default:
                raise ValueError(f"'{k}' is {known[k]}: Digitlab reads 28x28 images of 10 digits")
        return cls(**known)



class Forward(NamedTuple):
    """Everything the forward pass computes for a batch of ``N`` images.

    Attributes
    ----------
    maps : ndarray, (N, k, r, r)
        Feature map of every kernel (the convolution before pooling).
    winner : ndarray of int, (N, r, r)
        Index of the kernel with the largest response at each position (first on ties).
    pooled : ndarray, (N, P)
        The pooled layer ``l0``: ``tanh(max_k maps)`` (no tanh with the article's test quirk).
    hidden : ndarray, (N, H)
        The hidden layer ``l1 = tanh(l0 @ W1 [+ b1])``.
    proba : ndarray, (N, 10)
        Class probabilities ``softmax(l1 @ W2 [+ b2])``.
    """

    maps: np.ndarray
    winner: np.ndarray
    pooled: np.ndarray
    hidden: np.ndarray
    proba: np.ndarray


def windows(X: np.ndarray, f: int) -> np.ndarray:
    """Every ``f x f`` window of a batch of images, as rows.

    Parameters
    ----------
    X : ndarray, (N, S, S)
    f : int

    Returns
    -------
    ndarray, (N, P, f*f), P = (S-f+1)**2
        A contiguous copy; row ``p = i*r + j`` is ``X[n, i:i+f, j:j+f]`` flattened.
    """
    X = np.asarray(X)
    n, s, _ = X.shape
    r = s - f + 1
    view = np.lib.stride_tricks.sliding_window_view(X, (f, f), axis=(1, 2))
    return view.reshape(n, r * r, f * f)


class Pass(NamedTuple):
    """The forward pass of a batch of ``N`` images, with what its gradient needs.

    Attributes
    ----------
    maps : ndarray, (N, P, k), or None
        Every kernel's response at every position (only when asked for).
    winner : ndarray of int, (N, P)
        The kernel with the largest response at each position (the first on ties).
    Xf : ndarray, (S, S*N), or None
        The images laid out image-last (:func:`engine.net.conv_loops.image_last`), when the fused
        convolution ran (no ``maps``).
    pooled : ndarray, (N, P)
        ``l0 = tanh(max_k response)`` (no tanh with the article's test quirk).
    hidden : ndarray, (N, H)
        ``l1 = tanh(l0 @ W1 [+ b1])``.
    dropped : ndarray, (N, H)
        ``l1`` times the dropout mask (``l1`` itself without one).
    logits : ndarray, (N, C)
        ``dropped @ W2 [+ b2]`` minus each row's maximum.
    expsum : ndarray, (N, 1)
        ``sum(exp(logits))`` of each row.
    proba : ndarray, (N, C)
        ``softmax = exp(logits) / expsum``.
    """

    maps: np.ndarray | None
    winner: np.ndarray
    Xf: np.ndarray | None
    pooled: np.ndarray
    hidden: np.ndarray
    dropped: np.ndarray
    logits: np.ndarray
    expsum: np.ndarray
    proba: np.ndarray


def forward_pass(params: dict, X: np.ndarray, f: int, *, pooled_tanh: bool = True,
                 maps: bool = False, mask: np.ndarray | None = None) -> Pass:
    """The network's forward pass on a batch, in the parameters' dtype.

    Parameters
    ----------
    params : dict of str to ndarray
        ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, C), optional ``b1`` (H,), ``b2`` (C,).
    X : ndarray, (N, S, S)
        Normalised images, in the parameters' dtype.
    f : int
        Kernel side.
    pooled_tanh : bool
        ``False`` leaves out the tanh on the pooled layer (the article's test code).
    maps : bool
        Keep every kernel's response (a window matrix and a matrix product); otherwise
        only the maximum and its kernel, from the fused compiled loop.
    mask : ndarray, (N, H), or None
        Multiplies the hidden layer (inverted dropout).

    Returns
    -------
    Pass
    """
    K, W1, W2 = params["K"], params["W1"], params["W2"]
    n = X.shape[0]
    if maps:
        A = windows(X, f) @ K.T                              # (N, P, k)
        win = A.argmax(axis=2)                               # (N, P)
        pre = np.take_along_axis(A, win[..., None], axis=2)[..., 0]
        Xf = None
    else:
        A = None
        from .conv_loops import conv_max_t, image_last   # numba: loaded on the first pass, not at import
        Xf = image_last(X, K.dtype)
        val, win_t = conv_max_t(Xf, K, f, n)                 # (r, r*N): image last
        P = (X.shape[1] - f + 1) ** 2
        pre = val.reshape(P, n).T                            # (N, P) views
        win = win_t.reshape(P, n).T
    l0 = np.tanh(pre) if pooled_tanh else pre
    z1 = l0 @ W1
    if "b1" in params:
        z1 += params["b1"]
    l1 = np.tanh(z1)
    l1d = l1 * mask if mask is not None else l1
    z2 = l1d @ W2
    if "b2" in params:
        z2 += params["b2"]
    logits, expsum, proba = _softmax_parts(z2)
    return Pass(A, win, Xf, l0, l1, l1d, logits, expsum, proba)


def _softmax_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``z`` ``(..., C)``: the logits less each row's maximum (in place), their row sums of
    ``exp`` ``(..., 1)`` and the softmax ``(..., C)``."""
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=-1, keepdims=True)
    return z, s, e / s


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax along the last axis of ``z`` ``(..., C)`` (a new array; ``z`` is left as it is)."""
    return _softmax_parts(np.array(z, dtype=np.result_type(z, np.float32)))[2]


@dataclass
class Model:
    """A network of the article's family with its normalisation and training record.

    Parameters
    ----------
    config : Config
    params : dict of str to ndarray
        ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, 10) and, with biases, ``b1`` (H,), ``b2`` (10,).
    norm : Normalisation
        How raw pixels become the network's input.
    record : Record
        What is known of how the model was made and how it tests.
    name : str
        A short name for display (file stem, "untrained", ...).
    temperature : float
        The outputs' logits are divided by it before the softmax (calibration,
        :mod:`engine.handwriting.calibration`); 1 leaves the probabilities as trained. It never changes
        which class is largest.
    """

    config: Config
    params: dict
    norm: Normalisation = field(default_factory=Normalisation)
    record: Record = field(default_factory=Record)
    name: str = "untrained"
    temperature: float = 1.0

    def __post_init__(self):
        self.check()

    # -- construction -------------------------------------------------------------
    @classmethod
    def article_init(cls, config: Config, rng: np.random.RandomState | None = None,
                     norm: Normalisation | None = None) -> "Model":
        """The article's initialisation: uniform in [-1, 1), drawn as ``K``, ``W1``, ``W2``.

        ``rng = np.random.RandomState(S)`` draws the same numbers as the article's code
        after ``np.random.seed(S)``. Biases, if any, start at zero.
        """
        rng = np.random.mtrand._rand if rng is None else rng
        shapes = config.shapes()
        params = {}
        for key in ("K", "W1", "W2"):
            params[key] = 2.0 * rng.random_sample(shapes[key]) - 1.0
        for key in ("b1", "b2"):
            if key in shapes:
                params[key] = np.zeros(shapes[key])
        return cls(config, params, norm or Normalisation(), Record(), "untrained")

    @classmethod
    def scaled_init(cls, config: Config, rng: np.random.Generator,
                    norm: Normalisation | None = None, dtype=np.float32) -> "Model":
        """Fan-in scaled initialisation (Glorot-uniform style) for the backprop mode."""
        shapes = config.shapes()
        f2 = config.kernel_size ** 2
        params = {
            "K": rng.uniform(-1, 1, shapes["K"]) * np.sqrt(3.0 / f2),
            "W1": rng.uniform(-1, 1, shapes["W1"]) * np.sqrt(6.0 / (config.positions + config.hidden)),
            "W2": rng.uniform(-1, 1, shapes["W2"]) * np.sqrt(6.0 / (config.hidden + config.classes)),
        }
        for key in ("b1", "b2"):
            if key in shapes:
                params[key] = np.zeros(shapes[key])
        params = {k: v.astype(dtype) for k, v in params.items()}
        return cls(config, params, norm or Normalisation(), Record(), "untrained")

    def copy(self) -> "Model":
        """A deep copy (parameters, record, normalisation)."""
        return Model(self.config, {k: v.copy() for k, v in self.params.items()},
                     copy.deepcopy(self.norm), copy.deepcopy(self.record), self.name, self.temperature)

    def check(self) -> None:
        """Raise ``ValueError`` unless every parameter has its shape and is finite."""
        shapes = self.config.shapes()
        missing = set(shapes) - set(self.params)
        extra = set(self.params) - set(shapes)
        if missing:
            raise ValueError(f"missing parameter arrays: {', '.join(sorted(missing))}")
        if extra:
            raise ValueError(f"unexpected parameter arrays: {', '.join(sorted(extra))}")
        for key, shape in shapes.items():
            a = self.params[key]
            if not isinstance(a, np.ndarray) or a.shape != shape:
                got = getattr(a, "shape", type(a).__name__)
                raise ValueError(f"{key} has shape {got}, expected {shape}")
            if not np.issubdtype(a.dtype, np.floating):
                raise ValueError(f"{key} holds {a.dtype}, expected floating-point numbers")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{key} holds NaN or infinity")
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) \
                or not (math.isfinite(t) and t > 0):
            raise ValueError(f"temperature must be a finite number above 0, not {t!r}")

    @property
    def dtype(self):
        return self.params["K"].dtype

    def astype(self, dtype) -> "Model":
        """A copy with every parameter in ``dtype``."""
        m = self.copy()
        m.params = {k: v.astype(dtype) for k, v in m.params.items()}
        return m

    # -- forward ------------------------------------------------------------------
    def forward(self, X: np.ndarray, *, pooled_tanh: bool = True, maps: bool = True) -> Forward:
        """Forward pass on a batch of normalised images.

        Parameters
        ----------
        X : ndarray, (N, 28, 28) or (28, 28)
            Normalised images (see :meth:`Normalisation.apply`).
        pooled_tanh : bool
            ``False`` leaves out the tanh on the pooled layer, as the article's test code does.
        maps : bool
            Whether to return the feature maps (else ``Forward.maps`` is None).

        Returns
        -------
        Forward
        """
        X = np.asarray(X)
        if X.ndim == 2:
            X = X[None]
        c = self.config
        if X.ndim != 3 or X.shape[1:] != (c.image_size, c.image_size):
            raise ValueError(f"images must have shape (N, {c.image_size}, {c.image_size}), "
                             f"not {X.shape}")
        n = X.shape[0]
        t = forward_pass(self.params, np.ascontiguousarray(X, dtype=self.dtype), c.kernel_size,
                         pooled_tanh=pooled_tanh, maps=maps)
        fmaps = t.maps.transpose(0, 2, 1).reshape(n, c.kernels, c.side, c.side) if maps else None
        winner = t.winner.astype(np.intp).reshape(n, c.side, c.side)
        proba = t.proba if self.temperature == 1 else softmax(t.logits / t.logits.dtype.type(self.temperature))
        return Forward(fmaps, winner, t.pooled, t.hidden, proba)

    def prepare(self, images01: np.ndarray) -> np.ndarray:
        """Normalise images in [0, 1] ``(N, 28, 28)`` as this model was trained."""
        return self.norm.apply(np.asarray(images01, dtype=np.float64) * 255.0, self.dtype)

    def predict_proba(self, images01: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, 10)`` for images ``(N, 28, 28)`` in [0, 1], white on black."""
        return self.forward(self.prepare(images01), maps=False).proba

    def forward_one(self, image01: np.ndarray) -> Forward:
        """The forward pass of one image ``(28, 28)`` in [0, 1], every intermediate kept
        (feature maps, winners, pooled layer); arrays keep the batch axis of 1."""
        return self.forward(self.prepare(np.asarray(image01)[None]))

    def see(self, image01: np.ndarray) -> Forward:
        """Former name of :meth:`forward_one` (kept for scripts written before it)."""
        return self.forward_one(image01)

    @property
    def title(self) -> str:
        """Name and test accuracy, for window titles."""
        acc = self.record.argmax_accuracy
        return f"{self.name} ({acc:.2f}% test accuracy)" if acc is not None else self.name
