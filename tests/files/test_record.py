"""engine.train.record: a record read from a file holds the kinds of values it promises, or is refused."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.net.model import Config, Model
from engine.train.record import Record, RecordError, TestFigures


@pytest.mark.parametrize("d, fault", [
    ({"argmax_accuracy": "high"}, "'argmax_accuracy' must be a number, not 'high'"),
    ({"argmax_accuracy": True}, "'argmax_accuracy' must be a number"),
    ({"argmax_accuracy": 101}, "'argmax_accuracy' must lie in 0..100"),
    ({"argmax_accuracy": 90, "percent_correct": -1}, "'percent_correct' must lie in 0..100"),
    ({"argmax_accuracy": 90, "test_error": -0.5}, "'test_error' must not be negative"),
    ({"argmax_accuracy": 90, "images": 2.5}, "'images' must be a whole number"),
    ({"argmax_accuracy": 90, "confusion": [[1.5] * 10] * 10}, "'confusion' must be a matrix of whole"),
    ({"argmax_accuracy": 90, "confusion": [[-1] * 10] * 10}, "negative counts"),
    ({"argmax_accuracy": 90, "confusion": "10x10"}, "'confusion' must be a matrix"),
    ({"mode": 1}, "'mode' must be text"),
    ({"mode": "magic"}, "'mode' must be 'article' or 'backprop'"),
    ({"reason": ["max_iter"]}, "'reason' must be text"),
    ({"data": {"path": "x"}}, "'data' must be text"),
    ({"iterations": -3}, "must not be negative"),
    ({"iterations": "12"}, "'iterations' must be a number"),
    ({"train_seconds": float("inf")}, "'train_seconds' must be finite"),
    ({"settings": [1, 2]}, "'settings' must be a JSON object"),
    ({"settings": {"alpha": {"peak": 1}}}, "setting 'alpha'"),
    ([1, 2], "a record must be a JSON object"),
])
def test_bad_values_are_refused_naming_the_field(d, fault):
    with pytest.raises(RecordError, match=fault):
        Record.from_dict(d)


def test_missing_and_null_values_take_their_defaults():
    r = Record.from_dict({"mode": None, "train_error": None, "argmax_accuracy": 90.0})
    assert r.mode == "" and math.isnan(r.train_error) and r.test.argmax_accuracy == 90.0
    assert Record.from_dict({}) == Record() and Record().is_empty()


def test_a_record_round_trips_through_its_dict():
    r = Record(mode="article", settings={"epochs": 50}, iterations=20, train_error=0.0994,
               reason="converged", train_seconds=53.5, images_per_second=7474.0, train_images=20000,
               data_source="local", data="MNIST", test=TestFigures(0.129, 90.71, 91.48, 10000,
                                                                    np.eye(10, dtype=int) * 3),
               notes={"kept": [1, 2]})
    again = Record.from_dict(r.to_dict())
    assert again == r
    np.testing.assert_array_equal(again.test.confusion, r.test.confusion)


_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4), max_leaves=12)
_keys = st.sampled_from(["mode", "settings", "iterations", "epochs", "train_error", "reason",
                         "train_seconds", "images_per_second", "train_images", "train_count",
                         "data_source", "data", "test_error", "percent_correct", "argmax_accuracy",
                         "images", "test_images", "confusion", "notes", "config", "seed"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(_keys, _json, max_size=8))
def test_whatever_a_file_holds_a_record_that_loads_can_be_shown(d):
    """The window shows a record through Model.title and saves it back through to_dict."""
    try:
        r = Record.from_dict(d)
    except RecordError:
        return
    m = Model.article_init(Config(2, 5, 3), np.random.RandomState(0))
    m.record = r
    assert isinstance(m.title, str)
    assert Record.from_dict(r.to_dict()).to_dict() == r.to_dict()
