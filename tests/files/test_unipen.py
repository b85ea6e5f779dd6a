"""Pen recordings (UNIPEN dialect): what is read, what is refused, and a faithful round trip."""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from engine.files.safefile import FileFault
from engine.handwriting.unipen import MAX_POINTS, PenSample, UnipenError, read_unipen, write_unipen

GOOD = """.INCLUDE        dene.doc

.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"
.HIERARCHY      DIGIT

.SEGMENT DIGIT    0 ? "8"
.COMMENT 8 12  224
.PEN_DOWN
 267  333
 264  344
 259  346
.PEN_UP
.DT 100
.PEN_DOWN
 10 -5
.PEN_UP

.COMMENT a free comment between samples
.SEGMENT DIGIT 1 ? "1"
.COMMENT 1 aga/AnnZchrl 0
.PEN_DOWN
 126 365
 128 361
.PEN_UP
"""


def write(tmp_path, text: str, name="pen.unipen", gz=False):
    p = tmp_path / (name + (".gz" if gz else ""))
    data = text.encode("utf-8")
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


@pytest.mark.parametrize("gz", [False, True])
def test_reads_labels_writers_and_strokes_with_y_down(tmp_path, gz):
    samples = read_unipen(write(tmp_path, GOOD, gz=gz))
    assert [(s.label, s.writer, s.kind, len(s.strokes)) for s in samples] == [
        ("8", "12", "DIGIT", 2), ("1", "aga/AnnZchrl", "DIGIT", 1)]
    first = samples[0].strokes[0]
    assert first.dtype == np.float64 and first.shape == (3, 2)
    # the file's y grows upward: on screen it is negated (down grows)
    np.testing.assert_array_equal(first, [[267, -333], [264, -344], [259, -346]])
    np.testing.assert_array_equal(samples[0].strokes[1], [[10, 5]])


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    samples = [
        PenSample("7", "Ann Smith", (rng.normal(100, 40, (12, 2)), np.array([[3.0, 4.0]]))),
        PenSample("3", "12", (np.round(rng.uniform(0, 500, (30, 2))),)),
        PenSample("A", "aga/AnnZchrl", (rng.uniform(-1e3, 1e3, (5, 2)), rng.uniform(0, 1, (2, 2))), "CHAR"),
        PenSample("0", "x", (np.array([[0.0, 0.0], [0.1, 1e-7], [-2.5, 1e6]]),)),
    ]
    for name in ("mine.unipen", "mine.unipen.gz"):
        path = write_unipen(samples, tmp_path / name)
        back = read_unipen(path)
        assert back == samples
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_samples_are_immutable_and_checked():
    s = PenSample("5", "w", ([[1, 2], [3, 4]],))
    assert s.strokes[0].dtype == np.float64
    with pytest.raises(ValueError):
        s.strokes[0][0, 0] = 9
    with pytest.raises(ValueError, match="0-9"):
        PenSample("A", "w", ([[1, 2]],), "DIGIT")
    with pytest.raises(ValueError, match="no strokes"):
        PenSample("5", "w", ())
    with pytest.raises(ValueError, match="not finite"):
        PenSample("5", "w", ([[np.nan, 2]],))
    with pytest.raises(ValueError, match="writer"):
        PenSample("5", " lead", ([[1, 2]],))


@pytest.mark.parametrize("text, line, fault", [
    (GOOD.replace(" 264  344", " 264"), 10, "two numbers"),
    (GOOD.replace(" 264  344", " 264  x"), 10, "two numbers"),
    (GOOD.replace(" 264  344", " 264 nan"), 10, "not finite"),
    (GOOD.replace(" 264  344", " 264 1e99"), 10, "beyond"),
    (GOOD.replace(".PEN_UP\n.DT", ".DT", 1), 12, "inside the stroke"),
    (GOOD.replace('"8"', '"B"'), 6, "0-9"),
    (GOOD.replace("DIGIT    0", "WORD 0"), 6, "kind"),
    (GOOD.replace('.SEGMENT DIGIT    0 ? "8"', ".SEGMENT DIGIT 0"), 6, ".SEGMENT KIND"),
    (GOOD.replace(".COMMENT 8 12  224", ".COMMENT 3 12 224"), 7, "label '8'"),
    (GOOD.replace(".COMMENT 8 12  224\n", ""), 6, "writer"),
    (GOOD.replace(" 10 -5\n", ""), 15, "no points"),
    (GOOD.replace(" 126 365", "hello"), 22, "two numbers"),
    (GOOD + " 1 2\n", 25, "outside a stroke"),
    (GOOD + ".PEN_UP\n", 25, "no .PEN_DOWN"),
    (GOOD + ".SEGMENT DIGIT 2 ? \"4\"\n.COMMENT 4 x 2\n.PEN_DOWN\n 1 2\n", 28, "ends inside"),
    (GOOD + ".SEGMENT DIGIT 2 ? \"4\"\n.COMMENT 4 x 2\n", 25, "no strokes"),
    (".PEN_DOWN\n 1 2\n.PEN_UP\n", 1, "outside a sample"),
    ("garbage\n", 1, "outside a stroke"),
    (".segment lower\n", 1, "not a keyword"),
])
def test_malformed_files_name_the_file_the_line_and_the_fault(tmp_path, text, line, fault):
    p = write(tmp_path, text)
    with pytest.raises(UnipenError, match=fault) as e:
        read_unipen(p)
    assert str(e.value).startswith(f"{p}: line {line}:"), str(e.value)
    assert isinstance(e.value, FileFault)


def test_files_that_are_not_pen_recordings_are_refused(tmp_path):
    with pytest.raises(UnipenError, match="no such file"):
        read_unipen(tmp_path / "missing.unipen")
    with pytest.raises(UnipenError, match="no samples"):
        read_unipen(write(tmp_path, ".COMMENT nothing here\n"))
    with pytest.raises(UnipenError, match="UTF-8"):
        read_unipen(_bytes(tmp_path, b"\n\xff\xfe"))
    with pytest.raises(UnipenError, match="gzip"):
        read_unipen(_bytes(tmp_path, gzip.compress(GOOD.encode())[:-12]))
    with pytest.raises(UnipenError, match="folder"):
        read_unipen(tmp_path)


def _bytes(tmp_path, data: bytes):
    p = tmp_path / "raw.unipen"
    p.write_bytes(data)
    return p


def test_a_stroke_too_long_is_refused_before_it_is_stored(tmp_path):
    text = '.SEGMENT DIGIT 0 ? "1"\n.COMMENT 1 w 0\n.PEN_DOWN\n' + " 1 2\n" * (MAX_POINTS + 1) + ".PEN_UP\n"
    with pytest.raises(UnipenError, match="more than"):
        read_unipen(write(tmp_path, text))


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = write_unipen([PenSample("1", "w", ([[1, 2]],))], tmp_path / "a.unipen")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_unipen([PenSample("1", "w", ([[1, 2]],)), "not a sample"], path)
    assert path.read_bytes() == before
    with pytest.raises(UnipenError, match="missing-folder"):
        write_unipen([PenSample("1", "w", ([[1, 2]],))], tmp_path / "missing-folder" / "a.unipen")
