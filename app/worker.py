"""The training thread's job under its former name (code written before :mod:`app.threads`).

:class:`GeneratorWorker` is :class:`app.threads.GeneratorJob` with the former signal names
as well: ``event`` (= ``yielded``) and ``failed`` (= ``errored``). New code uses
:mod:`app.threads`.
"""
from __future__ import annotations

from PySide6.QtCore import Signal

from .threads import GeneratorJob, running_threads

__all__ = ["GeneratorWorker", "running_threads"]


class GeneratorWorker(GeneratorJob):
    """:class:`app.threads.GeneratorJob` with the signals ``event(object)`` and ``failed(str)``."""

    event = Signal(object)
    failed = Signal(str)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.yielded.connect(self.event)
        self.errored.connect(self.failed)
