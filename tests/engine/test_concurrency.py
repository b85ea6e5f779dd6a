"""Drawing while training: the window's forward pass and a training run in two threads.

numba's ``workqueue`` threading layer (used where there is neither OpenMP nor TBB) aborts
the whole process when two threads launch parallel loops at once. The scenario runs in a
subprocess with that layer chosen, so the test means the same on every machine.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent("""
    import threading

    import numpy as np
    import numba

    from engine.files import data
    from engine.train.recipes import BACKPROP, make_run, prepare, run_events

    settings = BACKPROP.replace(source="sample", epochs=1, augment=True)
    prepared = prepare(settings, data.load_sample())
    model, stepper = make_run(settings, prepared)
    finished = threading.Event()
    events = []

    def work():
        try:
            events.extend(run_events(settings, prepared, model, stepper))
        finally:
            finished.set()

    trainer = threading.Thread(target=work)
    trainer.start()
    drawing = np.random.RandomState(0).rand(1, 28, 28)
    calls = 0
    while not finished.is_set():
        p = model.predict_proba(drawing)        # the window classifies the drawing
        assert np.isfinite(p).all() and abs(p.sum() - 1) < 1e-4, p
        calls += 1
    trainer.join()
    assert type(events[-1]).__name__ == "Finished" and events[-1].reason == "max_iter", events[-1]
    print("layer", numba.threading_layer(), "calls", calls, "reason", events[-1].reason)
""")


def test_drawing_while_training_under_the_workqueue_layer():
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCENARIO], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    words = done.stdout.split()
    assert words[:2] == ["layer", "workqueue"] and words[-2:] == ["reason", "max_iter"], done.stdout
    assert int(words[3]) > 0
