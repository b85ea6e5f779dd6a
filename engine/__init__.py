"""Digitlab's engine: the article's convolutional net in NumPy, its data, training,
evaluation, weight files and command line. Never imports Qt."""
from __future__ import annotations

from .startup import quiet_start

with quiet_start():                 # Ctrl+C while NumPy loads: one line, exit 130
    from .model import Config, Forward, Model, Normalisation

__version__ = "0.1.0"
__all__ = ["Config", "Forward", "Model", "Normalisation", "load_model", "__version__"]


def load_model(path=None) -> Model:
    """Load a model file (``.npz``, or a folder of the article's three CSV files).

    With no path, the model shipped in ``resources/``.
    """
    from . import modelfile
    return modelfile.load_model(path)
