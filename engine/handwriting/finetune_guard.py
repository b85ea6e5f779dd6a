"""Teaching that never harms: keep a fine-tuning only when it reads the person's drawings at least as well.

A fine-tuned model cannot be judged on the drawings it learned (it reads those well by
construction). :func:`guarded_finetune` cross-validates instead: the collection is split into
``folds`` parts (stratified by digit); for each part a copy of the model is fine-tuned on the
other parts, with the same recipe and seed, and reads the part it never saw. Those held-out
readings are compared with the starting model's readings of the same drawings (which it never
saw either). The tuning is kept when it reads at least as many of them right; only then is the
model fine-tuned on the whole collection. When the starting model already reads every drawing
right there is nothing to learn and nothing is tuned: on real writers held out of the shipped
model's training, such tunings could only lose, and one did (a writer read 99.2% lost one digit
of 124). Readings are the window's (:func:`engine.read`). (A stricter rule, "as many right only if at least as
sure", was measured and dropped: with 20 drawings its sureness tie-break refused most tunings
of a model trained on pen data, and with them the gains of the writers it reads worst; see
docs/handwriting.md.) Otherwise the starting model stays, and :attr:`Guarded.reason` says why.

Forgetting is bounded too: the model tuned on the whole collection reads a forgetting set of
digits it was not tuned on (default: the bundled sample's 1,000 test digits, which the replay
never shows). When it reads more than :data:`FORGET_LIMIT` of them fewer than the starting
model, the tuning is retried once with the softer recipe :data:`FINETUNE_SOFTER` (twice the
replayed digits, a thirty times stronger pull towards the starting weights, two thirds of the
steps); if that still forgets too much, the tuning is not kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..net.model import Model
from ..net.reading import probabilities
from .finetune import FINETUNE_DEFAULTS, _check, default_replay, finetune

__all__ = ["GUARD_FOLDS", "FORGET_LIMIT", "FINETUNE_SOFTER", "Guarded", "fold_ids", "default_forget_set",
           "guarded_finetune"]

#: Parts the collection is split into for the check (at most one per drawing).
GUARD_FOLDS = 4
#: Largest drop allowed on the forgetting set, as a fraction (0.005: half a point, 5 of 1,000 digits).
FORGET_LIMIT = 0.005
#: The softer recipe of the one retry when a tuning forgets too much (overrides the settings).
FINETUNE_SOFTER: dict = {"replayed": 128, "anchor": 0.3, "steps": 100}


def default_forget_set() -> tuple[np.ndarray, np.ndarray]:
    """The bundled sample's 1,000 test digits: images ``(1000, 28, 28)`` in [0, 1] and labels
    (never replayed: :func:`engine.handwriting.finetune.default_replay` is its training part)."""
    from ..files.data import load_sample
    ds = load_sample()
    return ds.test_images.astype(np.float32) / 255.0, ds.test_labels


@dataclass(frozen=True)
class Guarded:
    """The outcome of :func:`guarded_finetune`.

    Attributes
    ----------
    model : Model or None
        The model fine-tuned on the whole collection when kept, else None.
    keep : bool
    n : int
        Drawings in the collection.
    folds : int
        Parts of the cross-validation (0: too few drawings to check).
    before, held_out : int
        Drawings read right by the starting model, and by the models that did not learn them.
    before_loss, held_out_loss : float
        Mean -log probability of the right digit, the same two ways.
    reason : str
        One plain sentence: what the check found.
    forget_before, forget_after : float
        The forgetting set read right (fractions) by the starting model and by the last model
        tuned on the whole collection (NaN when none was).
    softened : bool
        Whether the softer recipe (:data:`FINETUNE_SOFTER`) was tried.
    forgot : bool
        Not kept because the tuning forgot too much (the collection's check had passed).
    """

    model: Model | None
    keep: bool
    n: int
    folds: int
    before: int
    held_out: int
    before_loss: float
    held_out_loss: float
    reason: str
    forget_before: float = float("nan")
    forget_after: float = float("nan")
    softened: bool = False
    forgot: bool = False

    @property
    def nothing_to_learn(self) -> bool:
        """Not tuned: the starting model already read every drawing (two or more) right."""
        return self.folds == 0 and self.n >= 2 and self.before == self.n


def fold_ids(labels: np.ndarray, folds: int) -> np.ndarray:
    """Fold of each drawing, ``(N,)`` int in ``[0, folds)``: each digit's drawings are dealt
    round the folds in turn (continuing where the previous digit stopped), so every fold holds
    about as many drawings and as many of each digit as it can."""
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    out = np.empty(len(labels), int)
    out[order] = np.arange(len(labels)) % folds
    return out


def _readings(model: Model, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each drawing is read right, as the window reads it (:func:`engine.read`), and
    for each, -log of the right digit's probability."""
    p = probabilities(model, X)
    return p.argmax(1) == y, -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))


