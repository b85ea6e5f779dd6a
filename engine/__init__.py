"""Digitlab's engine: the article's convolutional net in NumPy, its data, training,
evaluation, weight files and command line. Never imports Qt."""
from __future__ import annotations

from .model import Config, Forward, Model, Normalisation
from .preprocess import to_mnist
from .reading import Reading, read

__version__ = "0.1.0"
__all__ = ["Config", "Forward", "Model", "Normalisation", "Reading", "load_model", "read", "to_mnist",
           "__version__"]


def load_model(path=None) -> Model:
    """Load a model file (``.npz``, or a folder of the article's three CSV files).

    With no path, the model shipped in ``resources/``.
    """
    from . import modelfile
    return modelfile.load_model(path)
