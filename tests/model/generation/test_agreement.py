"""How well two parts agree (model/generation/agreement.py), and the engine's
choice among a later target's fills by that agreement (choose.choice)."""

from midifill.model.generation.agreement import agreement, applies, kick_bass_f1, pair_fit
from midifill.model.generation.choose import agreement_scores, choice
from midifill.model.generation.targets import BASS, DRUMS, HARMONY, MELODY
from midifill.model.song import Note


def n(pitch, start, dur=0.5):
    return Note(pitch, start, dur, 90)


def test_kick_bass_f1_counts_shared_16ths():
    kick = [n(36, 0), n(36, 2), n(42, 1)]  # the hat is not a kick
    assert kick_bass_f1(kick, [n(40, 0), n(40, 2)]) == 1.0
    assert kick_bass_f1(kick, [n(40, 0), n(40, 3)]) == 0.5
    assert kick_bass_f1(kick, [n(40, 1)]) == 0.0
    assert kick_bass_f1([], []) is None


def test_pair_fit_is_the_share_of_notes_the_other_part_sounds():
    bass = [n(36, 0, 2), n(38, 2, 2)]  # C, then D
    chords = [n(60, 0, 4), n(64, 0, 4), n(67, 0, 4)]  # C major held
    # bass: C fits, D does not; each chord note: the bass sounds C at beat 0
    assert pair_fit(bass, chords, 24) == (1 + 1) / 5
    assert pair_fit(bass, [], 24) is None


def test_agreement_applies_to_drums_and_bass_and_to_two_pitched_parts():
    assert applies(DRUMS, BASS) and applies(BASS, DRUMS)
    assert applies(BASS, HARMONY) and applies(MELODY, HARMONY)
    assert not applies(DRUMS, HARMONY) and not applies(DRUMS, DRUMS)
    kick = [n(36, 0), n(36, 2)]
    bass = [n(40, 0), n(40, 1)]
    # the same measure whichever of the two is the part being chosen
    assert agreement(bass, BASS, kick, DRUMS, 24) == agreement(kick, DRUMS, bass, BASS, 24) == 0.5
    assert agreement([n(60, 0)], MELODY, kick, DRUMS, 24) is None


def test_a_later_bass_is_chosen_on_the_new_kick():
    kick = [n(36, 0), n(36, 1.5), n(36, 2)]
    on_kick = [n(40, 0), n(40, 1.5), n(40, 2)]
    off_kick = [n(40, 0.5), n(40, 1), n(40, 3)]
    fills = [off_kick, on_kick]
    assert agreement_scores(fills, BASS, [(DRUMS, kick)], 24) == [0.0, 1.0]
    # the pitch classes alone cannot tell them apart: the kick does
    part = [n(40, b) for b in range(8)]
    assert choice(fills, 1, 24, part=part) == [0]
    assert choice(fills, 1, 24, part=part, role=BASS, heard=[(DRUMS, kick)]) == [1]


def test_chords_are_chosen_on_the_new_bass_and_other_parts_count_for_nothing():
    bass = [n(36, 0, 4)]  # C held
    c_major = [n(60, 0, 4), n(64, 0, 4), n(67, 0, 4)]
    d_minor = [n(62, 0, 4), n(65, 0, 4), n(69, 0, 4)]
    fills = [d_minor, c_major]
    assert choice(fills, 2, 24, role=HARMONY, heard=[(BASS, bass)]) == [1, 0]
    # drums heard by a chord part: no measure applies, nothing is scored
    assert agreement_scores(fills, HARMONY, [(DRUMS, [n(36, 0)])], 24) is None
    assert choice(fills, 2, 24, role=HARMONY, heard=[(DRUMS, [n(36, 0)])]) == [0, 1]
