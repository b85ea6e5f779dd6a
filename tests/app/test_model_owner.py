"""The one owner of the model: asks before discarding, switches all or nothing."""
from __future__ import annotations

import numpy as np
import pytest

from app.model_owner import ModelOwner


def test_model_changed_once_per_change_and_live_snapshots(qtbot, owner, small_model):
    sent = []
    owner.modelChanged.connect(sent.append)
    current = owner.model()
    live = small_model(7)
    owner.set_training(True)
    owner.set_live(live)
    assert owner.view_model() is live and owner.model() is current
    owner.set_training(False)                  # the run ended without a model: back to the current
    assert sent == [live, current]
    assert owner.view_model() is current


def test_an_unsaved_model_is_replaced_only_when_the_user_says_so(owner, prompts, small_model):
    trained = small_model(8)
    owner.set_model(trained, unsaved=True)
    prompts.answers["ask_save"] = "cancel"
    assert not owner.replace(small_model(9))
    assert owner.model() is trained and owner.is_unsaved()
    assert "has not been saved" in prompts.texts("ask_save")[0]
    prompts.answers["ask_save"] = "discard"
    other = small_model(9)
    assert owner.replace(other, path="x.npz")
    assert owner.model() is other and not owner.is_unsaved() and owner.path() == "x.npz"


def test_save_then_replace(prompts, small_model):
    saved = []
    o = ModelOwner(ask=prompts.ask_save, save=lambda: saved.append(1) or True)
    o.set_model(small_model(1), unsaved=True)
    prompts.answers["ask_save"] = "save"
    assert o.replace(small_model(2)) and saved == [1]
    o.set_model(small_model(3), unsaved=True)
    o.save = lambda: False                       # the save dialog was cancelled: keep it
    assert not o.replace(small_model(4)) and o.model().name == "test3"


def test_nothing_replaces_the_model_while_a_run_trains(owner, small_model):
    before = owner.model()
    owner.set_training(True)
    assert not owner.replace(small_model(5))
    assert owner.model() is before


class Broken:
    """A model object that loads but cannot read a drawing."""
    name = "broken"

    def see(self, image):
        raise ValueError("image_size 10 is not 28")


def test_a_model_that_cannot_read_a_drawing_is_refused_and_the_old_one_stays(owner, prompts):
    before = owner.model()
    sent = []
    owner.modelChanged.connect(sent.append)
    with pytest.raises(ValueError, match="cannot read a 28x28 drawing"):
        owner.replace(Broken())
    assert owner.model() is before and sent == [] and prompts.asked == []


def test_mark_saved(owner):
    owner.set_model(owner.model(), unsaved=True, shipped=False)
    owner.mark_saved("/tmp/m.npz")
    assert not owner.is_unsaved() and owner.path() == "/tmp/m.npz"
    assert np.isfinite(owner.model().params["K"]).all()
