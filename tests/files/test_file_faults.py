"""Files left by interrupted saves, gzip and CSV bombs (issue 20, faults 6, 15, 16)."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

from engine.files import csvmatrix, modelfile
from engine.files.data import DataError, load_local
from engine.files.safefile import MAX_GZIP_MEMBERS, atomic_write, clean_leftovers, gunzip
from engine.net.model import Config, Model


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid                                   # ended: no such process now


def _model() -> Model:
    return Model.article_init(Config(kernels=2, kernel_size=25, hidden=3), np.random.RandomState(0))


# -- fault 15: temporary files of a save killed with -9 ---------------------------------------
def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    target = tmp_path / "x.npz"
    pid = _dead_pid()
    left = tmp_path / f".x.npz.{pid}-abcd1234.tmp"
    left.write_bytes(b"\0" * 1000)
    mine = tmp_path / f".x.npz.{os.getpid()}-zzzz.tmp"          # a save under way in this process
    mine.write_bytes(b"\0")
    other = tmp_path / ".y.npz.1-a.tmp"                          # another file's: not touched
    other.write_bytes(b"\0")
    modelfile.save_model(_model(), target)
    assert not left.exists() and mine.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x.npz", mine.name, other.name])


def test_a_save_under_way_in_another_process_is_left_alone(tmp_path):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".x.npz.{alive.pid}-abcd.tmp"
        busy.write_bytes(b"\0")
        with atomic_write(tmp_path / "x.npz") as fh:
            fh.write(b"x")
        assert busy.exists()
    finally:
        alive.kill()
        alive.wait()
    assert clean_leftovers(tmp_path / "x.npz") == [busy] and not busy.exists()


def test_staged_trio_files_of_an_interrupted_save_go_at_the_next_save(tmp_path):
    folder = tmp_path / "trio"
    modelfile.save_model(_model(), folder)
    pid = _dead_pid()
    staged = [folder / f".{n}.{pid}-dead.tmp" for n in ("kernels.csv", "weights_01.csv", "digitlab.json")]
    for p in staged:
        p.write_text("left by a save killed before its commit")
    model = _model()
    model.params["K"] *= 0.5
    modelfile.save_model(model, folder)
    assert not any(p.exists() for p in staged)
    assert sorted(p.name for p in folder.iterdir()) == ["digitlab.json", "kernels.csv", "weights_01.csv",
                                                         "weights_12.csv"]
    np.testing.assert_array_equal(modelfile.load_model(folder).params["K"], model.params["K"])


# -- fault 16: a gzip file of many empty members ----------------------------------------------
def test_a_gzip_file_of_many_empty_members_is_refused_at_once(tmp_path):
    empty = gzip.compress(b"", mtime=0)
    raw = empty * (MAX_GZIP_MEMBERS + 5) + gzip.compress(b"data", mtime=0)
    with pytest.raises(ValueError, match="more than 1,000 gzip members"):
        gunzip(raw, 1 << 20, tmp_path / "x.gz")
    assert gunzip(empty * 10 + gzip.compress(b"data", mtime=0), 100, "x.gz") == b"data"


def test_an_idx_folder_with_a_member_bomb_is_refused_naming_the_file(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    idx = (0x0803).to_bytes(4, "big") + np.asarray(images.shape, ">u4").tobytes() + images.tobytes()
    labels = (0x0801).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(3)
    empty = gzip.compress(b"", mtime=0)
    for stem in ("train", "t10k"):
        (tmp_path / f"{stem}-images-idx3-ubyte.gz").write_bytes(empty * 200_000 + gzip.compress(idx, mtime=0))
        (tmp_path / f"{stem}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels, mtime=0))
    with pytest.raises(DataError, match="idx3-ubyte.gz: more than 1,000 gzip members"):
        load_local(tmp_path)


# -- fault 6: one very long line in a CSV file ------------------------------------------------
def test_a_csv_value_of_millions_of_characters_is_refused_without_a_huge_array(tmp_path):
    rows = ["0,1"] + ["0.5,0.25"] * 2000 + ["1" * 5_000_000 + ",2"]
    raw = ("\n".join(rows) + "\n").encode()
    with pytest.raises(ValueError, match="line 2002, column 1: a value of 5,000,000 characters"):
        csvmatrix.parse(raw, "w.csv")
    assert csvmatrix.parse(b"0,1\n0.5,2\n", "w.csv").tolist() == [[0.5, 2.0]]
