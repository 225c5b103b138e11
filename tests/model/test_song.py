"""model/song.py: the write-back rule every face uses (Song.with_notes_replaced,
by the engine between chunks, `midifill generate` and the demo), the bar
grid and the request payload, at their edges."""

import pytest

from midifill.model.song import Bar, Note, Song, TempoChange, TimeSignature, Track

pytestmark = pytest.mark.promise


def song():
    target = Track(
        "t",
        33,
        False,
        [
            Note(40, 3.5, 2.0, 90),  # before the range, sounding into it
            Note(41, 4.0, 0.5, 91),  # at the range start
            Note(42, 7.75, 1.0, 92),  # inside, sounding past the end
            Note(43, 8.0, 0.5, 93),  # at the range end
            Note(44, 1.0, 0.5, 94),
        ],
        "Bass",
    )
    other = Track("o", 0, True, [Note(36, 4.0, 0.25, 100), Note(38, 5.0, 0.25, 100)], "Kit")
    return Song(
        [target, other],
        [TimeSignature(0.0, 4, 4), TimeSignature(8.0, 3, 4)],
        [TempoChange(0.0, 100.0), TempoChange(8.0, 90.0)],
    )


def test_notes_starting_in_the_range_are_replaced_and_nothing_else_changes():
    before = song()
    new = [Note(60, 6.0, 1.0, 80), Note(50, 4.0, 4.0, 70), Note(55, 4.0, 1.0, 70)]
    after = before.with_notes_replaced("t", 4.0, 8.0, new)
    t = after.track("t")
    assert [(n.pitch, n.start) for n in t.notes] == [
        (44, 1.0),
        (40, 3.5),
        (50, 4.0),
        (55, 4.0),
        (60, 6.0),
        (43, 8.0),
    ]  # by start, pitch
    assert (t.id, t.program, t.is_drum, t.name) == ("t", 33, False, "Bass")
    o = after.track("o")
    assert o == before.track("o") and o is not before.track("o")
    assert o.notes is not before.track("o").notes  # a copy, safe to change
    assert after.time_signatures == before.time_signatures
    assert after.tempos == before.tempos
    assert [n.pitch for n in before.track("t").notes] == [40, 41, 42, 43, 44]  # unchanged
    # no notes: the range is emptied, the edges kept
    empty = before.with_notes_replaced("t", 4.0, 8.0, [])
    assert [n.pitch for n in empty.track("t").notes] == [44, 40, 43]
    # an unknown track changes nothing
    assert before.with_notes_replaced("x", 0.0, 99.0, new).tracks == before.tracks


def test_bars_follow_the_signatures_and_a_change_mid_bar_cuts_the_bar():
    s = Song([], [TimeSignature(0.0, 4, 4), TimeSignature(6.0, 3, 4), TimeSignature(9.0, 6, 8)])
    bars = s.bars(until=20.0)
    assert [(b.index, b.start, b.numerator, b.denominator) for b in bars] == [
        (0, 0.0, 4, 4),
        (1, 4.0, 4, 4),
        (2, 6.0, 3, 4),
        (3, 9.0, 6, 8),
        (4, 12.0, 6, 8),
        (5, 15.0, 6, 8),
        (6, 18.0, 6, 8),
    ]
    assert bars[1].beats == 4.0 and bars[1].end == 8.0  # the bar itself is whole
    assert [b.start for b in s.bars(until=18.0)][-1] == 15.0  # bars cover until, no more
    assert len(s.bars(until=18.0 + 1e-12)) == 6


def test_bars_before_the_first_signature_and_at_the_edges():
    late = Song([], [TimeSignature(6.0, 3, 4)])  # no change at beat 0: the first rules from 0
    assert [(b.start, b.numerator) for b in late.bars(until=9.0)] == [(0.0, 3), (3.0, 3), (6.0, 3)]
    none = Song([], [])
    assert [(b.start, b.numerator, b.denominator) for b in none.bars(until=8.0)] == [
        (0.0, 4, 4),
        (4.0, 4, 4),
    ]
    assert [b.start for b in Song().bars(until=0.0)] == [0.0]  # always at least one bar
    assert [b.start for b in Song().bars(until=-3.0)] == [0.0]
    assert [b.start for b in Song().bars(until=0.5)] == [0.0]
    two = Song([Track("a", 0, False, [Note(60, 4.0, 1.5, 90)])])
    assert [b.start for b in two.bars()] == [0.0, 4.0]  # until the last note's end
    assert Bar(0, 0.0, 6, 8).beats == 3.0 and Bar(0, 1.0, 7, 8).end == 4.5