def guarded_finetune(model: Model, images: np.ndarray, labels: np.ndarray, *, folds: int = GUARD_FOLDS,
                     replay: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0,
                     forget: tuple[np.ndarray, np.ndarray] | None = None, forget_limit: float = FORGET_LIMIT,
                     progress: Callable[[int, int], object] | None = None,
                     should_stop: Callable[[], bool] | None = None, **settings) -> Guarded | None:
    """Fine-tune ``model`` on a person's drawings, keeping the result only if it does no harm.

    Parameters
    ----------
    model : Model
        Left untouched.
    images : ndarray, (N, 28, 28)
        The person's drawings in [0, 1].
    labels : ndarray of int, (N,)
    folds : int
        Parts of the cross-validation (``min(folds, N)`` are used; N = 1 cannot be checked and
        is not kept).
    replay, seed, **settings
        As :func:`engine.handwriting.finetune.finetune` (every fine-tuning here uses the same ones).
    forget : (ndarray (M, 28, 28) in [0, 1], ndarray (M,)), optional
        Digits the tuning must not forget (not in ``replay``); default :func:`default_forget_set`.
    forget_limit : float
        Largest drop allowed on ``forget`` (a fraction); beyond it one softer retry, then not kept.
    progress : callable(done, total), optional
        Steps done over all the fine-tunings (``folds + 1`` of them, and the softer retry).
    should_stop : callable, optional
        True ends the work; the function then returns None.

    Returns
    -------
    Guarded or None
    """
    X, y = _check(images, labels, "fine-tuning")
    if len(y) == 0:
        raise ValueError("fine-tuning needs at least one labelled drawing")
    replay = replay if replay is not None else default_replay()
    Xf, yf = _check(*(forget if forget is not None else default_forget_set()), "forgetting set")
    steps = int(settings.get("steps", FINETUNE_DEFAULTS["steps"]))
    k = min(int(folds), len(y))
    ok0, loss0 = _readings(model, X, y)
    if k < 2:
        return Guarded(None, False, len(y), 0, int(ok0.sum()), 0, float(loss0.mean()), float("nan"),
                       "one drawing is too few to check that fine-tuning helps; keep at least two")
    if ok0.all():
        return Guarded(None, False, len(y), 0, int(ok0.sum()), 0, float(loss0.mean()), float("nan"),
                       f"not fine-tuned: the model already reads all {len(y)} of your drawings right, "
                       "so they have nothing to teach it (and tuning could only lose elsewhere)")
    soft_steps = int(FINETUNE_SOFTER.get("steps", steps))
    total = (k + 1) * steps + soft_steps
    done = [0]

    def tick(offset):
        return None if progress is None else (lambda d, t: progress(offset + d, total))

    ok1, loss1 = np.zeros(len(y), bool), np.zeros(len(y))
    ids = fold_ids(y, k)
    for f in range(k):
        test = ids == f
        part = finetune(model, X[~test], y[~test], replay=replay, seed=seed, progress=tick(done[0]),
                        should_stop=should_stop, **settings)
        if should_stop is not None and should_stop():
            return None
        ok1[test], loss1[test] = _readings(part, X[test], y[test])
        done[0] += steps
    before, after = int(ok0.sum()), int(ok1.sum())
    lb, la = float(loss0.mean()), float(loss1.mean())
    keep = after >= before
    n = len(y)
    said = (f"checked by {k}-fold cross-validation: the model read {before} of your {n} drawings right "
            f"before; tuned without them, it reads {after}")
    if not keep:
        return Guarded(None, False, n, k, before, after, lb, la,
                       f"not kept: {said} (fewer)")
    allowed = int(np.floor(forget_limit * len(yf) + 1e-9))        # digits that may be lost
    f0 = int(_readings(model, Xf, yf)[0].sum()) if len(yf) else 0
    softened = False
    for recipe in (dict(settings), {**settings, **FINETUNE_SOFTER}):
        tuned = finetune(model, X, y, replay=replay, seed=seed, progress=tick(done[0]),
                         should_stop=should_stop, **recipe)
        if should_stop is not None and should_stop():
            return None
        done[0] += int(recipe.get("steps", FINETUNE_DEFAULTS["steps"]))
        f1 = int(_readings(tuned, Xf, yf)[0].sum()) if len(yf) else 0
        if f0 - f1 <= allowed:
            break
        softened = True
    if progress is not None:
        progress(total, total)
    m = max(len(yf), 1)
    fb, fa = f0 / m, f1 / m
    forgot = f0 - f1 > allowed
    meter = (f"; the {len(yf)} digits it must not forget: {f0} read right before, {f1} after"
             + (" (softer recipe)" if softened else ""))
    if forgot:
        return Guarded(None, False, n, k, before, after, lb, la,
                       f"not kept: {said}, but it forgets: {meter.removeprefix('; ')} "
                       f"(more than {allowed} lost, even with the softer recipe)", fb, fa, softened, True)
    tuned.record.notes["finetune_check"] = (f"{k}-fold: {before}/{n} before, {after}/{n} held out; "
                                            f"forgetting set {f0}/{len(yf)} -> {f1}/{len(yf)}"
                                            + (", softer recipe" if softened else ""))
    return Guarded(tuned, True, n, k, before, after, lb, la, f"kept: {said}{meter}", fb, fa, softened)
