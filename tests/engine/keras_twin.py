"""The same network in Keras 3 (JAX backend), for cross-checking and speed comparison.

Layers: ``Conv2D(k, f, padding="valid", use_bias=False)`` on ``(28, 28, 1)`` images →
maximum over the kernel axis → ``tanh`` → ``Flatten`` (row-major positions
``p = i*r + j``, as ours) → ``Dense(H, tanh)`` → ``Dense(10, softmax)``; the dense layers
have biases only when the configuration does.

Weight correspondence: Keras's convolution is a cross-correlation like ours, so
``conv.kernel[a, b, 0, k] = K[k, a*f + b]``; ``dense.kernel`` is ``W1`` ``(P, H)`` and
``W2`` ``(H, 10)`` as they are.

Keras and JAX are imported on first use (``KERAS_BACKEND`` defaults to ``"jax"``).
"""
from __future__ import annotations

import os

import numpy as np

from engine.net.model import Config, Model, Normalisation
from engine.train.record import Record

__all__ = ["keras_available", "build", "to_keras", "from_keras"]


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    return keras


def keras_available() -> bool:
    """Whether Keras 3 with a working backend can be imported."""
    try:
        _keras()
        return True
    except Exception:
        return False


def build(config: Config, dtype: str = "float32"):
    """An untrained Keras model with the architecture of ``config``.

    Parameters
    ----------
    config : Config
    dtype : str
        Keras dtype policy for the layers ("float32" or "float64").

    Returns
    -------
    keras.Model
        Input ``(N, S, S, 1)`` normalised images, output ``(N, 10)`` probabilities. Layers
        named ``conv``, ``max_over_kernels``, ``pooled_tanh``, ``flatten``, ``hidden``, ``out``.
    """
    keras = _keras()
    from keras import layers, ops

    s, f, k = config.image_size, config.kernel_size, config.kernels
    inp = keras.Input((s, s, 1), dtype=dtype, name="image")
    x = layers.Conv2D(k, f, padding="valid", use_bias=False, dtype=dtype, name="conv")(inp)
    x = layers.Lambda(lambda t: ops.max(t, axis=-1), dtype=dtype, name="max_over_kernels")(x)
    x = layers.Activation("tanh", dtype=dtype, name="pooled_tanh")(x)
    x = layers.Flatten(dtype=dtype, name="flatten")(x)
    x = layers.Dense(config.hidden, activation="tanh", use_bias=config.biases, dtype=dtype,
                     name="hidden")(x)
    out = layers.Dense(config.classes, activation="softmax", use_bias=config.biases, dtype=dtype,
                       name="out")(x)
    return keras.Model(inp, out, name=f"digitlab_k{k}f{f}h{config.hidden}")


def to_keras(model: Model, dtype: str | None = None):
    """A Keras model computing the same function as ``model``, with its weights.

    Parameters
    ----------
    model : Model
    dtype : str or None
        Keras dtype; the model's parameter dtype when None.

    Returns
    -------
    keras.Model
        See :func:`build`.
    """
    c = model.config
    dt = dtype or np.dtype(model.dtype).name
    km = build(c, dt)
    p = model.params
    f, k = c.kernel_size, c.kernels
    kernel = np.asarray(p["K"]).reshape(k, f, f).transpose(1, 2, 0)[:, :, None, :]   # (f, f, 1, k)
    km.get_layer("conv").set_weights([kernel.astype(dt)])
    if c.biases:
        km.get_layer("hidden").set_weights([p["W1"].astype(dt), p["b1"].astype(dt)])
        km.get_layer("out").set_weights([p["W2"].astype(dt), p["b2"].astype(dt)])
    else:
        km.get_layer("hidden").set_weights([p["W1"].astype(dt)])
        km.get_layer("out").set_weights([p["W2"].astype(dt)])
    return km


def from_keras(kmodel, norm: Normalisation | None = None, dtype=np.float32) -> Model:
    """Our model from a Keras model built by :func:`build` / :func:`to_keras`.

    Parameters
    ----------
    kmodel : keras.Model
    norm : Normalisation or None
        How raw pixels are normalised for this model (standard [0, 1] scaling when None).
    dtype : numpy dtype
        Of the parameters.

    Returns
    -------
    Model
    """
    try:
        conv = kmodel.get_layer("conv")
        hidden = kmodel.get_layer("hidden")
        out = kmodel.get_layer("out")
    except ValueError as e:
        raise ValueError(f"not a Digitlab twin (layers conv, hidden, out expected): {e}") from None
    kernel = np.asarray(conv.get_weights()[0])          # (f, f, 1, k)
    f, _, ch, k = kernel.shape
    if ch != 1:
        raise ValueError(f"the convolution has {ch} input channels; expected 1")
    hw = hidden.get_weights()
    ow = out.get_weights()
    biases = len(hw) == 2
    s = int(kmodel.input_shape[1])
    cfg = Config(kernels=int(k), kernel_size=int(f), hidden=int(hw[0].shape[1]), biases=biases,
                 image_size=s, classes=int(ow[0].shape[1]))
    params = {"K": kernel[:, :, 0, :].transpose(2, 0, 1).reshape(k, f * f),
              "W1": np.asarray(hw[0]), "W2": np.asarray(ow[0])}
    if biases:
        params["b1"] = np.asarray(hw[1])
        params["b2"] = np.asarray(ow[1])
    params = {key: np.ascontiguousarray(v, dtype=dtype) for key, v in params.items()}
    return Model(cfg, params, norm or Normalisation(), Record(notes={"converted_from": "keras"}),
                 "from-keras")
