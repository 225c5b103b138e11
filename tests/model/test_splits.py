"""One split rule (model/splits.py) for the corpus builder and for training
from a plain folder of MIDI files."""

from midifill.model.midi_io import write_midi
from midifill.model.song import Note, Song, TimeSignature, Track
from midifill.model.splits import SPLITS, split_of
from midifill.model.training.dataset import midi_files


def test_a_plain_folder_splits_by_piece_as_the_corpus_does(tmp_path):
    song = Song([Track("t", 0, False, [Note(60, 0.0, 1.0)])], [TimeSignature(0.0, 4, 4)])
    pieces = [f"piece{i}" for i in range(60)]
    for piece in pieces:
        for variant in ("a", "b"):  # two files of one piece never part
            write_midi(song, tmp_path / f"{piece}__{variant}.mid")
    found = {s: midi_files(tmp_path, s) for s in SPLITS}
    assert sum(len(v) for v in found.values()) == 120
    for split, files in found.items():
        for f in files:
            assert split_of(f.stem.split("__")[0]) == split
    # the rule is not "everything in train": 60 pieces reach at least two splits
    assert sum(1 for v in found.values() if v) >= 2
