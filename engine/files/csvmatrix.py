"""One matrix as the article's CSV files hold it: pandas ``DataFrame(a).to_csv(index=False)``.

A header line ``0,1,...,cols-1``, then one row of numbers a line. :func:`to_text` writes
exactly what pandas writes (float64, exact on reading back); :func:`parse` reads it back
strictly, naming the line and column of any fault.
"""
from __future__ import annotations

import io

import numpy as np

__all__ = ["to_text", "parse", "MAX_TOKEN"]

#: The longest value read (a float64 as pandas writes it takes at most 24 characters).
MAX_TOKEN = 64


def to_text(a: np.ndarray) -> str:
    """The CSV text of a matrix ``(rows, cols)`` in float64, as pandas ``to_csv(index=False)``."""
    import pandas as pd
    buf = io.StringIO()
    pd.DataFrame(np.asarray(a, dtype=np.float64)).to_csv(buf, index=False)
    return buf.getvalue()


def parse(raw: bytes, where, error: type[Exception] = ValueError) -> np.ndarray:
    """A matrix ``(rows, cols)`` of float64 from a CSV file's bytes.

    Parameters
    ----------
    raw : bytes
    where : str or Path
        Names the file in messages.
    error : exception class
        Raised on any fault: not text, a wrong header, rows of the wrong length, text where
        numbers belong, NaN or infinity.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{where}: not a text file") from None
    if "\x00" in text:
        raise error(f"{where}: not a text file (holds NUL bytes)")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if not lines:
        raise error(f"{where}: empty file")
    ncols = lines[0].count(",") + 1
    expected = ",".join(str(i) for i in range(ncols))
    if lines[0] != expected:
        shown = lines[0] if len(lines[0]) <= 40 else lines[0][:40] + "..."
        raise error(f"{where}: line 1 should be the header {expected if ncols <= 6 else '0,1,2,...'}"
                    f" ({ncols} columns), found {shown!r}")
    rows = lines[1:]
    if not rows:
        raise error(f"{where}: no rows of numbers after the header")
    counts = np.array([r.count(",") for r in rows]) + 1       # never a (rows x longest) array
    bad = np.flatnonzero(counts != ncols)
    if bad.size:
        i = int(bad[0])
        end = " (the file is cut short)" if i == len(rows) - 1 and counts[i] < ncols else ""
        raise error(f"{where}: line {i + 2} has {counts[i]} values, the header says {ncols}{end}")
    tokens = ",".join(rows).split(",")
    longest = max(map(len, tokens))
    if longest > MAX_TOKEN:
        j = next(i for i, t in enumerate(tokens) if len(t) == longest)
        raise error(f"{where}: line {j // ncols + 2}, column {j % ncols + 1}: a value of {longest:,} "
                    f"characters, longer than any number (at most {MAX_TOKEN})")
    try:
        values = np.array(tokens, dtype=f"U{longest}").astype(np.float64)
    except ValueError:
        for j, tok in enumerate(tokens):      # error path only: find the culprit
            try:
                float(tok)
            except ValueError:
                shown = tok if len(tok) <= 20 else tok[:20] + "..."
                raise error(f"{where}: line {j // ncols + 2}, column {j % ncols + 1}: "
                            f"{shown!r} is not a number") from None
        raise error(f"{where}: holds text where numbers belong") from None
    if not np.all(np.isfinite(values)):
        j = int(np.flatnonzero(~np.isfinite(values))[0])
        raise error(f"{where}: NaN or infinity at line {j // ncols + 2}, column {j % ncols + 1}")
    return values.reshape(len(rows), ncols)
