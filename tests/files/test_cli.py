"""The command line as a user runs it: figures printed, JSON last, clear errors, the sample fallback."""
import json

import numpy as np
import pytest

from engine import cli
from engine.files import data, modelfile as io


@pytest.fixture
def offline(monkeypatch):
    """No network, no Keras cache, no DIGITLAB_MNIST: `auto` must fall back to the sample."""
    monkeypatch.delenv("DIGITLAB_MNIST", raising=False)

    def no_keras(*a, **k):
        raise data.DataError("Keras could not download MNIST: no network (test)")
    monkeypatch.setattr(data, "load_keras", no_keras)


REQUIRED = {"mode", "iterations", "train_error", "test_error", "percent_correct", "argmax_accuracy",
            "train_seconds", "images_per_second", "data_source"}


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_train_article_json_last_line(offline, capsys, tmp_path):
    save = tmp_path / "m.npz"
    rc = cli.main(["train", "--mode", "article", "--train", "300", "--epochs", "2", "--json",
                   "--save", str(save)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "bundled sample" in out
    res = last_json(out)
    assert REQUIRED <= set(res)
    assert res["mode"] == "article" and res["iterations"] == 2 and res["data_source"] == "sample"
    assert 0 <= res["argmax_accuracy"] <= 100 and res["images_per_second"] > 0
    m = io.load_model(save)
    assert m.record.mode == "article" and m.record.iterations == 2
    assert m.record.settings["train"] == 300 and m.record.test.argmax_accuracy == res["argmax_accuracy"]


def test_train_backprop_learns_on_the_sample(offline, capsys, tmp_path):
    rc = cli.main(["train", "--mode", "backprop", "--epochs", "2", "--no-augment", "--json",
                   "--kernels", "4", "--hidden", "32", "--save", str(tmp_path / "b.npz")])
    out = capsys.readouterr().out
    assert rc == 0
    res = last_json(out)
    assert res["mode"] == "backprop" and res["iterations"] == 2
    assert res["argmax_accuracy"] > 70.0   # 4,000 sample digits, two epochs


def test_reproduce_on_the_sample_says_so(offline, capsys):
    rc = cli.main(["reproduce", "--seed", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "bundled sample" in out
    assert "only 4,000 training images" in out
    assert "percent correct" in out and "arg-max accuracy" in out and "article: 92.57" in out


def test_evaluate_bad_model_file_is_one_clear_line(offline, capsys, tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip file at all")
    rc = cli.main(["evaluate", str(bad)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "broken.npz" in err and "Traceback" not in err


def test_bad_data_path_is_one_clear_line(capsys, tmp_path):
    rc = cli.main(["train", "--data", str(tmp_path / "nowhere"), "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "nowhere" in err


def test_evaluate_without_model_uses_the_shipped_one(offline, capsys):
    rc = cli.main(["evaluate", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    res = last_json(out)
    assert res["argmax_accuracy"] > 95.0
    assert np.array(res["confusion"]).shape == (10, 10)


def test_python_dash_m_engine_prints_help(capsys):
    assert cli.main([]) == 0
    assert "reproduce" in capsys.readouterr().out


def test_a_save_path_that_cannot_hold_the_model_is_refused_before_training(offline, capsys, tmp_path):
    rc = cli.main(["train", "--mode", "backprop", "--biases", "--epochs", "1",
                   "--save", str(tmp_path / "csv-folder")])
    captured = capsys.readouterr()
    assert rc == 2 and "biases" in captured.err and "csv-folder" in captured.err
    assert "epoch" not in captured.out          # nothing was trained
    rc = cli.main(["train", "--epochs", "1", "--save", str(tmp_path / "no" / "such" / "m.npz")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


# -- one home for every default: engine.train.recipes ---------------------------------------------
def _settings(argv):
    return cli.settings_from_args(cli.build_parser().parse_args(argv))


def test_the_command_lines_defaults_are_the_recipes():
    from engine.train.recipes import ARTICLE, BACKPROP
    assert _settings(["train"]) == ARTICLE
    assert _settings(["reproduce"]) == ARTICLE
    assert _settings(["train", "--mode", "backprop"]) == BACKPROP
    assert _settings(["train", "--mode", "article"]) == ARTICLE
    # options change only what they name
    assert _settings(["reproduce", "--seed", "7"]) == ARTICLE.replace(seed=7)
    assert _settings(["train", "--mode", "backprop", "--epochs", "3", "--no-augment", "--source",
                      "sample"]) == BACKPROP.replace(epochs=3, augment=False, source="sample")
    # and the help shows those values
    helptext = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert f"article default {ARTICLE.epochs}; backprop default {BACKPROP.epochs}" in " ".join(helptext.split())


def test_version(capsys):
    import engine
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"digitlab {engine.__version__}"
    # the window's launcher passes it on to the command line
    from app import launcher
    assert launcher.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"digitlab {engine.__version__}"
    # one version: the installed package's metadata takes engine.__version__
    from importlib.metadata import version
    assert version("digitlab") == engine.__version__


def test_bad_options_return_status_2(capsys):
    assert cli.main(["train", "--epochs", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_evaluate_refuses_a_model_file_that_would_break_the_window(offline, capsys, tmp_path):
    """A consistent file for 10x10 images: it loaded, then every 28x28 drawing raised."""
    import json
    from engine.net.model import Config, Model
    m = Model.article_init(Config(3, 5, 7, image_size=10), np.random.RandomState(0))
    np.savez(tmp_path / "small-images.npz", **m.params, config=np.array(json.dumps(m.config.to_dict())),
             norm=np.array(json.dumps(m.norm.to_dict())))
    assert cli.main(["evaluate", str(tmp_path / "small-images.npz")]) == 2
    err = capsys.readouterr().err
    assert "small-images.npz: bad config: 'image_size' is 10" in err and "Traceback" not in err