def test_bar_span_counts_from_1_and_reaches_past_the_end():
    s = Song(
        [Track("a", 0, False, [Note(60, 0.0, 1.0, 90)])],
        [TimeSignature(0.0, 4, 4), TimeSignature(4.0, 3, 4)],
    )
    assert s.bar_span(1, 1) == (0.0, 4.0)
    assert s.bar_span(2, 3) == (4.0, 10.0)
    assert s.bar_span(5, 40) == (13.0, 121.0)  # the last signature goes on
    for first, last in [(0, 1), (3, 2), (-1, 4)]:
        with pytest.raises(ValueError, match="need 1 <= first <= last"):
            s.bar_span(first, last)


def test_payload_is_the_request_contracts_song_part():
    payload = song().to_payload()
    assert payload["time_signature"] == [4, 4] and payload["tempo"] == 100.0
    assert payload["time_signatures"] == [[0.0, 4, 4], [8.0, 3, 4]]
    assert payload["tempos"] == [[0.0, 100.0], [8.0, 90.0]]
    t = payload["tracks"][0]
    assert (t["id"], t["name"], t["program"], t["is_drum"]) == ("t", "Bass", 33, False)
    assert t["notes"][:2] == [[44, 1.0, 0.5, 94], [40, 3.5, 2.0, 90]]  # sorted by start
    plain = Song(
        [Track("a", 5, False, [Note(60, 1 / 3, 0.25, 90)])],
        [TimeSignature(0.0, 7, 8)],
        [TempoChange(0.0, 77.5)],
    ).to_payload()
    assert set(plain) == {"time_signature", "tempo", "tracks"}
    assert plain["time_signature"] == [7, 8] and plain["tempo"] == 77.5
    assert plain["tracks"][0]["notes"] == [[60, 0.333333, 0.25, 90]]
    assert Song([], [], []).to_payload()["time_signature"] == [4, 4]
    assert Song([], [], []).tempo == 120.0


def test_notes_and_tracks():
    assert Note.from_list([60.0, "1.5", 2, 90.0]) == Note(60, 1.5, 2.0, 90)
    n = Note.from_list((61, 0, 1, 100))
    assert type(n.pitch) is int and type(n.start) is float and type(n.velocity) is int
    assert Note(60, 1.0, 0.5, 90).end == 1.5 and Note(60, 1.0, 0.5).velocity == 96
    t = Track("x", 0, False, [Note(60, 2.0, 1.0), Note(61, 0.5, 1.0), Note(59, 2.0, 1.0)])
    assert [n.pitch for n in t.sorted_notes()] == [61, 59, 60]
    assert [n.pitch for n in t.notes_in(0.5, 2.0)] == [61]
    assert [n.pitch for n in t.notes_in(1.0, 2.5)] == [60, 59]
    with pytest.raises(KeyError):
        Song([t]).track("y")
    assert Song([t]).track("x") is t


def test_a_signature_change_inside_a_bars_first_or_last_beat_cuts_it():
    for change, starts in [(5.0, [0.0, 4.0, 5.0, 8.0]), (7.5, [0.0, 4.0, 7.5, 10.5])]:
        s = Song([], [TimeSignature(0.0, 4, 4), TimeSignature(change, 3, 4)])
        assert [b.start for b in s.bars(until=11.0)] == starts, change
        assert [b.numerator for b in s.bars(until=11.0)] == [4, 4, 3, 3]


def test_short_bars_before_beat_1():
    eighth = Song([], [TimeSignature(0.0, 1, 8)])  # half-beat bars
    assert [b.start for b in eighth.bars(until=1.0)] == [0.0, 0.5]
    with pytest.raises(KeyError, match="'nope'"):
        eighth.track("nope")
