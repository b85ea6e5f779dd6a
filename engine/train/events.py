"""Progress events yielded by training (see :func:`engine.train.training.train`).

Every event is a small frozen dataclass of plain numbers, safe to send across threads.
Accuracies are in percent.
"""
from __future__ import annotations

from dataclasses import dataclass

from .record import TestFigures

__all__ = ["Progress", "Checkpoint", "IterationEnd", "Evaluated", "Finished", "Event"]


@dataclass(frozen=True)
class Progress:
    """Inside an iteration: images done so far and the running error.

    Attributes
    ----------
    iteration : int
        0-based iteration (epoch) number.
    done, total : int
        Images processed in this iteration, and the iteration's size.
    running_error : float
        Mean error over the images done so far in this iteration (the article's figure:
        sum of squared output errors per image).
    images_per_second : float
        Throughput over this run so far.
    seconds : float
        Training time so far in this run (evaluation excluded).
    """

    iteration: int
    done: int
    total: int
    running_error: float
    images_per_second: float
    seconds: float


@dataclass(frozen=True)
class Checkpoint:
    """The run has just passed one of the image counts it was asked to stop at
    (``checkpoints`` of :func:`engine.train.training.train`): a moment to snapshot the model.

    Attributes
    ----------
    iteration, done, total : int
        As :class:`Progress`.
    images : int
        Images processed in the run so far (at or just past the checkpoint).
    running_error : float
    """

    iteration: int
    done: int
    total: int
    images: int
    running_error: float


@dataclass(frozen=True)
class IterationEnd:
    """An iteration (epoch) has ended.

    Attributes
    ----------
    iteration : int
        0-based, as the article prints it.
    train_error : float
        Mean over the iteration's images of ``sum((proba - onehot)**2)``, each taken before
        that image's (or batch's) update, as the article computes it.
    loss : float
        Mean training loss of the mode (equals ``train_error`` for squared-error modes;
        cross-entropy for ``--loss xent``).
    seconds : float
        Training time of this iteration.
    images_per_second : float
    """

    iteration: int
    train_error: float
    loss: float
    seconds: float
    images_per_second: float


@dataclass(frozen=True)
class Evaluated:
    """Test figures after an iteration.

    Attributes
    ----------
    iteration : int
    figures : TestFigures
        Test error, percent correct, arg-max accuracy, confusion matrix.
    seconds : float
        How long the test took (not training time).
    """

    iteration: int
    figures: TestFigures
    seconds: float = 0.0


@dataclass(frozen=True)
class Finished:
    """Training has ended.

    Attributes
    ----------
    reason : str
        ``"converged"`` (error at or under the tolerance), ``"max_iter"``, ``"stopped"``
        (the stop flag was set) or ``"diverged"`` (NaN or infinity: the weights at the
        end of the last finite chunk or batch were put back, and ``message`` says which).
    iterations : int
        Iterations completed in this run.
    train_error : float
        Error of the last completed iteration (NaN if none completed).
    seconds : float
        Training time of the run (evaluation excluded).
    images : int
        Images processed in the run.
    message : str
        A sentence for the user.
    """

    reason: str
    iterations: int
    train_error: float
    seconds: float
    images: int
    message: str = ""

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


Event = Progress | Checkpoint | IterationEnd | Evaluated | Finished
