"""Time and memory to refuse files that expand to gigabytes (a model ``.npz`` with ``W1``
swapped for 3.2 GB of zeros; a gzipped IDX file holding 1 GB past its header).

Each file is loaded in a fresh process, which reports the seconds until the refusal, the
peak memory traced by ``tracemalloc`` and the growth of its resident set, and the message.

    python -m benchmarks.file_bombs                 # this checkout's engine
    python -m benchmarks.file_bombs --root OTHER    # another checkout's, to compare
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from engine.files import data, modelfile
kind, path = sys.argv[2], sys.argv[3]
load = modelfile.load_model if kind == "model" else data.read_idx
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
try:
    load(path)
    message = "loaded (not refused)"
except Exception as e:
    message = f"{type(e).__name__}: {e}"
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"seconds": seconds, "traced_mb": peak / 2**20, "rss_mb": grown / 1024,
                  "message": message}))
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=str(HERE), help="the checkout whose engine loads the files")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import numpy as np
    from engine.files.modelfile import save_model
    from engine.net.model import Config, Model
    from tests.files.bombs import gzip_idx_bomb, npz_bomb
    with tempfile.TemporaryDirectory(prefix="digitlab-bombs-") as tmp:
        tmp = Path(tmp)
        good = save_model(Model.article_init(Config(), np.random.RandomState(0)), tmp / "good.npz")
        cases = [("model", npz_bomb(good, tmp / "bomb.npz", "W1", 400_000_000, crc=True),
                  "model .npz, W1 declared (400000000,) float64 = 3.2 GB"),
                 ("idx", gzip_idx_bomb(tmp / "train-images-idx3-ubyte.gz", 10, 1_000_000_000),
                  "gzip IDX, header 10 images, 1 GB of data")]
        print(f"engine from {Path(args.root).name}")
        for kind, path, what in cases:
            out = subprocess.run([sys.executable, "-c", _PROBE, args.root, kind, str(path)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{what} ({path.stat().st_size / 2**20:.1f} MB on disk): refused in "
                  f"{r['seconds']:.3f} s, tracemalloc peak {r['traced_mb']:.1f} MB, resident set "
                  f"+{r['rss_mb']:.0f} MB\n    {r['message'][:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
