"""The window shows engine.read's verdict, whatever is drawn: a digit, a letter, a scribble."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

import engine
from app.reading.canvas import Stroke
from engine.handwriting import negatives, pen, strokes
from engine.handwriting.unipen import PenSample

_A = PenSample("A", "w", (np.array([[0, 100], [35, 0], [70, 100]], float), np.array([[15, 60], [55, 60]], float)),
               "CHAR")


def _cases():
    rng = np.random.default_rng(5)
    seven = strokes.draw("7-plain", rng)
    scribble = [np.cumsum(rng.normal(0, 25, (30, 2)), 0) + 140]
    dots = [np.array([[60.0, 60.0]]), np.array([[200.0, 90.0]]), np.array([[120.0, 220.0]])]
    return {"seven": seven, "letter A": pen.place(_A), "scribble": scribble, "dots": dots,
            "letter W": pen.place(PenSample("W", "w", (negatives.LETTERS["W"][0] * 100,), "CHAR"))}


@pytest.mark.parametrize("name", list(_cases()))
def test_the_window_shows_the_verdict_of_engine_read(teach_window, name):
    w = teach_window
    w.canvas.set_strokes([Stroke([QPointF(float(x), float(y)) for x, y in s], w.canvas.brush_width())
                          for s in _cases()[name]])
    w.classify_now()
    r = engine.read(w.owner.view_model(), w.reader.network_input()[None])
    verdict, digit, p = r.verdict[0], int(r.digit[0]), float(r.proba[0].max())
    caption = w.prediction.caption.text()
    if verdict == "not a digit":
        assert caption.startswith("not a digit") and w.prediction.digit.text() == "?"
    elif verdict == "not sure":
        assert caption.startswith("not sure") and w.prediction.digit.text() == str(digit)
        assert not w.prediction.digit.isEnabled()
    else:
        assert caption == f"{p:.0%} sure" and w.prediction.digit.text() == str(digit)
        assert w.prediction.digit.isEnabled()
