"""Fixtures shared by every test: small models. Qt tests run offscreen."""
from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from engine.net.model import Config, Model


def make_small_model(seed: int = 0, config: Config = Config(), name: str | None = None) -> Model:
    """An untrained model of the article's initialisation, named ``test{seed}``."""
    m = Model.article_init(config, np.random.RandomState(seed))
    m.name = name or f"test{seed}"
    return m


@pytest.fixture
def small_model():
    """A factory: ``small_model(seed=0, config=Config(), name=None) -> Model``."""
    return make_small_model


@pytest.fixture(autouse=True, scope="session")
def _collect_on_the_main_thread():
    """Cyclic garbage is collected on the main (GUI) thread only, between tests, as the
    app does on a GUI-thread timer (:mod:`app.gc_guard`): a collection in a training or
    warm-up thread would destroy a finished test's Qt objects from that thread."""
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_between_tests(_collect_on_the_main_thread):
    yield
    from app.gc_guard import collect_due
    collect_due()


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path_factory, monkeypatch):
    """Runs recorded by any test go to a temporary folder, never the user's data folder."""
    monkeypatch.setenv("DIGITLAB_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
