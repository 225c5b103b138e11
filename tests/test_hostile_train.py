"""Broken training folders: each is reported in a sentence, nothing outside
the corpus folder is read, and a missing matplotlib costs only the plot."""

import json
import logging
import shutil
import sys

import pytest

from midifill.model.training.dataset import midi_files
from midifill.model.training.progress import plot_loss


def test_bad_manifest_lines_are_skipped_and_reported(tmp_path, fixtures_dir, caplog):
    corpus = tmp_path / "corpus"
    (corpus / "midi").mkdir(parents=True)
    shutil.copy(fixtures_dir / "jig_6-8.mid", corpus / "midi" / "jig.mid")
    outside = tmp_path / "secret.mid"
    shutil.copy(fixtures_dir / "jig_6-8.mid", outside)
    rows = [
        json.dumps({"path": "midi/jig.mid", "split": "train"}),
        "this is not json",
        json.dumps({"path": "../secret.mid", "split": "train"}),
        json.dumps({"path": str(outside), "split": "train"}),
        json.dumps({"path": "../../../../../../etc/passwd", "split": "train"}),
        json.dumps(["midi/jig.mid"]),
        json.dumps({"path": 7, "split": "train"}),
        "[" * 5000,
    ]
    (corpus / "manifest.jsonl").write_text("\n".join(rows) + "\n")
    caplog.set_level(logging.WARNING)
    assert midi_files(corpus, "train") == [corpus / "midi" / "jig.mid"]
    text = caplog.text
    assert "7 lines skipped" in text and "line 2: not JSON" in text
    assert "'../secret.mid' is outside" in text


def test_a_missing_data_folder_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no such folder"):
        midi_files(tmp_path / "nope", "train")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit, match="not a folder"):
        midi_files(tmp_path / "file", "train")


def test_training_goes_on_without_matplotlib(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    caplog.set_level(logging.WARNING)
    plot_loss({"train": [[1, 2.0]], "valid": []}, tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists() and "no loss plot" in caplog.text
