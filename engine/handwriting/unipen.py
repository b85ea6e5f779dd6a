"""Pen recordings in the UNIPEN dialect: digits and letters as people wrote them, stroke by stroke.

The dialect (that of the project's pen data; gzip or plain text)::

    .SEGMENT DIGIT 0 ? "8"        a sample begins: its kind (DIGIT or CHAR) and label in quotes
    .COMMENT 8 aga/AnnZchrl 138   label, writer, index (the first comment after .SEGMENT)
    .PEN_DOWN                     a stroke begins
     273 323                      x y, device units; y grows UPWARD
    .PEN_UP                       the stroke ends

Other keyword lines outside a stroke (``.INCLUDE``, ``.LEXICON``, ``.HIERARCHY``, ``.DT``, a
``.COMMENT`` that is not a sample's first, ...) and blank lines carry no points.

:func:`read_unipen` gives :class:`PenSample` objects with strokes in SCREEN coordinates (x right,
y down: the file's y is negated); :func:`write_unipen` writes them back atomically, so that
``read_unipen(write_unipen(samples, p)) == samples``. Reading is strict and bounded: a
malformed file raises :class:`UnipenError` naming the file, the line and the fault; the file's
size, the text's size, the number of samples, strokes and points are bounded before they cost
memory.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files.safefile import FileFault, atomic_write, gunzip, read_bytes

__all__ = ["PenSample", "UnipenError", "read_unipen", "write_unipen", "KINDS",
           "MAX_FILE_BYTES", "MAX_TEXT_BYTES", "MAX_SAMPLES", "MAX_STROKES", "MAX_POINTS", "MAX_COORD"]

#: Kinds of samples: a digit (label 0-9) or a character (a letter, any label).
KINDS = ("DIGIT", "CHAR")
#: The largest file read (compressed or not).
MAX_FILE_BYTES = 256 << 20
#: The most text a file may hold once decompressed (the project's largest is about 20 MB).
MAX_TEXT_BYTES = 512 << 20
#: The most samples in a file.
MAX_SAMPLES = 1_000_000
#: The most strokes in a sample.
MAX_STROKES = 1_000
#: The most points in a stroke.
MAX_POINTS = 100_000
#: The largest coordinate (absolute value) accepted.
MAX_COORD = 1e7
#: The longest label.
MAX_LABEL = 16

_SEGMENT = re.compile(r'^\.SEGMENT\s+(\S+)\s+(\S+)\s+(\S+)\s+"([^"]*)"\s*$')
_KEYWORD = re.compile(r"^\.[A-Z][A-Z0-9_]*(\s|$)")


class UnipenError(FileFault):
    """A pen-recording file that cannot be used; the message names the file, the line and the fault."""


def _check_label(label: str, kind: str) -> str | None:
    if kind not in KINDS:
        return f"kind {kind!r} is not one of {', '.join(KINDS)}"
    if not (1 <= len(label) <= MAX_LABEL) or any(c.isspace() or c == '"' for c in label) \
            or not label.isprintable():
        return f"label {label!r} is not 1-{MAX_LABEL} printable characters without spaces or quotes"
    if kind == "DIGIT" and label not in "0123456789":
        return f"a DIGIT's label must be one of 0-9, not {label!r}"
    return None


def _check_writer(writer: str) -> str | None:
    if not writer or writer != " ".join(writer.split()) or not writer.isprintable():
        return (f"writer {writer!r} must be printable, non-empty, with single spaces and none at "
                "either end")
    return None


@dataclass(frozen=True, eq=False)
class PenSample:
    """One recorded drawing.

    Attributes
    ----------
    label : str
        What was written: ``"0"``-``"9"`` for a digit, a letter for a character.
    writer : str
        Who wrote it (a number in pendigits, a name such as ``aga/AnnZchrl`` in UNIPEN).
    strokes : tuple of ndarray, each (n, 2) float64
        The pen's points, stroke by stroke, in screen coordinates (x right, y DOWN). Read-only.
    kind : str
        ``"DIGIT"`` or ``"CHAR"``.
    """

    label: str
    writer: str
    strokes: tuple
    kind: str = "DIGIT"

    def __post_init__(self):
        fault = _check_label(self.label, self.kind) or _check_writer(self.writer)
        if fault:
            raise ValueError(fault)
        strokes = []
        for s in self.strokes:
            a = np.array(s, dtype=np.float64).reshape(-1, 2)
            if len(a) == 0:
                raise ValueError("a stroke has no points")
            if not np.all(np.isfinite(a)) or np.abs(a).max() > MAX_COORD:
                raise ValueError(f"a stroke has coordinates that are not finite or beyond {MAX_COORD:g}")
            a.setflags(write=False)
            strokes.append(a)
        if not strokes:
            raise ValueError("a sample has no strokes")
        object.__setattr__(self, "strokes", tuple(strokes))

    def __eq__(self, other) -> bool:
        if not isinstance(other, PenSample):
            return NotImplemented
        return (self.label == other.label and self.writer == other.writer and self.kind == other.kind
                and len(self.strokes) == len(other.strokes)
                and all(np.array_equal(a, b) for a, b in zip(self.strokes, other.strokes)))

    __hash__ = None

    def points(self) -> np.ndarray:
        """Every point of every stroke, ``(n, 2)``."""
        return np.concatenate(self.strokes)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _text(path) -> str:
    raw = read_bytes(path, MAX_FILE_BYTES, UnipenError)
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw, MAX_TEXT_BYTES, path, UnipenError)
    if len(raw) > MAX_TEXT_BYTES:
        raise UnipenError(f"{path}: more than {MAX_TEXT_BYTES:,} bytes of text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise UnipenError(f"{path}: line {line}: not UTF-8 text") from None


class _Parser:
    """One pass over the lines; state: the sample being read and the stroke being read."""

    def __init__(self, path):
        self.path = path
        self.samples: list[PenSample] = []
        self.seg = None            # (line number, kind, label) of the open sample
        self.writer = None
        self.seen_comment = False
        self.strokes: list[np.ndarray] = []
        self.down = None           # line number of the open .PEN_DOWN
        self.coords: list[str] = []
        self.first_point = 0

    def fail(self, n: int, what: str):
        raise UnipenError(f"{self.path}: line {n}: {what}")

    def close_stroke(self, n: int) -> None:
        npts = len(self.coords) // 2
        if npts == 0:
            self.fail(n, "a stroke with no points (.PEN_DOWN then .PEN_UP)")
        try:
            a = np.array(self.coords, dtype=np.float64).reshape(npts, 2)
        except ValueError:
            for i in range(npts):
                try:
                    float(self.coords[2 * i]), float(self.coords[2 * i + 1])
                except ValueError:
                    self.fail(self.first_point + i, "a point is not two numbers 'x y'")
            raise
        bad = ~np.isfinite(a).all(1) | (np.abs(a) > MAX_COORD).any(1)
        if bad.any():
            self.fail(self.first_point + int(np.flatnonzero(bad)[0]),
                      f"a coordinate that is not finite or beyond {MAX_COORD:g}")
        a[:, 1] = 0.0 - a[:, 1]            # the file's y grows upward; the screen's downward
        if len(self.strokes) >= MAX_STROKES:
            self.fail(n, f"a sample with more than {MAX_STROKES:,} strokes")
        self.strokes.append(a)
        self.coords = []
        self.down = None

    def close_sample(self, n: int) -> None:
        if self.seg is None:
            return
        line, kind, label = self.seg
        if self.down is not None:
            self.fail(n, f"the stroke begun on line {self.down} has no .PEN_UP")
        if not self.strokes:
            self.fail(line, f"the sample {label!r} has no strokes")
        if self.writer is None:
            self.fail(line, f"the sample {label!r} has no .COMMENT naming its writer")
        if len(self.samples) >= MAX_SAMPLES:
            self.fail(line, f"more than {MAX_SAMPLES:,} samples")
        self.samples.append(PenSample(label, self.writer, tuple(self.strokes), kind))
        self.seg, self.writer, self.seen_comment, self.strokes = None, None, False, []

    def comment(self, n: int, line: str) -> None:
        if self.seg is None or self.seen_comment or self.strokes or self.down is not None:
            return                                    # a free comment
        self.seen_comment = True
        parts = line.split()[1:]
        label = self.seg[2]
        if len(parts) < 3 or parts[0] != label:
            self.fail(n, f"the sample's .COMMENT must read 'label writer index' with label {label!r}")
        writer = " ".join(parts[1:-1])
        fault = _check_writer(writer)
        if fault:
            self.fail(n, fault)
        self.writer = writer

    def run(self, text: str) -> list[PenSample]:
        n = 0
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()                  # the end of the last line, not a line
        for n, line in enumerate(lines, 1):
            c = line[:1]
            if c == "." and line.startswith(".PEN_"):
                word = line.split()[0] if line.split() else line
                if word == ".PEN_DOWN":
                    if self.seg is None:
                        self.fail(n, ".PEN_DOWN outside a sample (no .SEGMENT before it)")
                    if self.down is not None:
                        self.fail(n, f".PEN_DOWN while the stroke begun on line {self.down} is still down")
                    self.down = n
                    self.first_point = n + 1
                    continue
                if word == ".PEN_UP":
                    if self.down is None:
                        self.fail(n, ".PEN_UP with no .PEN_DOWN before it")
                    self.close_stroke(n)
                    continue
            if c == ".":
                if self.down is not None:
                    self.fail(n, f"{line.split()[0]!r} inside the stroke begun on line {self.down} "
                                 "(expected points or .PEN_UP)")
                if line.startswith(".SEGMENT"):
                    self.close_sample(n)
                    m = _SEGMENT.match(line)
                    if not m:
                        self.fail(n, "expected '.SEGMENT KIND index quality \"label\"'")
                    kind, label = m.group(1), m.group(4)
                    fault = _check_label(label, kind)
                    if fault:
                        self.fail(n, fault)
                    self.seg = (n, kind, label)
                elif line.startswith(".COMMENT"):
                    self.comment(n, line)
                elif not _KEYWORD.match(line):
                    self.fail(n, f"{line[:40]!r} is not a keyword")
                continue
            if self.down is not None:
                parts = line.split()
                if len(parts) != 2:
                    if not parts:
                        self.fail(n, "a blank line inside a stroke")
                    self.fail(n, "a point is not two numbers 'x y'")
                if len(self.coords) >= 2 * MAX_POINTS:
                    self.fail(n, f"a stroke with more than {MAX_POINTS:,} points")
                self.coords += parts
                continue
            if line.strip():
                self.fail(n, "points outside a stroke (no .PEN_DOWN before them)")
        if self.down is not None:
            self.fail(n, f"the file ends inside the stroke begun on line {self.down}")
        self.close_sample(n)
        return self.samples


def read_unipen(path) -> list[PenSample]:
    """The samples of a UNIPEN file (gzip or plain).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of PenSample
        In file order; strokes in screen coordinates (y down).

    Raises
    ------
    UnipenError
        The file is missing, not a regular file, too large, not UTF-8, or malformed: the
        message names the file, the line and the fault.
    """
    samples = _Parser(path).run(_text(path))
    if not samples:
        raise UnipenError(f"{path}: no samples (no .SEGMENT with strokes)")
    return samples


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _points(a: np.ndarray) -> str:
    a = np.column_stack([a[:, 0], 0.0 - a[:, 1]])          # screen (y down) to the file's y up
    if np.all(a == np.round(a)) and np.abs(a).max() < 1e15:
        return "\n".join(f" {x} {y}" for x, y in a.astype(np.int64).tolist())
    return "\n".join(f" {_num(x)} {_num(y)}" for x, y in a.tolist())


def _unipen_text(samples) -> str:
    kinds = sorted({s.kind for s in samples})
    out = [".COMMENT Digitlab pen recordings (UNIPEN dialect: x y with y up)",
           ".COMMENT .COMMENT lines after a segment: label, writer, index of the sample in this file",
           f".HIERARCHY {' '.join(kinds)}", ""]
    for i, s in enumerate(samples):
        out.append(f'.SEGMENT {s.kind} {i} ? "{s.label}"')
        out.append(f".COMMENT {s.label} {s.writer} {i}")
        for st in s.strokes:
            out.append(".PEN_DOWN")
            out.append(_points(st))
            out.append(".PEN_UP")
        out.append("")
    return "\n".join(out) + "\n"


def write_unipen(samples, path) -> Path:
    """Write samples to a UNIPEN file, atomically (whole or not at all).

    Parameters
    ----------
    samples : sequence of PenSample
    path : str or Path
        Gzip-compressed when it ends in ``.gz``.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        No samples, or something that is not a :class:`PenSample`.
    UnipenError
        The file cannot be written (the message names it).
    """
    samples = list(samples)
    if not samples:
        raise ValueError("no samples to write")
    if len(samples) > MAX_SAMPLES:
        raise ValueError(f"more than {MAX_SAMPLES:,} samples")
    for s in samples:
        if not isinstance(s, PenSample):
            raise ValueError(f"expected PenSample objects, got {type(s).__name__}")
    data = _unipen_text(samples).encode("utf-8")
    path = Path(path)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    with atomic_write(path, UnipenError) as fh:
        fh.write(data)
    return path
