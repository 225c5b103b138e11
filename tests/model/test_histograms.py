"""The overlap of note histograms (model/histograms.py), the one measure the
engine chooses fills by and the evaluation compares them with."""

from collections import Counter

import pytest

from midifill.model.histograms import histogram_overlap, pitch_class_overlap
from midifill.model.song import Note


def notes(*pitches):
    return [Note(p, float(i), 1.0) for i, p in enumerate(pitches)]


def test_histogram_overlap_compares_normalised_shapes():
    assert histogram_overlap(Counter({0: 2, 4: 1}), Counter({0: 4, 4: 2})) == pytest.approx(1)
    assert histogram_overlap(Counter({0: 1, 4: 1}), Counter({0: 1})) == pytest.approx(0.5)
    assert histogram_overlap(Counter({0: 1}), Counter({1: 1})) == 0
    assert histogram_overlap(Counter(), Counter({0: 1})) == 0
    assert histogram_overlap(Counter({0: 1}), Counter()) == 0


def test_pitch_class_overlap_compares_shapes_across_octaves():
    assert pitch_class_overlap(notes(60, 64), notes(48, 76)) == pytest.approx(1)
    # C C E G against C E: min(1/2, 1/2) + min(1/4, 1/2) + min(1/4, 0)
    assert pitch_class_overlap(notes(60, 60, 64, 67), notes(60, 64)) == pytest.approx(0.75)
    # C E against C D D D: min(1/2, 1/4), and the same either way round
    assert pitch_class_overlap(notes(60, 64), notes(60, 62, 62, 62)) == pytest.approx(0.25)
    assert pitch_class_overlap(notes(60, 62, 62, 62), notes(60, 64)) == pytest.approx(0.25)
    assert pitch_class_overlap(notes(60), notes(61)) == 0
    assert pitch_class_overlap([], notes(60)) == 0 and pitch_class_overlap(notes(60), []) == 0
