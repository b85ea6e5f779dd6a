"""Digitlab's engine: the article's convolutional net in NumPy, its data, training,
evaluation, weight files and command line. Never imports Qt.

The stable surface for scripts and checks (``tests/test_public_surface.py`` holds it):

- :func:`load_model` (no path: the shipped model) and :class:`Model`
  (``model.predict_proba(images)`` for ``(N, 28, 28)`` in [0, 1] gives ``(N, 10)``);
- :func:`to_mnist`: a drawing to the 28x28 image the network reads;
- :func:`finetune`: teach a model someone's drawings (the function);
- ``read(model, images)``: digit, probabilities and verdict in one reading (where present);
- ``__version__``. The command line: ``python -m engine`` (``digitlab``).
"""
from __future__ import annotations

from .startup import quiet_start

with quiet_start():                 # Ctrl+C while NumPy loads: one line, exit 130
    from .net.model import Config, Forward, Model, Normalisation

__version__ = "0.1.0"
__all__ = ["Config", "Forward", "Model", "Normalisation", "Reading", "load_model", "read", "to_mnist", "finetune",
           "__version__"]


def load_model(path=None) -> Model:
    """Load a model file (``.npz``, or a folder of the article's three CSV files).

    With no path, the model shipped in ``resources/``.
    """
    from .files import modelfile
    return modelfile.load_model(path)


with quiet_start():                 # the rest of the surface: Ctrl+C while it loads is one line too
    from .net.preprocess import to_mnist  # noqa: E402
    from .net.reading import Reading, read  # noqa: E402


def __getattr__(name: str):
    """``engine.finetune``, loaded when first asked for (it brings the compiled training loops,
    which the window's first paint does not need)."""
    if name == "finetune":
        from .handwriting.finetune import finetune
        return finetune
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
