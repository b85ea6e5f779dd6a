"""The stable public surface scripts and checks rely on: `engine` and `app` export it by name."""
from __future__ import annotations

import numpy as np
import pytest


def test_the_engine_exports_its_stable_names():
    import engine
    for name in ("load_model", "Model", "finetune", "to_mnist", "__version__"):
        assert hasattr(engine, name), name
    assert callable(engine.finetune) and not hasattr(engine.finetune, "__path__")   # the function
    assert engine.finetune.__name__ == "finetune" and callable(engine.to_mnist)
    model = engine.load_model()
    assert isinstance(model, engine.Model)
    x = engine.to_mnist(np.zeros((280, 280), np.float32))
    assert x.shape == (28, 28) and model.predict_proba(x[None]).shape == (1, 10)
    assert isinstance(engine.__version__, str)


def test_the_engine_reads_a_drawing_where_read_is_present():
    import engine
    assert callable(engine.read)


def test_the_app_exports_its_stable_names():
    import app
    from app.gc_guard import qt_application
    from app.main_window import MainWindow, run
    from app.reading.canvas import DrawingCanvas
    assert app.MainWindow is MainWindow and app.run is run
    assert app.DrawingCanvas is DrawingCanvas and app.qt_application is qt_application
    with pytest.raises(AttributeError):
        app.no_such_name
